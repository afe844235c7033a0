"""Crawl one docs site breadth-first, within its host and path, fetching only what changed.

A crawl starts from a page (then follows ``<a href>`` links, level by level) or from a
sitemap (then the sitemap, nested indexes included, is the list of pages).  It stays on the
start URL's scheme, host and port, and under its path prefix when the start page is below
the root (``https://example.com/docs/intro.html`` keeps to ``/docs/``).  URLs are normalised
before they are compared (:mod:`knowledge.web_urls`: ``page?utm_source=x#top`` is ``page``).
Obvious assets (images, scripts, archives) are never requested; non-HTML answers are skipped
unread.
Two URLs with the same canonical address or the same body count once.

``previous`` (from :mod:`knowledge.sites`) carries each known page's ETag, Last-Modified,
body hash and links, so an unchanged page costs a 304 and nothing else, while its links
still lead the crawl on.  Each page ends as one :class:`PageResult`; only a site that
cannot be crawled at all (unreachable, start page missing, sitemap not XML) raises
:class:`CrawlError`.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import aiohttp

from knowledge.fetch import CrawlPolicy, Fetcher, FetchError, SkipPage, origin_of
from knowledge.html_text import Page, parse_page
from knowledge.sitemap import SitemapError, is_sitemap_url, parse_sitemap
from knowledge.web_urls import Scope, is_asset, normalise_url

__all__ = ["CrawlError", "CrawlResult", "PageResult", "crawl_site"]

HTML_TYPES = ("text/html", "application/xhtml+xml")
MAX_SITEMAP_DEPTH = 3


class CrawlError(RuntimeError):
    """The site cannot be crawled at all; the message is one line for an operator."""


@dataclass(slots=True)
class PageResult:
    """What became of one URL in a crawl.

    ``kind`` is ``fetched`` (new or changed HTML: ``page`` is set), ``unchanged`` (304 or the
    same body), ``gone`` (404 or 410), ``failed`` (error or other status: keep the old copy),
    ``skipped`` (not a page: non-HTML, noindex, a duplicate, a disallowed redirect).
    """

    url: str
    kind: str
    reason: str = ""
    page: Page | None = None
    final_url: str = ""
    canonical: str = ""
    etag: str = ""
    last_modified: str = ""
    sha256: str = ""
    links: list[str] = field(default_factory=list)


@dataclass(slots=True)
class CrawlResult:
    """Every URL's result in crawl order, plus problems met outside pages (a child sitemap)."""

    start: str
    scope: Scope
    pages: list[PageResult]
    problems: list[str]
    requests: int


async def crawl_site(*, start: str, max_pages: int, previous: Mapping[str, Mapping] | None = None,
                     policy: CrawlPolicy | None = None, progress: bool = False) -> CrawlResult:
    """Crawl one site (see the module docstring); raises :class:`CrawlError` if it cannot be crawled."""
    start_url = normalise_url(start)
    if start_url is None:
        raise CrawlError(f"{start}: not a valid http(s) URL")
    policy = policy or CrawlPolicy()
    scope = Scope.of(start_url)
    async with aiohttp.ClientSession(trust_env=False) as session:
        fetcher = Fetcher(session=session, policy=policy)
        crawler = _Crawler(fetcher=fetcher, scope=scope, previous=previous or {}, max_pages=max_pages)
        await crawler.open(start_url)
        pages = await crawler.run(start_url, progress=progress)
        return CrawlResult(start=start_url, scope=scope, pages=pages, problems=crawler.problems, requests=fetcher.requests)


