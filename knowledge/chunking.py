"""Cut documents into passages at their headings, so an answer can cite a precise anchor.

Each section of a document becomes one :class:`Passage` whose ``anchor`` is the heading's
explicit id when the source has one (a crawled page's ``<h2 id=...>``), else its GitHub-style
slug (``## Reset your password`` -> ``reset-your-password``; repeated headings get ``-1``,
``-2``...), and whose ``url`` links straight to it.  Sections longer than
``max_words`` are split at paragraph boundaries (a paragraph that is itself too long is split
at sentence ends) and each part repeats the tail of the previous one (``overlap_words``), so
a fact sitting on a boundary stays retrievable.

What gets indexed is :attr:`Passage.index_text`: the document title, the heading and the
body.  Titles carry most of the signal for FAQ-style knowledge (the question *is* the
title) and headings say what a section is about better than its first sentence does.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from knowledge.loaders import Document, Section

__all__ = ["Passage", "chunk_document", "chunk_documents", "slugify"]

MAX_WORDS = 250
TARGET_WORDS = 180
OVERLAP_WORDS = 30


@dataclass(frozen=True, slots=True)
class Passage:
    """A citable piece of a document: one heading section, or one part of a long one."""

    passage_id: str
    doc_id: str
    title: str
    heading: str
    anchor: str
    url: str | None
    text: str

    @property
    def index_text(self) -> str:
        """The text that is embedded and lexically indexed: title, heading, then body."""
        head = self.title if not self.heading else f"{self.title}: {self.heading}"
        return f"{head}\n{self.text}" if self.text else head

    def to_dict(self) -> dict[str, str | None]:
        """A JSON-ready dict of every field."""
        return {name: getattr(self, name) for name in self.__slots__}

    @classmethod
    def from_dict(cls, data: dict) -> "Passage":
        """Inverse of :meth:`to_dict`."""
        return cls(**{name: data.get(name) for name in cls.__slots__})


def slugify(heading: str) -> str:
    """GitHub's heading anchor: lower-case, punctuation dropped, spaces turned into hyphens."""
    text = unicodedata.normalize("NFKC", heading).strip().lower()
    text = "".join(ch for ch in text if ch.isalnum() or ch in " -_")
    return text.replace(" ", "-")


def chunk_documents(documents: Iterable[Document], *, max_words: int = MAX_WORDS) -> list[Passage]:
    """Chunk every document (see :func:`chunk_document`), keeping document order."""
    return [p for doc in documents for p in chunk_document(doc, max_words=max_words)]


def chunk_document(
    document: Document,
    *,
    max_words: int = MAX_WORDS,
    target_words: int = TARGET_WORDS,
    overlap_words: int = OVERLAP_WORDS,
) -> list[Passage]:
    """Split one document into passages at its headings, long sections at paragraphs.

    A heading with no text of its own still yields a passage (its title and heading can
    match a query); a document with no sections yields a single title-only passage.
    """
    target_words = min(target_words, max_words)
    seen: dict[str, int] = {}
    passages: list[Passage] = []
    for section in document.sections or (Section("", 0, ""),):
        anchor = section.anchor or (_unique_anchor(slugify(section.heading), seen) if section.heading else "")
        parts = split_text(section.text, max_words=max_words, target_words=target_words, overlap_words=overlap_words)
        for part in parts or [""]:
            passages.append(
                Passage(
                    passage_id=f"{document.doc_id}/{len(passages)}",
                    doc_id=document.doc_id,
                    title=document.title,
                    heading=section.heading,
                    anchor=anchor,
                    url=_anchor_url(document.url, anchor),
                    text=part,
                )
            )
    return passages


def _unique_anchor(slug: str, seen: dict[str, int]) -> str:
    """GitHub numbering of repeated slugs: ``faq``, ``faq-1``, ``faq-2``..."""
    count = seen.get(slug, 0)
    seen[slug] = count + 1
    return slug if count == 0 else f"{slug}-{count}"


def _anchor_url(url: str | None, anchor: str) -> str | None:
    if not url or not anchor:
        return url
    return f"{url.split('#', 1)[0]}#{anchor}"


# --------------------------------------------------------------------------- splitting

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(\[])")


def split_text(text: str, *, max_words: int, target_words: int, overlap_words: int) -> list[str]:
    """Split ``text`` into parts of about ``target_words`` at paragraph boundaries.

    Text of at most ``max_words`` words is returned whole.  Otherwise paragraphs (and the
    sentences of over-long paragraphs) are packed greedily up to ``target_words``, and each
    new part starts with the last ``overlap_words`` words of the part before it.
    """
    text = text.strip()
    if not text:
        return []
    if _words(text) <= max_words:
        return [text]
    units = [u for para in re.split(r"\n\s*\n", text) for u in _paragraph_units(para.strip(), max_words=target_words)]
    parts: list[list[str]] = [[]]
    size = 0
    for unit in units:
        n = _words(unit)
        if parts[-1] and size + n > target_words:
            tail = _tail(parts[-1][-1], overlap_words)
            parts.append([tail] if tail else [])
            size = _words(tail)
        parts[-1].append(unit)
        size += n
    return ["\n\n".join(part) for part in parts if part]


def _paragraph_units(paragraph: str, *, max_words: int) -> list[str]:
    """A paragraph as one unit, or its sentences (then word windows) when it is too long."""
    if not paragraph:
        return []
    if _words(paragraph) <= max_words:
        return [paragraph]
    units = []
    for sentence in _SENTENCE_END.split(paragraph):
        words = sentence.split()
        for start in range(0, len(words), max_words):
            units.append(" ".join(words[start : start + max_words]))
    return _merge_small(units, max_words=max_words)


def _merge_small(units: list[str], *, max_words: int) -> list[str]:
    """Glue consecutive sentences back together while they fit, so units stay paragraph-like."""
    merged: list[str] = []
    for unit in units:
        if merged and _words(merged[-1]) + _words(unit) <= max_words:
            merged[-1] = f"{merged[-1]} {unit}"
        else:
            merged.append(unit)
    return merged


def _tail(text: str, n_words: int) -> str:
    if n_words <= 0:
        return ""
    words = text.split()
    return "… " + " ".join(words[-n_words:]) if len(words) > n_words else text


def _words(text: str) -> int:
    return len(text.split())
