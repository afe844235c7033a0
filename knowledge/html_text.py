"""Turn a crawled docs page into citable text: headings with their anchors, paragraphs, code, links.

Why not :func:`knowledge.loaders.parse_html`: a live docs site wraps every article in a site
header, a navigation tree, a table of contents and a footer that repeat on every page and
would drown the article in search.  This parser (standard library ``html.parser``, no extra
dependency) keeps only the content: when the page marks it with ``<main>`` (or
``role="main"``), or else ``<article>``, only that part; and it always drops ``nav``,
``aside``, scripts, styles, forms, a top-level ``header``/``footer`` and elements whose role
or class says they are navigation, a sidebar or a table of contents.

It also keeps what the crawler and the citations need: every ``<a href>`` of the page (nav
included: that is how pages are found), the ``<link rel="canonical">``, the robots meta tag,
and each heading's anchor id (its own ``id``, else the ``id`` of the element it opens, such
as Sphinx's ``<section id=...>``, else its permalink ``<a href="#...">``).  A heading with no
id of its own cites the nearest enclosing heading that has one.

:func:`page_markdown` writes the result as a Markdown file with front matter that the
folder loader reads back (``## Heading {#anchor}`` keeps the anchor).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

__all__ = ["Block", "Page", "page_markdown", "parse_page"]

_SKIP_TAGS = {"script", "style", "noscript", "template", "svg", "iframe", "nav", "aside", "form",
              "button", "select", "textarea", "canvas", "object", "dialog"}
_SITE_CHROME = {"header", "footer"}  # boilerplate unless inside the main content
_SKIP_ROLES = {"navigation", "banner", "contentinfo", "search", "complementary"}
_SKIP_CLASSES = {"headerlink", "sidebar", "toc", "breadcrumb", "breadcrumbs", "skip-link", "sr-only",
                 "visually-hidden", "md-sidebar", "md-header", "md-footer", "edit-page", "md-source"}
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr"}
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4}
_BLOCKS = {"p", "div", "li", "dt", "dd", "blockquote", "tr", "table", "ul", "ol", "section", "article",
           "main", "figure", "figcaption", "details", "summary", "h5", "h6", "header", "footer", "hr", "br"}


@dataclass(frozen=True, slots=True)
class Block:
    """One piece of a page's content: a heading (with its anchor), a paragraph, or code."""

    kind: str  # "heading" | "text" | "code"
    text: str
    level: int = 0
    anchor: str = ""


@dataclass(slots=True)
class Page:
    """What a crawled HTML page says, and where it points."""

    title: str
    canonical: str | None
    blocks: list[Block]
    links: list[str] = field(default_factory=list)
    noindex: bool = False
    nofollow: bool = False

    @property
    def has_text(self) -> bool:
        """Whether the page has any words besides its headings."""
        return any(b.kind != "heading" and b.text.strip() for b in self.blocks)


@dataclass(slots=True)
class _Open:
    """An element still open while parsing, with what it means for the text inside it."""

    tag: str
    skip: bool
    main: bool
    article: bool


