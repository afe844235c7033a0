"""Docs websites as knowledge: crawl each site into a Markdown mirror the folder ingest indexes.

Why a mirror: the index already decides what to re-embed by each file's sha256, keeps the
vectors of unchanged files and drops deleted ones.  Writing every crawled page to
``home/sites/<site>/<path>.md`` (front matter ``url:`` = the page's canonical address,
headings with their ``{#anchor}``) reuses all of that, lets a folder and any number of sites
share ONE index (:func:`ingest_everything`), and leaves files an operator can read.

Per site, a crawl state in ``index_dir/crawl/<site>.json`` remembers each page's ETag,
Last-Modified, body hash, canonical URL, mirror file and links.  A re-crawl sends
conditional GETs; a 304 or an identical body leaves the mirror file untouched (so it is not
embedded again); a changed page rewrites its file; a page that answered 404/410, dropped out
of the sitemap or is no longer linked loses its file (so it leaves the index).  A page that
failed this time (timeout, 500) keeps its previous copy and is reported.

The mirror of a site stays indexed until its folder is deleted, also when the site is no
longer configured: a docs site that is down for a day must not vanish from the bot.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import hashlib
import json
import logging
import os
import re
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from knowledge.crawl import CrawlError, CrawlResult, PageResult, crawl_site
from knowledge.fetch import CrawlPolicy
from knowledge.html_text import page_markdown
from knowledge.web_urls import Scope, normalise_url

__all__ = ["SiteReport", "SitesResult", "crawl_sites", "ingest_everything", "site_id", "sites_folder"]

log = logging.getLogger(__name__)

SITES_PREFIX = "sites"
STATE_FOLDER = "crawl"
STATE_VERSION = 1


@dataclass(slots=True)
class SiteReport:
    """What one site's crawl changed in its mirror (by URL), and which pages failed."""

    start: str
    site: str
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    requests: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        """One line for a CLI."""
        return (f"{self.start}: {len(self.added)} new, {len(self.updated)} changed, {len(self.removed)} removed, "
                f"{len(self.unchanged)} unchanged page(s), {len(self.problems)} problem(s); "
                f"{self.requests} request(s) in {self.seconds:.1f} s")


@dataclass(slots=True)
class SitesResult:
    """Reports of the sites crawled, and the one-line error of each site that could not be."""

    reports: list[SiteReport] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)


def sites_folder(*, home: Path) -> Path:
    """Where the Markdown mirrors of all docs sites live."""
    return Path(home) / SITES_PREFIX


def site_id(start: str) -> str:
    """A folder name for a site: host, port and path prefix (``docs.example.com_guide``)."""
    scope = Scope.of(normalise_url(start) or start)
    parts = urlsplit(scope.origin)
    name = parts.netloc.replace(":", "_")
    if scope.prefix.strip("/"):
        name += "_" + scope.prefix.strip("/").replace("/", "_")
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)


# --------------------------------------------------------------------------- crawling


def crawl_sites(*, urls: Sequence[str], home: Path, index_dir: Path, max_pages: int,
                policy: CrawlPolicy | None = None, progress: bool = False) -> SitesResult:
    """Crawl every site into its mirror (synchronous; safe to call inside a running event loop).

    A site that cannot be crawled is recorded in ``errors`` and its mirror left as it was.
    """
    result = SitesResult()
    for url in urls:
        try:
            result.reports.append(_run(refresh_site(start=url, home=home, index_dir=index_dir, max_pages=max_pages,
                                                    policy=policy, progress=progress)))
        except CrawlError as exc:
            result.errors[url] = str(exc)
    return result


