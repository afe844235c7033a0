"""Docs websites into the real index with the real encoder, and the real core answering from them.

The HTTPX docs are served on 127.0.0.1 (see ``docs_server``); each test crawls them through
the real crawler, embeds with all-MiniLM-L6-v2 and searches the persisted index.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import socket
import subprocess
import sys
from pathlib import Path

from aiohttp import web

from bot.types import Action, Conversation, ConversationRef, InboundMessage, Person
from knowledge.index import KnowledgeIndex
from knowledge.search import search
from knowledge.sites import ingest_everything, site_id

from .conftest import FAST, PAGES
from .docs_server import DocsServer

REPO = Path(__file__).resolve().parents[2]
QUESTION = "How do I disable timeouts for a request?"
_ids = itertools.count(1)


def ingest_site(docs: DocsServer, *, home: Path, encoder, start: str | None = None, folder: Path | None = None):
    return ingest_everything(folder=folder, urls=[start or docs.base], home=home, index_dir=home / "index",
                             encoder=encoder, max_pages=50, policy=FAST)


def site_file(docs: DocsServer, page: str) -> str:
    """The index's source path of a mirrored page."""
    return f"sites/{site_id(docs.base)}/{page}index.md"


def message(text: str) -> InboundMessage:
    ref = ConversationRef(platform="test", channel="C-customer", thread=f"t{next(_ids)}")
    return InboundMessage(event_id=f"ev-web-{next(_ids)}", ref=ref, author=Person(platform_id="U1", display_name="Casey"), text=text)


# --------------------------------------------------------------------------- the core answers


async def test_core_answers_from_the_site_and_cites_the_page_and_its_section(docs, site_settings, empty_home, tmp_path):
    from bot.app import build_core
    from bot.outbox import OutboxRouter, RecordingOutbox

    folder = tmp_path / "team-kb"
    folder.mkdir()
    (folder / "support-hours.md").write_text("# Support hours\n\nOur support desk answers from 9:00 to 17:00 CET, Monday to Friday.\n")
    recording = RecordingOutbox(platform="test")
    settings = site_settings(home=empty_home, urls=docs.base, folder=folder)
    core = build_core(settings=settings, outboxes=OutboxRouter(outboxes=[recording]))  # crawls and embeds from nothing

    result = await core.dialogue.handle(message(QUESTION))
    assert result.status == "answered", result.decision.to_dict()
    top = result.decision.sources[0]
    assert top.url == f"{docs.base}advanced/timeouts/#setting-and-disabling-timeouts"
    assert top.anchor == "setting-and-disabling-timeouts" and top.title == "Timeouts"
    [reply] = recording.replies()
    assert reply.sources[0].url == top.url

    hours = core.engine.decide(Conversation(text="When is your support desk open?"))  # the folder, same index
    assert hours.action == Action.ANSWER and hours.sources[0].doc_id == "support-hours"
    doc_ids = {d.doc_id for d in core.knowledge.documents}
    assert len(doc_ids) == len(PAGES) + 1 and not any("code_of_conduct" in d for d in doc_ids)


# --------------------------------------------------------------------------- re-ingest


def test_reingest_fetches_with_validators_and_reembeds_only_the_changed_page(docs, site_home, encoder):
    sites, again = ingest_site(docs, home=site_home, encoder=encoder)  # nothing changed since indexed_home: all 304
    page_paths = {f"/{p}" for p in PAGES}
    assert {h.status for h in docs.hits if h.path in page_paths} == {304}
    assert all(h.headers.get("If-None-Match") for h in docs.hits if h.status == 304)
    assert again.embedded == 0 and len(again.unchanged) == len(PAGES) and len(sites.reports[0].unchanged) == len(PAGES)

    docs.put("/advanced/timeouts/", docs.text("/advanced/timeouts/").replace("after 5 seconds of", "after 7 seconds of"))
    docs.remove("/http2/")
    sites, third = ingest_site(docs, home=site_home, encoder=encoder)
    report = sites.reports[0]
    assert report.updated == [f"{docs.base}advanced/timeouts/"] and report.removed == [f"{docs.base}http2/"]
    assert third.updated == [site_file(docs, "advanced/timeouts/")] and third.removed == [site_file(docs, "http2/")]
    index = KnowledgeIndex.load(site_home / "index", encoder=encoder)
    timeouts = [p for p in index.passages if p.doc_id == site_file(docs, "advanced/timeouts/")[:-3]]
    assert third.embedded == len(timeouts) + 1  # that page's passages and its title, nothing else
    assert "7 seconds" in search(index, "how long until a TimeoutException is raised", k=1).hits[0].passage.text
    assert not any("http2" in d.doc_id for d in index.documents)


def test_without_validators_an_identical_body_is_not_embedded_again(docs, site_home, encoder):
    docs.validators = False
    sites, again = ingest_site(docs, home=site_home, encoder=encoder)
    assert {h.status for h in docs.hits if h.path in {f"/{p}" for p in PAGES}} == {200}  # full bodies ...
    assert again.embedded == 0 and len(sites.reports[0].unchanged) == len(PAGES)  # ... but the same hash


def test_a_page_dropped_from_the_sitemap_leaves_the_index(docs, site_home, encoder):
    sitemap = docs.base + "sitemap.xml"
    docs.put("/sitemap.xml", "\n".join(line for line in docs.text("/sitemap.xml").splitlines() if "/exceptions/" not in line))
    sites, report = ingest_site(docs, home=site_home, encoder=encoder, start=sitemap)
    assert sites.reports[0].removed == [f"{docs.base}exceptions/"] and report.removed == [site_file(docs, "exceptions/")]
    assert "/exceptions/" not in docs.paths() and report.embedded == 0


