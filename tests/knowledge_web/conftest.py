"""Fixtures for the docs-website tests: the HTTPX docs served on 127.0.0.1, homes and settings.

One docs server runs for the whole session (reset before each test), so its address is the
same in every test; ``indexed_home`` crawls and embeds the site once, and ``site_home`` hands
each test its own copy of that home, so a test pays only for the pages it changes.  Tests that
must start from nothing use ``empty_home``.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.settings import SAMPLE_RULES, Settings
from knowledge.fetch import CrawlPolicy

from .docs_server import DocsServer

# Quick to fail and to retry, so fault tests take seconds; otherwise the crawler's defaults.
FAST = CrawlPolicy(timeout_seconds=5.0, max_retry_after=2.0, default_retry_after=0.1, max_crawl_delay=0.3)

# The pages the crawl must find from the home page: the site's nav, robots.txt keeping out
# /code_of_conduct/.
PAGES = ["", "quickstart/", "advanced/clients/", "advanced/authentication/", "advanced/ssl/", "advanced/proxies/",
         "advanced/timeouts/", "advanced/resource-limits/", "advanced/event-hooks/", "async/", "http2/",
         "troubleshooting/", "exceptions/", "environment_variables/"]


@pytest.fixture(scope="session")
def docs_server() -> Iterator[DocsServer]:
    server = DocsServer().start()
    yield server
    server.stop()


@pytest.fixture
def docs(docs_server) -> Iterator[DocsServer]:
    """The session's docs server, as the fixture site, with an empty request log."""
    docs_server.reset()
    yield docs_server
    docs_server.reset()


@pytest.fixture(scope="session")
def embedding_cache(tmp_path_factory) -> Path:
    """One embedding cache for the session: the rules' category examples are embedded once."""
    return tmp_path_factory.mktemp("web-embedding-cache")


def make_home(path: Path, *, cache: Path) -> Path:
    """A fresh home (own index, mirrors and crawl state) whose ``cache/`` is the shared one."""
    path.mkdir(parents=True)
    (path / "cache").symlink_to(cache, target_is_directory=True)
    return path


@pytest.fixture
def empty_home(tmp_path, embedding_cache) -> Path:
    return make_home(tmp_path / "home", cache=embedding_cache)


@pytest.fixture(scope="session")
def indexed_home(tmp_path_factory, docs_server, embedding_cache, encoder) -> Path:
    """A home where the whole site was crawled and embedded once (the real crawler and encoder)."""
    from knowledge.sites import ingest_everything

    home = make_home(tmp_path_factory.mktemp("web-indexed") / "home", cache=embedding_cache)
    docs_server.reset()
    sites, report = ingest_everything(folder=None, urls=[docs_server.base], home=home, index_dir=home / "index",
                                      encoder=encoder, max_pages=50, policy=FAST)
    assert not sites.errors and len(report.added) == len(PAGES), (sites.errors, report.summary())
    return home


@pytest.fixture
def site_home(tmp_path, indexed_home) -> Path:
    """This test's own copy of ``indexed_home``."""
    return Path(shutil.copytree(indexed_home, tmp_path / "home", symlinks=True))


@pytest.fixture
def site_settings(tmp_path, database_url):
    """Settings for a home, whose knowledge is an empty folder (or ``folder``) plus the docs URLs."""

    def build(*, home: Path, urls: str, folder: Path | None = None, **overrides) -> Settings:
        empty = tmp_path / "kb"
        empty.mkdir(exist_ok=True)
        values = dict(home=home, database_url=database_url, rules=SAMPLE_RULES, knowledge=folder or empty,
                      knowledge_urls=urls)
        values.update(overrides)
        return Settings(_env_file=None, **values)

    return build
