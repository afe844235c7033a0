"""Rebuild tests/knowledge_web/site/ from the HTTPX documentation (see site/SOURCE.md).

Usage: python tests/knowledge_web/build_site.py PATH/TO/httpx/docs

HTTPX builds its docs with MkDocs (Material theme); this script renders the same Markdown
pages into the same page shape MkDocs Material produces (site header, primary navigation
sidebar, table-of-contents sidebar, ``<main>`` with the ``<article>``, footer with previous /
next links, ``<link rel="canonical">`` on the real site URL, ``<h2 id=...>`` with a ``¶``
permalink, directory URLs), without needing MkDocs installed.  Only a subset of Markdown is
understood: what these pages use.
"""

from __future__ import annotations

import html
import posixpath
import re
import sys
import unicodedata
from pathlib import Path

SITE_URL = "https://www.python-httpx.org/"
HERE = Path(__file__).resolve().parent / "site"

# (nav title, markdown file) in the order of HTTPX's mkdocs.yml, trimmed to the pages kept.
NAV = [
    ("Introduction", "index.md"),
    ("QuickStart", "quickstart.md"),
    ("Clients", "advanced/clients.md"),
    ("Authentication", "advanced/authentication.md"),
    ("SSL", "advanced/ssl.md"),
    ("Proxies", "advanced/proxies.md"),
    ("Timeouts", "advanced/timeouts.md"),
    ("Resource Limits", "advanced/resource-limits.md"),
    ("Event Hooks", "advanced/event-hooks.md"),
    ("Async Support", "async.md"),
    ("HTTP/2 Support", "http2.md"),
    ("Troubleshooting", "troubleshooting.md"),
    ("Exceptions", "exceptions.md"),
    ("Environment Variables", "environment_variables.md"),
    ("Code of Conduct", "code_of_conduct.md"),
]


def url_path(md: str) -> str:
    """MkDocs directory URLs: ``advanced/ssl.md`` -> ``advanced/ssl/``, ``index.md`` -> ``''``."""
    stem = md[:-3]
    return "" if stem == "index" else stem + "/"


def relative(from_md: str, to_path: str) -> str:
    """A relative href from one page's directory URL to another site path (as MkDocs writes)."""
    target = "/" + to_path
    rel = posixpath.relpath(target, "/" + url_path(from_md))
    if rel == ".":
        return "./"
    return rel + ("/" if target.endswith("/") else "")


def slugify(text: str, seen: dict[str, int]) -> str:
    """Python-Markdown's toc slugify, with ``_1``, ``_2`` for repeats."""
    value = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    value = re.sub(r"[^\w\s-]", "", value).strip().lower()
    slug = re.sub(r"[-\s]+", "-", value)
    count = seen.get(slug, 0)
    seen[slug] = count + 1
    return slug if count == 0 else f"{slug}_{count}"


def inline(text: str, *, page: str) -> str:
    """Inline Markdown: code, images, links (``.md`` targets become site URLs), bold, italics."""
    codes: list[str] = []

    def keep_code(match: re.Match) -> str:
        codes.append(f"<code>{html.escape(match.group(1))}</code>")
        return f"\x00{len(codes) - 1}\x00"

    text = re.sub(r"`([^`]+)`", keep_code, text)
    text = html.escape(text, quote=False)
    text = re.sub(r"!\[([^\]]*)\]\(([^)\s]+)\)", lambda m: f'<img alt="{m.group(1)}" src="{_href(m.group(2), page)}">', text)
    text = re.sub(r"\[([^\]]+)\]\(([^)\s]+)\)", lambda m: f'<a href="{_href(m.group(2), page)}">{m.group(1)}</a>', text)
    text = re.sub(r"&lt;(https?://[^&\s]+)&gt;", r'<a href="\1">\1</a>', text)
    text = re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", text)
    text = re.sub(r"(?<![\w*])\*([^*\s][^*]*)\*(?!\w)", r"<em>\1</em>", text)
    return re.sub(r"\x00(\d+)\x00", lambda m: codes[int(m.group(1))], text)


