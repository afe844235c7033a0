"""URLs as a crawl compares them: normal form, the scope of a site, and what is never a page.

Two spellings of one page must be one URL, or a crawl fetches it twice and the index holds
it twice: :func:`normalise_url` lower-cases scheme and host, drops default ports, ``.`` and
``..`` segments, the fragment and tracking parameters (``utm_*``, ``fbclid``...) and sorts
the rest of the query.  :class:`Scope` is the part of the web a crawl may visit.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from knowledge.fetch import origin_of
from knowledge.sitemap import is_sitemap_url

__all__ = ["ASSET_SUFFIXES", "Scope", "is_asset", "normalise_url"]

ASSET_SUFFIXES = frozenset(
    ".png .jpg .jpeg .gif .svg .webp .ico .bmp .avif .css .js .mjs .map .json .pdf .zip .gz .tgz .bz2 .xz "
    ".tar .whl .egg .exe .dmg .msi .deb .rpm .apk .mp3 .mp4 .m4a .webm .ogg .wav .mov .avi .woff .woff2 "
    ".ttf .otf .eot .rss .atom .ics .csv .xls .xlsx .doc .docx .ppt .pptx".split()
)
TRACKING_PARAMS = frozenset("fbclid gclid dclid msclkid mc_cid mc_eid ref ref_src _ga _gl yclid".split())


def normalise_url(url: str) -> str | None:
    """A URL in the one form the crawl compares; ``None`` for non-http(s) or host-less URLs."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:  # a malformed host or port
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    scheme, host = parts.scheme.lower(), parts.hostname.lower()
    port = port if port not in (None, 80 if scheme == "http" else 443) else None
    netloc = f"[{host}]" if ":" in host else host
    netloc = f"{netloc}:{port}" if port else netloc
    query = urlencode(sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                             if not k.lower().startswith("utm_") and k.lower() not in TRACKING_PARAMS))
    return urlunsplit((scheme, netloc, _clean_path(parts.path), query, ""))


def _clean_path(path: str) -> str:
    """Resolve ``.`` and ``..`` segments and keep a trailing slash (``/a/./b/`` -> ``/a/b/``)."""
    if not path:
        return "/"
    clean = posixpath.normpath(path)
    clean = "/" + clean.lstrip("/") if clean != "." else "/"
    return clean + "/" if path.endswith("/") and clean != "/" else clean


@dataclass(frozen=True, slots=True)
class Scope:
    """The part of the web one crawl may visit: an origin and a path prefix under it."""

    origin: str
    prefix: str = "/"

    @classmethod
    def of(cls, start: str) -> "Scope":
        """The scope of a start page or sitemap URL (its folder; a dot-less last segment is one)."""
        parts = urlsplit(start)
        path = parts.path or "/"
        last = path.rsplit("/", 1)[-1]
        if is_sitemap_url(start) or "." in last:
            path = path[: len(path) - len(last)]
        return cls(origin=origin_of(start), prefix=path if path.endswith("/") else path + "/")

    def contains(self, url: str) -> bool:
        """Whether ``url`` (normalised) is on the origin and under the prefix."""
        if origin_of(url) != self.origin:
            return False
        path = urlsplit(url).path or "/"
        return path.startswith(self.prefix) or path == self.prefix.rstrip("/")


def is_asset(url: str) -> bool:
    """Whether the URL's path ends in a file type that is never a docs page."""
    path = urlsplit(url).path.lower()
    return posixpath.splitext(path)[1] in ASSET_SUFFIXES or path.endswith(".xml")