def test_a_folder_and_a_site_share_one_index_and_the_folder_ingest_still_works(docs, site_home, encoder, tmp_path):
    folder = tmp_path / "kb"
    folder.mkdir()
    (folder / "refunds.md").write_text("# Refunds\n\nRefunds are paid back within five working days.\n")
    sites, report = ingest_site(docs, home=site_home, encoder=encoder, folder=folder)
    assert report.added == ["refunds.md"] and len(report.unchanged) == len(PAGES) and report.embedded == 2
    (folder / "refunds.md").write_text("# Refunds\n\nRefunds are paid back within three working days.\n")
    sites, again = ingest_site(docs, home=site_home, encoder=encoder, folder=folder)
    assert again.updated == ["refunds.md"] and again.embedded == 2
    index = KnowledgeIndex.load(site_home / "index", encoder=encoder)
    assert search(index, "how fast are refunds paid", k=1).hits[0].passage.doc_id == "refunds"
    assert search(index, QUESTION, k=1).hits[0].passage.doc_id == site_file(docs, "advanced/timeouts/")[:-3]


# --------------------------------------------------------------------------- refresh while serving


GRACE = "How long is the grace period before HTTPX gives up?"


async def test_scheduled_refresh_swaps_the_new_index_into_the_running_core(docs, site_settings, site_home, caplog):
    from bot.app import build_core
    from bot.ops.loop import refresh_knowledge, run_ops

    core = build_core(settings=site_settings(home=site_home, urls=docs.base, knowledge_refresh_hours=0.0004))  # every 1.4 s
    searcher, before = core.engine.knowledge, core.knowledge
    docs.put("/advanced/timeouts/", docs.text("/advanced/timeouts/").replace(
        '<h2 id="setting-and-disabling-timeouts">',
        '<h2 id="grace-period">The grace period</h2><p>Every request gets a grace period of 42 seconds before HTTPX '
        'gives up waiting for the server.</p><h2 id="setting-and-disabling-timeouts">'))
    stop = asyncio.Event()
    task = asyncio.create_task(run_ops(core=core, interval_seconds=0.2, stop=stop))
    for _ in range(600):
        await asyncio.sleep(0.1)
        if core.knowledge is not before:
            break
    stop.set()
    await task
    assert core.knowledge is not before and core.engine.knowledge is searcher  # swapped in place, no rebuild
    assert core.engine.decide(Conversation(text=GRACE)).sources[0].url == f"{docs.base}advanced/timeouts/#grace-period"

    docs.handlers["/robots.txt"] = lambda request: web.Response(status=503, text="maintenance")  # the crawl fails
    with caplog.at_level(logging.ERROR):
        assert await refresh_knowledge(core=core)
    assert "not refreshed" in caplog.text and "robots.txt answered HTTP 503" in caplog.text
    assert core.engine.decide(Conversation(text=GRACE)).sources[0].url == f"{docs.base}advanced/timeouts/#grace-period"


async def test_a_refresh_that_fails_keeps_the_old_index(docs, site_settings, site_home, monkeypatch, caplog):
    from bot import app
    from bot.ops import loop

    core = app.build_core(settings=site_settings(home=site_home, urls=docs.base))
    before = core.knowledge

    def broken(**_kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(loop, "load_knowledge", broken)
    with caplog.at_level(logging.ERROR):
        assert not await loop.refresh_knowledge(core=core)
    assert core.knowledge is before and core.engine.knowledge.index is before
    assert "knowledge refresh failed" in caplog.text


def test_refresh_is_scheduled_only_with_sites_and_hours(site_settings, empty_home):
    from bot.ops.loop import refresh_interval_seconds

    assert refresh_interval_seconds(settings=site_settings(home=empty_home, urls="http://127.0.0.1:9/")) == 24 * 3600
    assert refresh_interval_seconds(settings=site_settings(home=empty_home, urls="http://127.0.0.1:9/", knowledge_refresh_hours=0)) is None
    assert refresh_interval_seconds(settings=site_settings(home=empty_home, urls="")) is None


# --------------------------------------------------------------------------- the CLI


def baton(*args: str, home: Path, env: dict) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("BATON_", "SLACK_", "OPENAI_", "MICROSOFT_"))}
    environment.update({"BATON_HOME": str(home)}, **env)
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=REPO, env=environment, capture_output=True, text=True, timeout=300)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_cli_ingests_a_site_and_names_an_unreachable_one_in_one_line(docs, site_home, tmp_path):
    kb = tmp_path / "kb"
    kb.mkdir()
    env = {"BATON_KNOWLEDGE": str(kb)}
    dead = f"http://127.0.0.1:{closed_port()}/"
    result = baton("ingest", "--url", docs.base, "--url", dead, home=site_home, env=env)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    [error] = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert error.startswith(f"error: cannot reach {dead.rstrip('/')}: ")
    assert f"crawled {docs.base}: 0 new, 0 changed, 0 removed, {len(PAGES)} unchanged" in result.stdout
    assert f"{len(PAGES)} unchanged" in result.stdout.splitlines()[-1]  # the reachable site was still ingested


def test_cli_says_when_a_sitemap_is_not_xml(docs, empty_home, tmp_path):
    docs.put("/sitemap.xml", "<html><body><p>Moved to our new help centre<br></body></html>")
    result = baton("ingest", "--url", docs.base + "sitemap.xml", home=empty_home, env={"BATON_KNOWLEDGE": str(tmp_path / "none")})
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith(f"error: {docs.base}sitemap.xml is not a sitemap: not XML")
