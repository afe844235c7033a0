"""The crawler against the HTTPX docs on 127.0.0.1: scope, robots.txt, sitemaps, faults, politeness.

These stop at the Markdown mirror (no embedding), so they take about a second each.
"""

from __future__ import annotations

import time

import pytest
from aiohttp import web

from knowledge.crawl import CrawlError, crawl_site
from knowledge.fetch import CrawlPolicy
from knowledge.sites import crawl_sites, refresh_site, site_id, sites_folder
from knowledge.web_urls import Scope, normalise_url

from .conftest import FAST, PAGES
from .docs_server import DocsServer


async def crawl_into(home, *, start: str, max_pages: int = 50, policy: CrawlPolicy = FAST):
    return await refresh_site(start=start, home=home, index_dir=home / "index", max_pages=max_pages, policy=policy)


def mirrored(home, docs) -> set[str]:
    """The mirror files of the docs server's site, as paths relative to its folder."""
    folder = sites_folder(home=home) / site_id(docs.base)
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*.md")}


def page_files(pages) -> set[str]:
    return {f"{p}index.md" for p in pages}


async def test_start_page_crawl_finds_every_page_through_links_breadth_first(docs, empty_home):
    report = await crawl_into(empty_home, start=docs.base)
    assert sorted(report.added) == sorted(docs.base + p for p in PAGES)
    assert mirrored(empty_home, docs) == page_files(PAGES)
    assert docs.paths()[0] == "/robots.txt"
    assert all(h.headers["User-Agent"].startswith("BatonBot") for h in docs.hits)
    assert docs.paths()[1] == "/"  # then level by level
    text = (sites_folder(home=empty_home) / site_id(docs.base) / "advanced/timeouts/index.md").read_text()
    assert text.startswith(f"---\nurl: {docs.base}advanced/timeouts/\ntitle: Timeouts\n")
    assert "## Fine tuning the configuration {#fine-tuning-the-configuration}" in text


async def test_robots_disallowed_page_is_never_requested_nor_mirrored(docs, empty_home):
    page = docs.text("/")
    assert "code_of_conduct/" in page  # linked from every page's navigation ...
    await crawl_into(empty_home, start=docs.base)
    assert not any(p.startswith("/code_of_conduct") for p in docs.paths())  # ... and never fetched
    assert "code_of_conduct/index.md" not in mirrored(empty_home, docs)


async def test_nested_sitemap_index_lists_the_pages_and_links_are_not_followed(docs, empty_home):
    report = await crawl_into(empty_home, start=docs.base + "sitemap_index.xml")
    assert sorted(report.added) == sorted(docs.base + p for p in PAGES)
    requested = set(docs.paths())
    assert {"/sitemap_index.xml", "/sitemaps/guides.xml", "/sitemaps/advanced-index.xml", "/sitemaps/advanced.xml"} <= requested
    assert "/compatibility/" not in requested  # linked from the home page, but not in the sitemap
    assert "/code_of_conduct/" not in requested  # in the sitemap, but disallowed


async def test_links_to_other_hosts_are_not_followed(docs, empty_home):
    other = DocsServer().start()
    try:
        home = docs.text("/").replace("<p>HTTPX is a fully featured", f'<p><a href="{other.base}quickstart/">mirror</a> HTTPX is a fully featured')
        docs.put("/", home)
        report = await crawl_into(empty_home, start=docs.base)
    finally:
        other.stop()
    assert other.hits == []
    assert len(report.added) == len(PAGES)


async def test_start_page_below_the_root_keeps_the_crawl_under_its_path(docs, empty_home):
    advanced = [p for p in PAGES if p.startswith("advanced/")]
    items = "".join(f'<li><a href="/{p}">{p}</a></li>' for p in advanced)
    docs.put("/advanced/", f'<html><body><main><h1>Advanced usage</h1><p>Every advanced guide.</p><ul>{items}</ul></main></body></html>')
    report = await crawl_into(empty_home, start=docs.base + "advanced/")
    assert sorted(report.added) == sorted(docs.base + p for p in ["advanced/", *advanced])
    assert not any(p in ("/", "/quickstart/", "/async/") for p in docs.paths())  # linked from every page, but above /advanced/


async def test_fragments_and_tracking_query_strings_are_one_page(docs, empty_home):
    home = docs.text("/").replace("Install HTTPX using pip:", 'See <a href="quickstart/?utm_source=home#install">the quickstart</a>, '
                                  '<a href="quickstart/index.html">again</a> or <a href="img/logo.png">the logo</a>. Install HTTPX using pip:')
    docs.put("/", home)
    report = await crawl_into(empty_home, start=docs.base)
    assert docs.paths().count("/quickstart/") == 1 and not any("utm_source" in p for p in docs.paths())
    assert "/img/logo.png" not in docs.paths()  # an asset: never requested
    assert "/quickstart/index.html" in docs.paths() and docs.base + "quickstart/index.html" not in report.added  # same canonical
    assert normalise_url("HTTP://Example.com:80/a/./b/../c/?b=2&utm_medium=x&a=1#top") == "http://example.com/a/c/?a=1&b=2"


