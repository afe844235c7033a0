// KPI charts: the server's inline SVG (bot.ops.charts), rebuilt node by node through an allow-list,
// so nothing from the server reaches the page as markup (no innerHTML, no scripts, no links).
const SVG_NS = "http://www.w3.org/2000/svg";
const TAGS = new Set(["svg", "title", "desc", "g", "text", "tspan", "rect", "line", "polyline", "path", "circle"]);
const ATTRIBUTES = /^(class|role|aria-label|viewbox|width|height|x|y|x1|x2|y1|y2|dx|dy|cx|cy|r|rx|ry|d|points|fill|stroke|stroke-width|opacity|font-family|font-size|font-weight|text-anchor|transform|data-chart)$/i;

function rebuild(source) {
  if (source.namespaceURI !== SVG_NS || !TAGS.has(source.localName)) return null;
  const node = document.createElementNS(SVG_NS, source.localName);
  for (const attr of source.attributes) {
    if (ATTRIBUTES.test(attr.name)) node.setAttribute(attr.name, attr.value);
  }
  for (const child of source.childNodes) {
    if (child.nodeType === Node.TEXT_NODE) node.appendChild(document.createTextNode(child.textContent));
    else if (child.nodeType === Node.ELEMENT_NODE) {
      const copy = rebuild(child);
      if (copy) node.appendChild(copy);
    }
  }
  return node;
}

/** The <svg class="baton-chart"> elements of the server's chart HTML, safely rebuilt. */
export function chartNodes(html) {
  if (!html) return [];
  const parsed = new DOMParser().parseFromString(html, "text/html");  // inert: nothing runs
  return Array.from(parsed.querySelectorAll("svg.baton-chart"), rebuild).filter(Boolean);
}