def _href(target: str, page: str) -> str:
    if re.match(r"[a-z]+:", target) or target.startswith("#"):
        return target
    path, _, fragment = target.partition("#")
    resolved = posixpath.normpath(posixpath.join(posixpath.dirname(page), path))
    site_path = url_path(resolved) if resolved.endswith(".md") else resolved
    href = relative(page, site_path)
    return f"{href}#{fragment}" if fragment else href


def render(lines: list[str], *, page: str, seen: dict[str, int], toc: list) -> str:
    """Block Markdown to HTML: headings, fences, admonitions, lists, tables, raw HTML, paragraphs."""
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            i += 1
        elif line.lstrip().startswith("```"):
            i = _fence(lines, i, out)
        elif match := re.match(r"(#{1,6})\s+(.*?)\s*#*$", line):
            level, text = len(match.group(1)), match.group(2)
            anchor = slugify(re.sub(r"<[^>]+>|\[([^\]]*)\]\([^)]*\)", r"\1", text).replace("`", ""), seen)
            if level > 1:
                toc.append((level, anchor, re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text).replace("`", "")))
            out.append(f'<h{level} id="{anchor}">{inline(text, page=page)}<a class="headerlink" href="#{anchor}" title="Permanent link">&para;</a></h{level}>')
            i += 1
        elif match := re.match(r'!!!\s+(\w+)(?:\s+"([^"]*)")?', line):
            body, i = _indented(lines, i + 1)
            kind, title = match.group(1), match.group(2) or match.group(1).capitalize()
            out.append(f'<div class="admonition {kind}">\n<p class="admonition-title">{html.escape(title)}</p>\n'
                       f"{render(body, page=page, seen=seen, toc=toc)}\n</div>")
        elif re.match(r"\s*([*-]|\d+\.)\s+", line):
            i = _list(lines, i, out, page=page)
        elif line.startswith("|"):
            i = _table(lines, i, out, page=page)
        elif line.startswith("<"):
            while i < len(lines) and lines[i].strip():
                out.append(lines[i])
                i += 1
        elif re.fullmatch(r"-{3,}|\*{3,}", line.strip()):
            out.append("<hr>")
            i += 1
        else:
            para = []
            while i < len(lines) and lines[i].strip() and not re.match(r"(#{1,6}\s|```|!!!|\s*[*-]\s|\d+\.\s|\|)", lines[i]):
                para.append(lines[i].strip())
                i += 1
            out.append(f"<p>{inline(' '.join(para), page=page)}</p>")
    return "\n".join(out)


def _fence(lines: list[str], i: int, out: list[str]) -> int:
    indent = len(lines[i]) - len(lines[i].lstrip())
    lang = lines[i].strip()[3:].strip()
    code, i = [], i + 1
    while i < len(lines) and not lines[i].strip().startswith("```"):
        code.append(lines[i][indent:])
        i += 1
    cls = f' class="language-{lang}"' if lang else ""
    out.append(f'<div class="highlight"><pre><span></span><code{cls}>{html.escape(chr(10).join(code))}</code></pre></div>')
    return i + 1


def _indented(lines: list[str], i: int) -> tuple[list[str], int]:
    body = []
    while i < len(lines) and (lines[i].startswith("    ") or not lines[i].strip()):
        if not lines[i].strip() and (i + 1 >= len(lines) or not lines[i + 1].startswith("    ")):
            break
        body.append(lines[i][4:])
        i += 1
    return body, i


def _list(lines: list[str], i: int, out: list[str], *, page: str) -> int:
    """A (possibly nested) list: deeper indentation opens a nested list inside the item."""
    stack: list[tuple[int, str]] = []
    while i < len(lines) and (match := re.match(r"(\s*)([*-]|\d+\.)\s+(.*)", lines[i])):
        indent, tag = len(match.group(1)), "ol" if match.group(2)[0].isdigit() else "ul"
        text = [match.group(3)]
        i += 1
        while i < len(lines) and lines[i].strip() and not re.match(r"\s*([*-]|\d+\.)\s+", lines[i]):
            text.append(lines[i].strip())
            i += 1
        while stack and stack[-1][0] > indent:
            out.append(f"</li></{stack.pop()[1]}>")
        if stack and stack[-1][0] == indent:
            out.append("</li>")
        else:
            out.append(f"<{tag}>")
            stack.append((indent, tag))
        out.append(f"<li>{inline(' '.join(text), page=page)}")
        if i < len(lines) and not lines[i].strip() and i + 1 < len(lines) and re.match(r"\s*([*-]|\d+\.)\s+", lines[i + 1]):
            i += 1
    while stack:
        out.append(f"</li></{stack.pop()[1]}>")
    return i


