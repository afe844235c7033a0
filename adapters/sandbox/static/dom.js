// Small DOM and HTTP helpers. Every piece of text goes in through text nodes, never innerHTML,
// so customer and agent text can't inject markup.

/** Create an element: el("p", {class: "x", onclick: fn}, "text", childNode, [more]). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
    else if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key === "value") node.value = value;
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replace all children of a node. */
export function fill(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

/** A link to a source, only for http(s) URLs; otherwise plain text. */
export function safeLink(url, text) {
  if (typeof url === "string" && /^https?:\/\//i.test(url)) {
    return el("a", {href: url, target: "_blank", rel: "noopener noreferrer"}, text);
  }
  return el("span", {}, text);
}

/** "14:05" in the browser's time zone. */
export function hhmm(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  return date.toLocaleTimeString([], {hour: "2-digit", minute: "2-digit", hour12: false});
}

let csrfToken = "";

/** The session's CSRF token (from /auth/me); every POST carries it. */
export function useCsrfToken(token) { csrfToken = token || ""; }

/** GET or POST JSON; resolves to {status, ok, data} and never throws for HTTP errors. */
export async function api(path, body) {
  const headers = {"Content-Type": "application/json", "X-CSRF-Token": csrfToken};
  const options = body === undefined ? {} : {method: "POST", headers, body: JSON.stringify(body)};
  try {
    const response = await fetch(path, options);
    const data = await response.json().catch(() => ({error: `HTTP ${response.status}`}));
    return {status: response.status, ok: response.ok, data};
  } catch (error) {
    return {status: 0, ok: false, data: {error: "The sandbox server is not reachable. Is `baton serve` still running?"}};
  }
}

/** A short random id for conversations and message event ids. */
export function randomId(prefix) {
  const bytes = crypto.getRandomValues(new Uint8Array(6));
  return prefix + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Remember small settings between reloads. */
export const saved = {
  get(key, fallback) {
    try { return JSON.parse(localStorage.getItem("baton." + key)) ?? fallback; } catch { return fallback; }
  },
  set(key, value) {
    try { localStorage.setItem("baton." + key, JSON.stringify(value)); } catch { /* private mode */ }
  },
};
