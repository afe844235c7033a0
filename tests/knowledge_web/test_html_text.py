"""HTML to citable text, on the real HTTPX pages: content kept, site chrome dropped, anchors found."""

from __future__ import annotations

from knowledge.chunking import chunk_document
from knowledge.html_text import page_markdown, parse_page
from knowledge.loaders import parse_markdown

from .docs_server import REAL_BASE, SITE

BASE = "http://127.0.0.1:8000/"


def timeouts_page():
    html = (SITE / "advanced/timeouts/index.html").read_text(encoding="utf-8").replace(REAL_BASE, BASE)
    return parse_page(html, url=BASE + "advanced/timeouts/")


def test_article_text_and_headings_are_kept_and_site_chrome_dropped():
    page = timeouts_page()
    text = "\n".join(b.text for b in page.blocks)
    assert page.title == "Timeouts"
    assert [b.text for b in page.blocks if b.kind == "heading"] == [
        "Setting and disabling timeouts", "Setting a default timeout on a client", "Fine tuning the configuration"]
    assert "raise a TimeoutException after 5 seconds" in text
    assert "httpx.Timeout(10.0, connect=60.0)" in text  # code blocks kept verbatim
    for chrome in ("Skip to content", "Table of contents", "Made with", "Material for MkDocs", "Search", "Previous", "¶", "QuickStart"):
        assert chrome not in text, chrome


def test_heading_ids_become_anchors_and_canonical_is_read():
    page = timeouts_page()
    anchors = [b.anchor for b in page.blocks if b.kind == "heading"]
    assert anchors == ["setting-and-disabling-timeouts", "setting-a-default-timeout-on-a-client", "fine-tuning-the-configuration"]
    assert page.canonical == BASE + "advanced/timeouts/"


def test_every_link_is_kept_for_the_crawler_including_the_navigation():
    links = timeouts_page().links
    assert BASE + "quickstart/" in links and BASE + "advanced/ssl/" in links  # from the nav sidebar
    assert BASE + "code_of_conduct/" in links
    assert "https://github.com/encode/httpx/" in links


def test_markdown_mirror_round_trips_to_sections_with_the_page_anchors():
    page = timeouts_page()
    markdown = page_markdown(page, url=BASE + "advanced/timeouts/", fetched=BASE + "advanced/timeouts/")
    doc = parse_markdown(markdown, doc_id="sites/x/advanced/timeouts/index", rel="x.md", stem="index")
    assert doc.title == "Timeouts" and doc.url == BASE + "advanced/timeouts/"
    passages = chunk_document(doc)
    urls = {p.heading: p.url for p in passages}
    assert urls["Fine tuning the configuration"] == BASE + "advanced/timeouts/#fine-tuning-the-configuration"
    assert urls[""] == BASE + "advanced/timeouts/"


def test_links_in_text_keep_their_target_as_a_citation():
    html = (SITE / "exceptions/index.html").read_text(encoding="utf-8")
    page = parse_page(html, url=BASE + "exceptions/")
    assert any(f"[Exceptions (Quickstart)]({BASE}quickstart/#exceptions)" in b.text for b in page.blocks)


def test_nearest_heading_id_and_robots_meta_and_boilerplate_without_main():
    html = """<html><head><title>T</title><meta name="robots" content="noindex, nofollow"></head><body>
    <header><a href="/">Home</a> Site banner</header><nav>Menu</nav>
    <h1>Guide</h1><section id="setup"><h2>Setup</h2><p>Install it.</p><h3>On Linux</h3><p>Use apt.</p></section>
    <aside>Related posts</aside><div role="navigation">Breadcrumb</div><footer>© Company</footer>
    <script>var secret = 1;</script></body></html>"""
    page = parse_page(html, url="http://h/guide/")
    assert page.noindex and page.nofollow and page.title == "Guide"
    assert [(b.text, b.anchor) for b in page.blocks if b.kind == "heading"] == [("Setup", "setup"), ("On Linux", "setup")]
    assert [b.text for b in page.blocks if b.kind == "text"] == ["Install it.", "Use apt."]
    doc = parse_markdown(page_markdown(page, url="http://h/guide/", fetched="http://h/guide/"), doc_id="g", rel="g.md", stem="g")
    assert [p.url for p in chunk_document(doc)] == ["http://h/guide/#setup", "http://h/guide/#setup"]  # the page's ids, not slugs
