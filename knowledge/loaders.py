"""Load a team's knowledge base from a folder of Markdown, HTML, text and FAQ CSV files.

Every supported file becomes one :class:`Document` (a CSV file becomes one document per
row), split into :class:`Section` s at its headings so the chunker can cite a heading
anchor.  Loading never stops at a bad file: a file that cannot be read, decoded or parsed
is skipped, logged as a warning and reported as a :class:`LoadProblem`, and the rest of the
folder is still loaded.  A knowledge base is maintained by people, and one stray binary or
half-saved file must not take the whole bot offline.

Supported formats:

* ``.md`` / ``.markdown``: optional front matter (``---`` / ``key: value`` lines / ``---``)
  with ``url`` and ``title``; the title is the front-matter title, else the first ``# ``
  heading, else the file stem.  ``#``..``######`` headings start sections (not inside
  fenced code blocks); a trailing ``{#id}`` on a heading (kramdown / Pandoc syntax) is that
  section's explicit anchor, which the chunker cites instead of a slug of the heading.
* ``.html`` / ``.htm``: parsed with the standard library; ``<title>`` (else the first
  ``<h1>``) is the title, ``<h1>``-``<h3>`` start sections, paragraphs, list items, table
  cells and preformatted blocks are kept; scripts, styles and navigation are dropped.
  A ``<link rel="canonical">`` or ``og:url`` meta tag gives the URL.
* ``.txt``: the first non-empty line is the title, the rest is the body.
* ``.csv``: columns ``question``, ``answer`` and optional ``url`` (header names are
  case-insensitive); every row is a document with doc_id ``<file stem>#<row number>``
  (rows numbered from 1 after the header; for a CSV in a subfolder the stem is prefixed
  with the folder, as for any doc_id) and the question as title.

A file's doc_id is its path relative to the source folder, without extension, in POSIX form
(``guides/billing`` for ``guides/billing.md``).  Files and folders whose name starts with a
dot are ignored.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

__all__ = [
    "SUPPORTED_SUFFIXES",
    "Document",
    "LoadProblem",
    "LoadResult",
    "Section",
    "load_file",
    "load_folder",
    "source_files",
]

log = logging.getLogger(__name__)

SUPPORTED_SUFFIXES = (".md", ".markdown", ".html", ".htm", ".txt", ".csv")
MAX_FILE_BYTES = 20 * 1024 * 1024  # larger files are almost certainly not help articles


@dataclass(frozen=True, slots=True)
class Section:
    """A run of text under one heading; ``heading`` is empty for text before any heading.

    ``anchor`` is the heading's own id when the source gives one (``## Setup {#setup}``, or a
    crawled page's ``<h2 id="setup">``); empty means "slugify the heading".
    """

    heading: str
    level: int
    text: str
    anchor: str = ""


@dataclass(frozen=True, slots=True)
class Document:
    """One knowledge-base article (or one FAQ row), ready for chunking."""

    doc_id: str
    title: str
    url: str | None
    path: str
    text: str
    sections: tuple[Section, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class LoadProblem:
    """A file (or CSV row) that was skipped, and why, in words an operator can act on."""

    path: str
    reason: str


@dataclass(slots=True)
class LoadResult:
    """Everything loaded from a folder plus every file that had to be skipped."""

    documents: list[Document]
    problems: list[LoadProblem]


class LoadError(ValueError):
    """A file cannot be turned into documents; the message says why."""


# --------------------------------------------------------------------------- folder


def source_files(*, source_dir: Path) -> list[Path]:
    """Every supported file under ``source_dir``, recursively, in a stable sorted order.

    Hidden files and folders (name starting with ``.``) are skipped, so an editor's swap
    files or a ``.git`` folder inside the knowledge base are never indexed.
    """
    root = Path(source_dir)
    found = []
    for path in root.rglob("*"):
        rel = path.relative_to(root)
        if any(part.startswith(".") for part in rel.parts):
            continue
        if path.suffix.lower() in SUPPORTED_SUFFIXES and path.is_file():
            found.append(path)
    return sorted(found, key=lambda p: p.relative_to(root).as_posix())


def load_folder(*, source_dir: Path) -> LoadResult:
    """Load every supported file under ``source_dir``; bad files become problems, not errors."""
    root = Path(source_dir)
    if not root.is_dir():
        raise FileNotFoundError(f"knowledge folder not found: {root}")
    documents: list[Document] = []
    problems: list[LoadProblem] = []
    for path in source_files(source_dir=root):
        docs, file_problems = load_file(path, root=root)
        documents.extend(docs)
        problems.extend(file_problems)
    return LoadResult(documents=documents, problems=problems)


def load_file(path: Path, *, root: Path, prefix: str = "") -> tuple[list[Document], list[LoadProblem]]:
    """Load one file into documents; never raises for a bad file.

    Returns the documents and the problems met (a whole-file problem means no documents;
    a CSV may also report single skipped rows).  Each problem is logged as a warning.
    ``prefix`` is put in front of the relative path (and so of the doc_id), so files from
    several roots (the knowledge folder, mirrored docs sites) can share one index.
    """
    path, root = Path(path), Path(root)
    rel = path.relative_to(root).as_posix()
    rel = f"{prefix.strip('/')}/{rel}" if prefix.strip("/") else rel
    problems: list[LoadProblem] = []
    try:
        text = _read_text(path)
        docs = _parse(path, text=text, rel=rel, problems=problems)
    except (OSError, UnicodeDecodeError, LoadError, csv.Error) as exc:
        problems.append(LoadProblem(path=rel, reason=_describe(exc)))
        docs = []
    for problem in problems:
        log.warning("knowledge: skipped %s: %s", problem.path, problem.reason)
    return docs, problems


def _describe(exc: Exception) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return f"not UTF-8 text (byte {exc.start}: {exc.reason})"
    if isinstance(exc, OSError):
        return f"cannot read file: {exc.strerror or exc}"
    if isinstance(exc, csv.Error):
        return f"malformed CSV: {exc}"
    return str(exc)


def _read_text(path: Path) -> str:
    """Read a file as strict UTF-8 (a BOM is allowed); binary files fail loudly here."""
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise LoadError(f"file too large ({size} bytes, limit {MAX_FILE_BYTES})")
    data = path.read_bytes()
    if b"\x00" in data:
        raise LoadError("binary file (contains NUL bytes)")
    return data.decode("utf-8-sig")


def _parse(path: Path, *, text: str, rel: str, problems: list[LoadProblem]) -> list[Document]:
    suffix = path.suffix.lower()
    doc_id = rel[: -len(path.suffix)] if path.suffix else rel
    if suffix == ".csv":
        return parse_csv(text, doc_id=doc_id, rel=rel, problems=problems)
    if suffix in (".md", ".markdown"):
        doc = parse_markdown(text, doc_id=doc_id, rel=rel, stem=path.stem)
    elif suffix in (".html", ".htm"):
        doc = parse_html(text, doc_id=doc_id, rel=rel, stem=path.stem)
    else:
        doc = parse_text(text, doc_id=doc_id, rel=rel, stem=path.stem)
    if not doc.text.strip():
        raise LoadError("no text")
    return [doc]


def _document(*, doc_id: str, title: str, url: str | None, rel: str, sections: list[Section]) -> Document:
    kept = tuple(s for s in sections if s.text.strip() or s.heading)
    body = "\n\n".join(part for s in kept for part in (s.heading, s.text) if part)
    return Document(doc_id=doc_id, title=title, url=url or None, path=rel, text=body, sections=kept)


# --------------------------------------------------------------------------- markdown

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n---[ \t]*(?:\n|\Z)", re.DOTALL)
_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$")
_FENCE = re.compile(r"^[ \t]*(```|~~~)")
_HEADING_ID = re.compile(r"[ \t]*\{#([^\s{}]+)\}[ \t]*$")


def parse_front_matter(text: str) -> tuple[dict[str, str], str]:
    """Split simple ``key: value`` front matter from a Markdown body.

    Only flat string values are understood (that is all a help article needs: url and
    title); quotes around a value are removed.  Text without front matter is returned whole.
    """
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    meta: dict[str, str] = {}
    for line in match.group(1).splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() and not line.startswith((" ", "\t")):
            meta[key.strip().lower()] = value.strip().strip("'\"")
    return meta, text[match.end() :]


def parse_markdown(text: str, *, doc_id: str, rel: str, stem: str) -> Document:
    """Parse a Markdown article into sections at its headings (title from the first ``# ``)."""
    meta, body = parse_front_matter(text)
    title = meta.get("title", "")
    sections: list[Section] = []
    heading, level, anchor, lines = "", 0, "", []
    in_fence = False
    for line in body.splitlines():
        if _FENCE.match(line):
            in_fence = not in_fence
        match = None if in_fence else _HEADING.match(line)
        if not match:
            lines.append(line)
            continue
        text_so_far = _clean_block("\n".join(lines))
        if text_so_far or heading:
            sections.append(Section(heading=heading, level=level, text=text_so_far, anchor=anchor))
        (heading, anchor), level, lines = _heading_and_id(match.group(2)), len(match.group(1)), []
        if level == 1 and not title:
            title, heading, level, anchor = heading, "", 0, ""
    sections.append(Section(heading=heading, level=level, text=_clean_block("\n".join(lines)), anchor=anchor))
    return _document(doc_id=doc_id, title=title or stem, url=meta.get("url"), rel=rel, sections=sections)


def _heading_and_id(raw: str) -> tuple[str, str]:
    """A heading's words and its explicit ``{#id}`` anchor (empty when it has none)."""
    match = _HEADING_ID.search(raw)
    if not match:
        return _strip_inline(raw), ""
    return _strip_inline(raw[: match.start()]), match.group(1)


def _strip_inline(text: str) -> str:
    """Drop inline Markdown emphasis/link syntax from a heading, keeping its words."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)
    return re.sub(r"[*_`]+", "", text).strip()


def _clean_block(text: str) -> str:
    """Trim a block and collapse runs of blank lines to one paragraph break."""
    return re.sub(r"\n[ \t]*(\n[ \t]*)+", "\n\n", text).strip()


# --------------------------------------------------------------------------- text


def parse_text(text: str, *, doc_id: str, rel: str, stem: str) -> Document:
    """Parse a plain-text article: first non-empty line is the title, the rest one section."""
    lines = text.splitlines()
    while lines and not lines[0].strip():
        lines.pop(0)
    title = lines[0].strip() if lines else stem
    body = _clean_block("\n".join(lines[1:]))
    return _document(doc_id=doc_id, title=title, url=None, rel=rel, sections=[Section("", 0, body)])


# --------------------------------------------------------------------------- csv


def parse_csv(text: str, *, doc_id: str, rel: str, problems: list[LoadProblem]) -> list[Document]:
    """Parse an FAQ CSV (question, answer, optional url) into one document per row.

    A row with an empty question or answer is skipped and reported; a file without the
    required columns is malformed as a whole.
    """
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    header = next(reader, None)
    if not header:
        raise LoadError("empty CSV (no header row)")
    columns = {name.strip().lower(): i for i, name in enumerate(header)}
    missing = [c for c in ("question", "answer") if c not in columns]
    if missing:
        raise LoadError(f"CSV header lacks column(s) {', '.join(missing)} (has: {', '.join(header)})")
    docs = []
    for number, row in enumerate(reader, start=1):
        if not any(cell.strip() for cell in row):
            continue
        doc = _csv_row(row, columns=columns, doc_id=f"{doc_id}#{number}", rel=rel)
        if doc is None:
            problems.append(LoadProblem(path=f"{rel}#{number}", reason="row without question or answer"))
        else:
            docs.append(doc)
    if not docs:
        raise LoadError("CSV has no usable rows")
    return docs


def _csv_row(row: list[str], *, columns: dict[str, int], doc_id: str, rel: str) -> Document | None:
    def cell(name: str) -> str:
        index = columns.get(name)
        return row[index].strip() if index is not None and index < len(row) else ""

    question, answer = cell("question"), cell("answer")
    if not question or not answer:
        return None
    section = Section(heading="", level=0, text=_clean_block(answer))
    return _document(doc_id=doc_id, title=question, url=cell("url"), rel=rel, sections=[section])


# --------------------------------------------------------------------------- html

_SKIP_TAGS = {"script", "style", "noscript", "template", "nav", "svg", "iframe"}
_SECTION_TAGS = {"h1", "h2", "h3"}
_BLOCK_TAGS = {
    "p", "li", "div", "br", "tr", "td", "th", "pre", "blockquote", "dd", "dt", "section",
    "article", "main", "h4", "h5", "h6", "ul", "ol", "table", "hr", "figcaption", "summary",
}


class _HtmlCollector(HTMLParser):
    """Collects title, URL and heading-delimited text blocks from an HTML page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.title = ""
        self.url: str | None = None
        self.sections: list[tuple[str, int, list[str]]] = [("", 0, [])]
        self._skip_depth = 0
        self._in_title = False
        self._heading: tuple[int, list[str]] | None = None
        self._block: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {k.lower(): (v or "") for k, v in attrs}
        if tag == "title":
            self._in_title = True
        elif tag == "link" and "canonical" in attr.get("rel", "").lower().split():
            self.url = self.url or attr.get("href") or None
        elif tag == "meta" and attr.get("property", "").lower() == "og:url":
            self.url = self.url or attr.get("content") or None
        if tag in _SKIP_TAGS:
            self._skip_depth += 1
        elif tag in _SECTION_TAGS:
            self._flush()
            self._heading = (int(tag[1]), [])
        elif tag in _BLOCK_TAGS:
            self._flush()

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag in _SKIP_TAGS:
            self._skip_depth -= 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        elif tag in _SKIP_TAGS:
            self._skip_depth = max(0, self._skip_depth - 1)
        elif tag in _SECTION_TAGS and self._heading is not None:
            level, words = self._heading
            self._heading = None
            self.sections.append((" ".join(" ".join(words).split()), level, []))
        elif tag in _BLOCK_TAGS:
            self._flush()

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        elif self._skip_depth:
            return
        elif self._heading is not None:
            self._heading[1].append(data)
        else:
            self._block.append(data)

    def _flush(self) -> None:
        text = " ".join(" ".join(self._block).split())
        self._block = []
        if text:
            self.sections[-1][2].append(text)

    def close(self) -> None:
        super().close()
        self._flush()


def parse_html(text: str, *, doc_id: str, rel: str, stem: str) -> Document:
    """Parse an HTML help page into heading sections (see the module docstring)."""
    collector = _HtmlCollector()
    collector.feed(text)
    collector.close()
    title = " ".join(collector.title.split())
    raw = collector.sections
    if not title:
        first_h1 = next((h for h, level, _ in raw if level == 1 and h), "")
        title = first_h1 or stem
    sections = []
    for heading, level, blocks in raw:
        if level == 1 and heading == title:
            heading, level = "", 0  # the page's own title heading is not a section of it
        sections.append(Section(heading=heading, level=level, text="\n\n".join(blocks)))
    return _document(doc_id=doc_id, title=title, url=collector.url, rel=rel, sections=sections)