async def test_a_broken_page_is_reported_and_skipped_and_the_others_ingested(docs, empty_home):
    docs.handlers["/http2/"] = lambda request: web.Response(status=500, text="boom")
    report = await crawl_into(empty_home, start=docs.base)
    assert [p for p in report.problems if "/http2/" in p] == [f"{docs.base}http2/: HTTP 500 (skipped)"]
    assert mirrored(empty_home, docs) == page_files(p for p in PAGES if p != "http2/")


async def test_429_is_retried_once_after_retry_after(docs, empty_home):
    calls = []

    def busy(request):
        calls.append(time.monotonic())
        return web.Response(status=429, headers={"Retry-After": "1"}) if len(calls) == 1 else None

    docs.handlers["/async/"] = busy
    policy = CrawlPolicy(timeout_seconds=5.0, max_retry_after=5.0)
    report = await crawl_into(empty_home, start=docs.base, policy=policy)
    assert docs.base + "async/" in report.added
    assert len(calls) == 2 and calls[1] - calls[0] >= 0.95


async def test_a_page_that_stays_unavailable_is_retried_only_once(docs, empty_home):
    docs.handlers["/async/"] = lambda request: web.Response(status=503, headers={"Retry-After": "0"})
    report = await crawl_into(empty_home, start=docs.base)
    assert docs.paths().count("/async/") == 2
    assert f"{docs.base}async/: HTTP 503 (skipped)" in report.problems


async def test_crawl_delay_spaces_requests_up_to_the_cap(docs, empty_home):
    docs.handlers["/robots.txt"] = lambda request: web.Response(text="User-agent: BatonBot\nCrawl-delay: 30\nDisallow: /code_of_conduct/\n")
    await crawl_into(empty_home, start=docs.base, max_pages=4)
    assert len(docs.hits) == 5  # robots.txt + 4 pages, each at least 0.3 s (the cap, not 30 s) after the last
    gaps = [b.at - a.at for a, b in zip(docs.hits[1:], docs.hits[2:])]
    assert all(0.25 <= gap < 5 for gap in gaps), gaps  # starts are spaced; arrival adds jitter


async def test_max_pages_caps_the_crawl(docs, empty_home):
    report = await crawl_into(empty_home, start=docs.base, max_pages=3)
    assert len(report.added) + len(report.problems) == 3 and len(docs.hits) == 4


@pytest.mark.parametrize("body, expected", [
    ("<html><body><h1>Not a sitemap</h1><p>oops<br></body></html>", "is not a sitemap: not XML"),
    ('<?xml version="1.0"?><rss><channel/></rss>', "its root element is <rss>"),
])
async def test_a_sitemap_that_is_not_a_sitemap_is_a_clear_error(docs, empty_home, body, expected):
    docs.put("/sitemap.xml", body)
    with pytest.raises(CrawlError, match=expected) as caught:
        await crawl_into(empty_home, start=docs.base + "sitemap.xml")
    assert "\n" not in str(caught.value)


async def test_an_unreachable_site_is_a_crawl_error_and_the_mirror_is_kept(empty_home):
    docs = DocsServer().start()
    await crawl_into(empty_home, start=docs.base)
    before = mirrored(empty_home, docs)
    base = docs.base
    docs.stop()
    result = crawl_sites(urls=[base], home=empty_home, index_dir=empty_home / "index", max_pages=50, policy=FAST)
    assert result.reports == [] and list(result.errors) == [base]
    assert result.errors[base].startswith(f"cannot reach {base.rstrip('/')}")
    assert mirrored(empty_home, docs) == before


async def test_a_missing_start_page_is_a_crawl_error(docs):
    with pytest.raises(CrawlError, match="start page .*/nowhere/: HTTP 404"):
        await crawl_site(start=docs.base + "nowhere/", max_pages=5, policy=FAST)


def test_scope_of_a_start_url():
    assert Scope.of("https://d.example/docs/intro.html") == Scope("https://d.example", "/docs/")
    assert Scope.of("https://d.example/docs") == Scope("https://d.example", "/docs/")
    assert Scope.of("https://d.example/sitemap.xml") == Scope("https://d.example", "/")
    scope = Scope.of("https://d.example/docs/")
    assert scope.contains("https://d.example/docs") and scope.contains("https://d.example/docs/a/b")
    assert not scope.contains("https://d.example/blog/") and not scope.contains("http://d.example/docs/")
    assert not scope.contains("https://d.example:8443/docs/")
