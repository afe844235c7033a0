"""Fixtures for the sandbox: the real core on the sample deployment, served by the real web app.

``sandbox_core`` is built once per module (the knowledge index and intent model are the slow
part); tests keep apart by using their own conversation ids. ``client`` is an aiohttp test
client; ``live_server`` serves the app on a free loopback port from a background thread, for
the browser tests.
"""

from __future__ import annotations

import uuid

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.settings import Settings

from .live import build, sandbox_settings, start_live_server


@pytest.fixture(scope="module")
def module_settings(shared_home, tmp_path_factory) -> Settings:
    return sandbox_settings(home=shared_home, database=tmp_path_factory.mktemp("sandbox-db") / "baton.db")


@pytest.fixture(scope="module")
def sandbox_core(module_settings):
    core, _ = build(module_settings)
    return core


@pytest.fixture
async def client(sandbox_core, module_settings):
    """An aiohttp test client on the full web app (every adapter mounted as in `baton serve`)."""
    from bot.server import build_web_app

    app = build_web_app(core=sandbox_core, settings=module_settings)
    async with TestClient(TestServer(app)) as test_client:
        await with_csrf_token(test_client)
        yield test_client


async def with_csrf_token(test_client: TestClient) -> str:
    """Do what the page does first: read /auth/me (the session cookie) and send its CSRF token."""
    token = (await (await test_client.get("/auth/me")).json())["csrf"]
    test_client.session.headers["X-CSRF-Token"] = token
    return token


@pytest.fixture
def chat_id() -> str:
    """A fresh sandbox conversation id."""
    return f"t-{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="module")
def live_server(shared_home, tmp_path_factory):
    server = start_live_server(sandbox_settings(home=shared_home, database=tmp_path_factory.mktemp("sandbox-live") / "baton.db"))
    yield server
    server.stop()