class _Crawler:
    """The state of one crawl: scope, seen URLs, canonical and body de-duplication."""

    def __init__(self, *, fetcher: Fetcher, scope: Scope, previous: Mapping[str, Mapping], max_pages: int) -> None:
        self.fetcher = fetcher
        self.scope = scope
        self.previous = previous
        self.max_pages = max(1, int(max_pages))
        self.problems: list[str] = []
        self._claimed: dict[str, str] = {}  # canonical URL or body hash -> the URL that has it

    async def open(self, start: str) -> None:
        """Read robots.txt; an unreachable site or one refusing all crawlers is a CrawlError."""
        try:
            await self.fetcher.load_robots(origin=self.scope.origin)
        except FetchError as exc:
            raise CrawlError(f"cannot reach {self.scope.origin}: {exc}") from None
        if self.fetcher.robots_status >= 500:
            raise CrawlError(f"{self.scope.origin}/robots.txt answered HTTP {self.fetcher.robots_status}; not crawling until it answers")
        if not self.fetcher.allowed(start):
            raise CrawlError(f"robots.txt of {self.scope.origin} does not allow BatonBot to fetch {start}")

    async def run(self, start: str, *, progress: bool) -> list[PageResult]:
        """Breadth-first, one level at a time (deterministic under concurrency)."""
        from_sitemap = is_sitemap_url(start)
        frontier = await self._sitemap_pages(start) if from_sitemap else [start]
        frontier = self._admit(frontier, queued=set())
        queued = set(frontier)
        results: list[PageResult] = []
        bar = _bar(progress, host=urlsplit(start).netloc, total=len(frontier))
        try:
            while frontier:
                level = await asyncio.gather(*(self._visit(url, bar) for url in frontier))
                results.extend(self._dedupe(r) for r in level)
                if from_sitemap:
                    break
                frontier = self._admit([link for r in level for link in r.links], queued=queued)
                queued.update(frontier)
                if bar is not None:
                    bar.total = len(queued)
                    bar.refresh()
        finally:
            if bar is not None:
                bar.close()
        self._check_start(results, start=start, from_sitemap=from_sitemap)
        return results

    def _admit(self, urls: list[str], *, queued: set[str]) -> list[str]:
        """New, in-scope, non-asset, robots-allowed URLs, up to the page budget."""
        admitted: list[str] = []
        for raw in urls:
            url = normalise_url(raw)
            if url is None or url in queued or url in admitted or not self.scope.contains(url) or is_asset(url):
                continue
            if not self.fetcher.allowed(url):
                continue
            if len(queued) + len(admitted) >= self.max_pages:
                break
            admitted.append(url)
        return admitted

    def _check_start(self, results: list[PageResult], *, start: str, from_sitemap: bool) -> None:
        if from_sitemap:
            if not results:
                raise CrawlError(f"sitemap {start} lists no pages on {self.scope.origin}{self.scope.prefix} that may be crawled")
            return
        first = results[0]
        if first.kind in ("failed", "gone") or (first.kind == "skipped" and not first.links):
            raise CrawlError(f"start page {start}: {first.reason}")

    # ------------------------------------------------------------------ sitemaps

    async def _sitemap_pages(self, start: str) -> list[str]:
        """Page URLs of a sitemap, nested sitemap indexes included (a broken child is a problem)."""
        pages: list[str] = []
        todo, seen = [(start, 0)], {start}
        while todo:
            url, depth = todo.pop(0)
            try:
                entries = parse_sitemap(await self._sitemap_body(url), url=url)
            except (SitemapError, CrawlError) as exc:
                if url == start:
                    raise CrawlError(str(exc)) from None
                self.problems.append(str(exc))
                continue
            pages.extend(entries.pages)
            for child in (normalise_url(s) for s in entries.sitemaps):
                if child and child not in seen and origin_of(child) == self.scope.origin and depth < MAX_SITEMAP_DEPTH:
                    seen.add(child)
                    todo.append((child, depth + 1))
        return pages

    async def _sitemap_body(self, url: str) -> bytes:
        try:
            response = await self.fetcher.get(url, follow=lambda u: origin_of(u) == self.scope.origin)
        except (FetchError, SkipPage) as exc:
            raise CrawlError(f"sitemap {url}: {exc}") from None
        if response.status != 200:
            raise CrawlError(f"sitemap {url} answered HTTP {response.status}")
        return response.body

    # ------------------------------------------------------------------ pages

    async def _visit(self, url: str, bar) -> PageResult:
        try:
            return await self._fetch_page(url)
        finally:
            if bar is not None:
                bar.update(1)

    async def _fetch_page(self, url: str) -> PageResult:
        known = self.previous.get(url) or {}
        try:
            response = await self.fetcher.get(url, headers=_conditional(known), follow=self._follows,
                                              wanted=lambda media: media in HTML_TYPES)
        except SkipPage as exc:
            return PageResult(url, "skipped", str(exc))
        except FetchError as exc:
            return PageResult(url, "failed", str(exc), links=list(known.get("links", [])))
        return self._classify(url, response=response, known=known)

    def _follows(self, url: str) -> bool:
        normal = normalise_url(url)
        return normal is not None and self.scope.contains(normal) and not is_asset(normal)

    def _classify(self, url: str, *, response, known: Mapping) -> PageResult:
        validators = {"etag": response.headers.get("etag", known.get("etag", "")),
                      "last_modified": response.headers.get("last-modified", known.get("last_modified", ""))}
        if response.status == 304 and known:
            return PageResult(url, "unchanged", final_url=known.get("final_url", url), canonical=known.get("canonical", url),
                              sha256=known.get("sha256", ""), links=list(known.get("links", [])), **validators)
        if response.status in (404, 410):
            return PageResult(url, "gone", f"HTTP {response.status}")
        if response.status != 200:
            return PageResult(url, "failed", f"HTTP {response.status}", links=list(known.get("links", [])))
        if response.content_type not in HTML_TYPES:
            return PageResult(url, "skipped", f"not HTML ({response.content_type or 'no content type'})")
        return self._html_result(url, response=response, known=known, validators=validators)

    def _html_result(self, url: str, *, response, known: Mapping, validators: dict) -> PageResult:
        sha = hashlib.sha256(response.body).hexdigest()
        page = parse_page(response.text(), url=response.url)
        links = [] if page.nofollow else self._in_scope(page.links)
        canonical = self._canonical(page, final_url=response.url)
        if known and known.get("sha256") == sha:
            return PageResult(url, "unchanged", final_url=response.url, canonical=known.get("canonical", canonical),
                              sha256=sha, links=links, **validators)
        if page.noindex:
            return PageResult(url, "skipped", "marked noindex", links=links)
        return PageResult(url, "fetched", page=page, final_url=response.url, canonical=canonical, sha256=sha,
                          links=links, **validators)

    def _canonical(self, page: Page, *, final_url: str) -> str:
        """The page's canonical URL when it is on this site, else the URL it was fetched from."""
        fetched = normalise_url(final_url) or final_url
        declared = normalise_url(page.canonical) if page.canonical else None
        return declared if declared and origin_of(declared) == self.scope.origin else fetched

    def _in_scope(self, links: list[str]) -> list[str]:
        normal = (normalise_url(link) for link in links)
        return list(dict.fromkeys(u for u in normal if u and self.scope.contains(u) and not is_asset(u)))

    def _dedupe(self, result: PageResult) -> PageResult:
        """A second URL with a canonical address or body already seen is skipped as a duplicate."""
        if result.kind not in ("fetched", "unchanged"):
            return result
        for key in (result.canonical, result.sha256):
            owner = self._claimed.get(key) if key else None
            if owner and owner != result.url:
                return PageResult(result.url, "skipped", f"duplicate of {owner}", links=result.links)
        for key in (result.canonical, result.sha256):
            if key:
                self._claimed[key] = result.url
        return result


def _conditional(known: Mapping) -> dict[str, str]:
    """If-None-Match / If-Modified-Since from what the last crawl stored about a page."""
    headers = {}
    if known.get("etag"):
        headers["If-None-Match"] = known["etag"]
    if known.get("last_modified"):
        headers["If-Modified-Since"] = known["last_modified"]
    return headers


def _bar(progress: bool, *, host: str, total: int):
    """A tqdm bar on stderr for fetching (only when asked: interactive runs)."""
    if not progress:
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc=f"fetching {host}", unit="page")
