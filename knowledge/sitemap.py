"""Read sitemap.xml files (https://www.sitemaps.org/protocol.html): page lists and sitemap indexes.

A ``<urlset>`` lists pages (``<url><loc>``); a ``<sitemapindex>`` lists further sitemaps
(``<sitemap><loc>``), which the crawler reads in turn.  Gzipped sitemaps are accepted.
Anything else (HTML, JSON, broken XML) is a :class:`SitemapError` whose one-line message
says what was found instead, so ``baton ingest`` can print it as it is.
"""

from __future__ import annotations

import gzip
import zlib
from dataclasses import dataclass, field
from xml.etree import ElementTree

__all__ = ["SitemapEntries", "SitemapError", "is_sitemap_url", "parse_sitemap"]

MAX_UNPACKED = 50 * 1024 * 1024  # the protocol's own limit for one sitemap file


class SitemapError(ValueError):
    """A sitemap that cannot be used; the message is one line an operator can act on."""


@dataclass(slots=True)
class SitemapEntries:
    """Page URLs and nested sitemap URLs found in one sitemap file, in document order."""

    pages: list[str] = field(default_factory=list)
    sitemaps: list[str] = field(default_factory=list)


def is_sitemap_url(url: str) -> bool:
    """Whether a start URL names a sitemap rather than a page (by its path)."""
    path = url.split("#", 1)[0].split("?", 1)[0].lower()
    return path.endswith((".xml", ".xml.gz"))


def parse_sitemap(data: bytes, *, url: str) -> SitemapEntries:
    """Parse one sitemap file; raises :class:`SitemapError` when it is not a sitemap."""
    data = _unpack(data, url=url)
    if b"<!ENTITY" in data[:4096].upper():
        raise SitemapError(f"{url} is not a usable sitemap: it declares XML entities")
    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError as exc:
        raise SitemapError(f"{url} is not a sitemap: not XML ({exc})") from None
    kind = _local(root.tag)
    if kind not in ("urlset", "sitemapindex"):
        raise SitemapError(f"{url} is not a sitemap: its root element is <{kind}>, not <urlset> or <sitemapindex>")
    entries = SitemapEntries()
    target = entries.pages if kind == "urlset" else entries.sitemaps
    for item in root:
        loc = next((child.text for child in item if _local(child.tag) == "loc" and child.text), None)
        if loc and loc.strip():
            target.append(loc.strip())
    return entries


def _unpack(data: bytes, *, url: str) -> bytes:
    if not data.startswith(b"\x1f\x8b"):
        return data
    try:
        unpacker = zlib.decompressobj(16 + zlib.MAX_WBITS)
        out = unpacker.decompress(data, MAX_UNPACKED)
    except (zlib.error, gzip.BadGzipFile) as exc:
        raise SitemapError(f"{url} is not a sitemap: broken gzip data ({exc})") from None
    if unpacker.unconsumed_tail:
        raise SitemapError(f"{url} is too large: more than {MAX_UNPACKED} bytes unpacked")
    return out


def _local(tag: str) -> str:
    """An element's name without its XML namespace."""
    return tag.rsplit("}", 1)[-1].lower() if isinstance(tag, str) else ""