def _table(lines: list[str], i: int, out: list[str], *, page: str) -> int:
    rows = []
    while i < len(lines) and lines[i].startswith("|"):
        cells = [c.strip() for c in lines[i].strip().strip("|").split("|")]
        if not all(re.fullmatch(r":?-+:?", c) for c in cells):
            rows.append(cells)
        i += 1
    head, *body = rows
    out.append("<table>\n<thead><tr>" + "".join(f"<th>{inline(c, page=page)}</th>" for c in head) + "</tr></thead>\n<tbody>")
    out.extend("<tr>" + "".join(f"<td>{inline(c, page=page)}</td>" for c in row) + "</tr>" for row in body)
    out.append("</tbody></table>")
    return i


TEMPLATE = """<!doctype html>
<html lang="en" class="no-js">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width,initial-scale=1">
    <meta name="description" content="A next-generation HTTP client for Python.">
    <link rel="canonical" href="{canonical}">
    {prev_link}{next_link}<link rel="icon" href="{root}img/logo.jpg">
    <meta name="generator" content="mkdocs-1.6.1, mkdocs-material-9.5.49">
    <title>{title_tag}</title>
    <link rel="stylesheet" href="{root}assets/stylesheets/main.6f8fc17f.min.css">
    <link rel="stylesheet" href="{root}css/custom.css">
    <script>__md_scope=new URL("{root}",location),__md_hash=e=>[...e].reduce(((e,_)=>(e<<5)-e+_.charCodeAt(0)),0)</script>
  </head>
  <body dir="ltr" data-md-color-scheme="default">
    <input class="md-toggle" data-md-toggle="drawer" type="checkbox" id="__drawer" autocomplete="off">
    <a href="#{first_anchor}" class="md-skip">Skip to content</a>
    <header class="md-header md-header--shadow" data-md-component="header">
      <nav class="md-header__inner md-grid" aria-label="Header">
        <a href="{root}" title="HTTPX" class="md-header__button md-logo" aria-label="HTTPX" data-md-component="logo"><img src="{root}img/logo.jpg" alt="logo"></a>
        <div class="md-header__title" data-md-component="header-title"><span class="md-ellipsis">HTTPX</span> <span class="md-ellipsis">{title}</span></div>
        <div class="md-search" data-md-component="search" role="dialog"><form class="md-search__form" name="search"><input type="text" class="md-search__input" name="query" aria-label="Search" placeholder="Search"></form></div>
        <div class="md-header__source"><a href="https://github.com/encode/httpx/" title="Go to repository" class="md-source" data-md-component="source">encode/httpx</a></div>
      </nav>
    </header>
    <div class="md-container" data-md-component="container">
      <main class="md-main" data-md-component="main">
        <div class="md-main__inner md-grid">
          <div class="md-sidebar md-sidebar--primary" data-md-component="sidebar" data-md-type="navigation">
            <div class="md-sidebar__scrollwrap"><div class="md-sidebar__inner">
              <nav class="md-nav md-nav--primary" aria-label="Navigation" data-md-level="0">
                <label class="md-nav__title" for="__drawer"><a href="{root}" title="HTTPX" class="md-nav__button md-logo" aria-label="HTTPX">HTTPX</a> HTTPX</label>
                <ul class="md-nav__list" data-md-scrollfix>
{nav}
                </ul>
              </nav>
            </div></div>
          </div>
          <div class="md-sidebar md-sidebar--secondary" data-md-component="sidebar" data-md-type="toc">
            <div class="md-sidebar__scrollwrap"><div class="md-sidebar__inner">
              <nav class="md-nav md-nav--secondary" aria-label="Table of contents">
                <label class="md-nav__title" for="__toc">Table of contents</label>
                <ul class="md-nav__list" data-md-component="toc" data-md-scrollfix>
{toc}
                </ul>
              </nav>
            </div></div>
          </div>
          <div class="md-content" data-md-component="content">
            <article class="md-content__inner md-typeset">
{h1}{content}
            </article>
          </div>
        </div>
      </main>
      <footer class="md-footer">
        <nav class="md-footer__inner md-grid" aria-label="Footer">
{footer_nav}
        </nav>
        <div class="md-footer-meta md-typeset"><div class="md-footer-meta__inner md-grid"><div class="md-copyright">Made with <a href="https://squidfunk.github.io/mkdocs-material/" target="_blank" rel="noopener">Material for MkDocs</a></div></div></div>
      </footer>
    </div>
    <script src="{root}assets/javascripts/bundle.88dd0f4e.min.js"></script>
  </body>
</html>
"""