def _run(coroutine: Any) -> Any:
    """Run a coroutine to completion, in a worker thread when this thread already runs a loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


async def refresh_site(*, start: str, home: Path, index_dir: Path, max_pages: int,
                       policy: CrawlPolicy | None = None, progress: bool = False) -> SiteReport:
    """Crawl one site and bring its mirror and crawl state up to date; returns what changed."""
    started = time.perf_counter()
    name = site_id(start)
    mirror = sites_folder(home=home) / name
    state_path = Path(index_dir) / STATE_FOLDER / f"{name}.json"
    known = _usable_pages(_read_state(state_path), mirror=mirror)
    crawl = await crawl_site(start=start, max_pages=max_pages, previous=known, policy=policy, progress=progress)
    report = SiteReport(start=crawl.start, site=name, problems=list(crawl.problems), requests=crawl.requests)
    pages = _apply(crawl, known=known, mirror=mirror, report=report)
    _write_state(state_path, {"version": STATE_VERSION, "start": crawl.start, "pages": pages})
    report.seconds = time.perf_counter() - started
    return report


def _apply(crawl: CrawlResult, *, known: dict[str, dict], mirror: Path, report: SiteReport) -> dict[str, dict]:
    """Write changed pages, keep unchanged and failed ones, delete the rest; the new state."""
    pages: dict[str, dict] = {}
    taken: set[str] = set()
    for result in crawl.pages:
        entry = _page_entry(result, known=known.get(result.url), mirror=mirror, taken=taken, report=report)
        if entry is not None:
            pages[result.url] = entry
            taken.add(entry["file"])
    report.removed.extend(url for url, old in known.items() if old["file"] not in taken)
    _sweep(mirror, keep=taken)
    return pages


def _page_entry(result: PageResult, *, known: dict | None, mirror: Path, taken: set[str], report: SiteReport) -> dict | None:
    """The state entry a page keeps after this crawl (None: it leaves the mirror)."""
    if result.kind == "unchanged" and known:
        report.unchanged.append(result.url)
        return {**known, "etag": result.etag, "last_modified": result.last_modified, "links": result.links}
    if result.kind == "failed":
        report.problems.append(f"{result.url}: {result.reason}" + (" (kept the previous copy)" if known else " (skipped)"))
        return {**known, "links": result.links or known.get("links", [])} if known else None
    if result.kind != "fetched" or result.page is None:
        return None
    file = _mirror_file(result.canonical, taken=taken)
    text = page_markdown(result.page, url=result.canonical, fetched=result.final_url)
    _write_if_changed(mirror / file, text)
    (report.updated if known else report.added).append(result.url)
    return {"file": file, "canonical": result.canonical, "final_url": result.final_url, "etag": result.etag,
            "last_modified": result.last_modified, "sha256": result.sha256, "links": result.links}


def _mirror_file(url: str, *, taken: set[str]) -> str:
    """The mirror path of a page (``/a/b/`` -> ``a/b/index.md``, ``/a/b.html`` -> ``a/b.md``)."""
    parts = urlsplit(url)
    segments = [re.sub(r"[^A-Za-z0-9._-]", "_", s) for s in parts.path.split("/") if s not in ("", ".", "..")]
    if not segments or parts.path.endswith("/"):
        segments.append("index")
    stem = re.sub(r"\.(html?|php|aspx?)$", "", segments[-1], flags=re.IGNORECASE) or "index"
    if parts.query:
        stem += "-" + hashlib.sha1(parts.query.encode()).hexdigest()[:8]
    segments[-1] = stem.lstrip(".") or "index"
    file = "/".join(segments) + ".md"
    if file in taken:
        file = f"{file[:-3]}-{hashlib.sha1(url.encode()).hexdigest()[:8]}.md"
    return file


# --------------------------------------------------------------------------- files


def _usable_pages(state: dict, *, mirror: Path) -> dict[str, dict]:
    """Known pages whose mirror file still exists (else they must be fetched in full again)."""
    pages = state.get("pages", {}) if state.get("version") == STATE_VERSION else {}
    return {url: entry for url, entry in pages.items()
            if isinstance(entry, dict) and entry.get("file") and (mirror / entry["file"]).is_file()}


def _read_state(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_state(path: Path, state: dict) -> None:
    _atomic_write(path, json.dumps(state, ensure_ascii=False, indent=1, sort_keys=True))


def _write_if_changed(path: Path, text: str) -> None:
    """Write a mirror file only when its bytes change, so its sha256 (and index entry) stays."""
    with contextlib.suppress(OSError):
        if path.read_text(encoding="utf-8") == text:
            return
    _atomic_write(path, text)


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".part")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _sweep(mirror: Path, *, keep: set[str]) -> None:
    """Delete every mirror file that is not a page of this crawl (vanished, or left by a lost state)."""
    if not mirror.is_dir():
        return
    for path in sorted(mirror.rglob("*.md")):
        if path.relative_to(mirror).as_posix() not in keep:
            _remove(path, root=mirror)


def _remove(path: Path, *, root: Path) -> None:
    """Delete a mirror file and any folders it leaves empty (never ``root`` itself)."""
    path.unlink(missing_ok=True)
    folder = path.parent
    while folder != root and root in folder.parents:
        try:
            folder.rmdir()
        except OSError:
            break
        folder = folder.parent


# --------------------------------------------------------------------------- one index


@contextlib.contextmanager
def index_lock(index_dir: Path) -> Iterator[None]:
    """Hold an exclusive lock on the index folder (POSIX), so two processes never ingest at once."""
    Path(index_dir).mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # not POSIX: no cross-process lock
        yield
        return
    with open(Path(index_dir) / ".ingest.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ingest_everything(*, folder: Path | None, urls: Sequence[str], home: Path, index_dir: Path, encoder: Any,
                      max_pages: int, progress: bool = False, policy: CrawlPolicy | None = None):
    """Crawl ``urls`` into their mirrors, then ingest the folder plus every mirror into one index.

    Returns ``(SitesResult, IngestReport)``.  A site that cannot be crawled keeps its old
    mirror (and so its pages in the index); its error is in ``SitesResult.errors``.
    """
    from knowledge.index import ingest

    with index_lock(index_dir):
        sites = crawl_sites(urls=urls, home=home, index_dir=index_dir, max_pages=max_pages, policy=policy, progress=progress)
        extra = {SITES_PREFIX: sites_folder(home=home)}
        report = ingest(source_dir=folder, index_dir=index_dir, encoder=encoder, progress=progress, extra_sources=extra)
    return sites, report