class _PageParser(HTMLParser):
    """Collects content blocks, links and head metadata in one pass (see the module docstring)."""

    def __init__(self, *, url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.base = url
        self.title_tag = ""
        self.canonical: str | None = None
        self.robots = ""
        self.links: list[str] = []
        self.blocks: list[tuple[Block, bool, bool]] = []  # block, in main, in article
        self._stack: list[_Open] = []
        self._buffer: list[str] = []
        self._anchors: list[tuple[str, int]] = []  # (href, where its text starts in the buffer)
        self._heading: tuple[int, str, list[str]] | None = None
        self._pending_id = ""
        self._pre: list[str] | None = None
        self._in_title = False
        self._bullet = False
        self._anchor_by_level: dict[int, str] = {}

    # ------------------------------------------------------------------ state

    @property
    def _skipping(self) -> bool:
        return bool(self._stack) and self._stack[-1].skip

    def _flags(self) -> tuple[bool, bool]:
        top = self._stack[-1] if self._stack else None
        return (top.main, top.article) if top else (False, False)

    def _opens_skip(self, tag: str, attr: dict[str, str]) -> bool:
        if tag in _SKIP_TAGS or attr.get("role", "").lower() in _SKIP_ROLES:
            return True
        if "hidden" in attr or attr.get("aria-hidden", "").lower() == "true":
            return True
        if tag in _SITE_CHROME and not any(o.main or o.article for o in self._stack[-1:]):
            return True
        return bool(_SKIP_CLASSES & set(attr.get("class", "").lower().split()))

    # ------------------------------------------------------------------ parser callbacks

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {k.lower(): (v or "") for k, v in attrs}
        self._head_tag(tag, attr)
        if tag == "a" and attr.get("href"):
            self._link(attr)
        if self._heading is not None:
            self._heading_anchor(attr)
        if tag in _VOID:
            if tag in ("br", "hr") and not self._skipping:
                self._newline()
            return
        parent = self._stack[-1] if self._stack else _Open("", False, False, False)
        skip = parent.skip or self._opens_skip(tag, attr)
        if not skip:
            self._content_start(tag, attr)  # flushes text before it in the parent's context
        elif not parent.skip:
            self._flush()
        main = parent.main or tag == "main" or attr.get("role", "").lower() == "main"
        self._stack.append(_Open(tag, skip, main, parent.article or tag == "article"))

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        if not any(o.tag == tag for o in self._stack):
            return
        while self._stack:
            closed = self._stack[-1]
            if not closed.skip:
                self._content_end(closed.tag)  # still open: its text keeps its context
            self._stack.pop()
            if closed.tag == tag:
                break

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title_tag += data
        elif self._skipping:
            return
        elif self._pre is not None:
            self._pre.append(data)
        elif self._heading is not None:
            self._heading[2].append(data)
        else:
            self._buffer.append(data)
            if data.strip():
                self._pending_id = ""

    def close(self) -> None:
        super().close()
        while self._stack:
            self.handle_endtag(self._stack[-1].tag)
        self._flush()

    # ------------------------------------------------------------------ head and links

    def _head_tag(self, tag: str, attr: dict[str, str]) -> None:
        if tag == "title":
            self._in_title = True
        elif tag == "base" and attr.get("href"):
            self.base = urljoin(self.base, attr["href"])
        elif tag == "link" and "canonical" in attr.get("rel", "").lower().split() and attr.get("href"):
            self.canonical = self.canonical or urljoin(self.base, attr["href"].strip())
        elif tag == "meta" and attr.get("name", "").lower() in ("robots", "batonbot"):
            self.robots += " " + attr.get("content", "").lower()

    def _link(self, attr: dict[str, str]) -> None:
        href = urljoin(self.base, attr["href"].strip())
        if "nofollow" not in attr.get("rel", "").lower().split():
            self.links.append(href)
        if not self._skipping and self._heading is None and self._pre is None:
            self._anchors.append((href, len(self._buffer)))

    def _heading_anchor(self, attr: dict[str, str]) -> None:
        level, anchor, words = self._heading
        if anchor:
            return
        found = attr.get("id") or attr.get("name") or ""
        href = attr.get("href", "")
        if not found and href.startswith("#") and len(href) > 1:
            found = href[1:]
        if found:
            self._heading = (level, found, words)

    # ------------------------------------------------------------------ content

    def _content_start(self, tag: str, attr: dict[str, str]) -> None:
        if tag in _HEADINGS:
            self._flush()
            self._heading = (_HEADINGS[tag], attr.get("id", "") or self._pending_id, [])
        elif tag == "pre":
            self._flush()
            self._pre = []
        elif tag in _BLOCKS:
            self._flush()
            self._bullet = self._bullet or tag == "li"
        elif tag in ("td", "th") and "".join(self._buffer).strip():
            self._buffer.append(" | ")
        if attr.get("id") and tag not in _HEADINGS:
            self._pending_id = attr["id"]

    def _content_end(self, tag: str) -> None:
        if tag in _HEADINGS and self._heading is not None:
            self._end_heading()
        elif tag == "pre" and self._pre is not None:
            code = "".join(self._pre).strip("\n")
            self._pre = None
            if code.strip():
                self._emit(Block("code", code))
        elif tag == "a" and self._anchors:
            self._end_link()
        elif tag in _BLOCKS:
            self._flush()

    def _end_heading(self) -> None:
        level, anchor, words = self._heading
        self._heading = None
        text = " ".join(" ".join(words).split())
        for deeper in [lv for lv in self._anchor_by_level if lv >= level]:
            del self._anchor_by_level[deeper]
        if anchor:
            self._anchor_by_level[level] = anchor
        else:  # cite the nearest enclosing heading that has an id
            anchor = next((self._anchor_by_level[lv] for lv in sorted(self._anchor_by_level, reverse=True)), "")
        self._pending_id = ""
        if text:
            self._emit(Block("heading", text, level=level, anchor=anchor))

    def _end_link(self) -> None:
        href, start = self._anchors.pop()
        text = " ".join("".join(self._buffer[start:]).split())
        if text and _cites(href, base=self.base) and text != href:
            self._buffer[start:] = [f"[{text}]({href})"]

    def _newline(self) -> None:
        if self._pre is not None:
            self._pre.append("\n")
        else:
            self._flush()

    def _flush(self) -> None:
        text = " ".join("".join(self._buffer).split())
        self._buffer, self._anchors = [], []
        if text:
            self._emit(Block("text", f"- {text}" if self._bullet else text))
            self._bullet = False

    def _emit(self, block: Block) -> None:
        main, article = self._flags()
        self.blocks.append((block, main, article))


def _cites(href: str, *, base: str) -> bool:
    """Whether a link's target is worth keeping next to its text: another http(s) page."""
    parts, here = urlsplit(href), urlsplit(base)
    if parts.scheme not in ("http", "https"):
        return False
    return (parts.netloc, parts.path, parts.query) != (here.netloc, here.path, here.query)


def _content_blocks(blocks: list[tuple[Block, bool, bool]]) -> list[Block]:
    """Only the main content when the page marks it (``main``, else ``article``), else everything."""
    if any(main for _, main, _ in blocks):
        return [b for b, main, _ in blocks if main]
    if any(article for _, _, article in blocks):
        return [b for b, _, article in blocks if article]
    return [b for b, _, _ in blocks]


def parse_page(html: str, *, url: str) -> Page:
    """Parse one fetched HTML page (``url`` is where it was fetched, for relative links)."""
    parser = _PageParser(url=url)
    parser.feed(html)
    parser.close()
    blocks = _content_blocks(parser.blocks)
    title = " ".join(parser.title_tag.split())
    first = next((i for i, b in enumerate(blocks) if b.kind == "heading"), None)
    if first is not None and blocks[first].level == 1:
        title = blocks.pop(first).text  # the article's own title is not a section of it
    robots = set(re.split(r"[\s,]+", parser.robots))
    return Page(title=title, canonical=parser.canonical, blocks=blocks, links=list(dict.fromkeys(parser.links)),
                noindex=bool({"noindex", "none"} & robots), nofollow=bool({"nofollow", "none"} & robots))


# --------------------------------------------------------------------------- markdown


def page_markdown(page: Page, *, url: str, fetched: str) -> str:
    """The page as a Markdown file the folder loader reads back: front matter, then blocks.

    ``url`` (the canonical address) becomes every passage's citation; ``fetched`` is kept
    for operators.  Nothing time-dependent is written, so an unchanged page gives the same
    bytes and the index does not embed it again.
    """
    title = " ".join(page.title.split()) or url
    lines = ["---", f"url: {url}", f"title: {title}", f"fetched: {fetched}", "---", ""]
    for block in page.blocks:
        lines.extend([_markdown_block(block), ""])
    return "\n".join(lines).rstrip() + "\n"


def _markdown_block(block: Block) -> str:
    if block.kind == "heading":
        anchor = f" {{#{block.anchor}}}" if block.anchor and not re.search(r"[\s{}]", block.anchor) else ""
        return f"{'#' * max(1, min(block.level, 6))} {block.text.rstrip('#').strip()}{anchor}"
    if block.kind == "code":
        fence = "~~~~" if "```" in block.text else "```"
        return f"{fence}\n{block.text}\n{fence}"
    text = block.text
    return "\\" + text if re.match(r"#|```|~~~|---", text) else text