def _source_lines(path: Path) -> list[str]:
    """A page's Markdown lines, without mkautodoc's ``::: httpx.X :docstring:`` directives
    (they pull API docstrings from the installed package, which the fixture does not have)."""
    return [line for line in path.read_text(encoding="utf-8").splitlines() if not line.startswith(":::")]


def build(docs: Path) -> None:
    pages = [(title, md, _source_lines(docs / md)) for title, md in NAV]
    for n, (title, md, lines) in enumerate(pages):
        seen: dict[str, int] = {}
        toc: list = []
        content = render(lines, page=md, seen=seen, toc=toc)
        has_h1 = "<h1" in content
        root = relative(md, "")
        nav = "\n".join(
            f'                  <li class="md-nav__item{" md-nav__item--active" if m == md else ""}"><a href="{relative(md, url_path(m))}" class="md-nav__link">{html.escape(t)}</a></li>'
            for t, m, _ in pages)
        toc_html = "\n".join(f'                  <li class="md-nav__item"><a href="#{a}" class="md-nav__link">{html.escape(t)}</a></li>' for lv, a, t in toc if lv <= 3)
        prev_page, next_page = (pages[n - 1] if n else None), (pages[n + 1] if n + 1 < len(pages) else None)
        footer = []
        for label, other, rel in (("Previous", prev_page, "prev"), ("Next", next_page, "next")):
            if other:
                href = relative(md, url_path(other[1]))
                footer.append(f'          <a href="{href}" class="md-footer__link md-footer__link--{rel}" aria-label="{label}: {html.escape(other[0])}" rel="{rel}"><div class="md-footer__title"><span class="md-footer__direction">{label}</span><div class="md-ellipsis">{html.escape(other[0])}</div></div></a>')
        out = TEMPLATE.format(
            canonical=SITE_URL + url_path(md), root=root, title=html.escape(title),
            title_tag=f"{html.escape(title)} - HTTPX" if md != "index.md" else "HTTPX",
            first_anchor=toc[0][1] if toc else "", nav=nav, toc=toc_html,
            prev_link=f'<link rel="prev" href="{relative(md, url_path(prev_page[1]))}">\n    ' if prev_page else "",
            next_link=f'<link rel="next" href="{relative(md, url_path(next_page[1]))}">\n    ' if next_page else "",
            h1="" if has_h1 else f"<h1>{html.escape(title)}</h1>\n", content=content, footer_nav="\n".join(footer))
        target = HERE / url_path(md) / "index.html"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(out, encoding="utf-8")
    urls = "\n".join(f"  <url>\n    <loc>{SITE_URL}{url_path(md)}</loc>\n    <lastmod>2025-12-10</lastmod>\n  </url>" for _, md, _ in pages)
    (HERE / "sitemap.xml").write_text(
        f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n{urls}\n</urlset>\n', encoding="utf-8")


if __name__ == "__main__":
    build(Path(sys.argv[1]))
