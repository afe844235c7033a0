"""Slack adapter fixtures: the Slack stand-in, signed requests, and Baton's real web app.

Requests are signed exactly as Slack signs them and posted over loopback into the aiohttp
application built by ``bot.server.build_web_app``; the adapter's Web API calls land in the
stand-in, where tests read them back.
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer
from slack_helpers import HOME, SECRET, USERS, Baton

from standins.slack_api import SlackStandIn


@pytest.fixture
async def slack_api() -> AsyncIterator[SlackStandIn]:
    async with SlackStandIn(users=copy.deepcopy(USERS), team_id=HOME) as standin:
        yield standin


@pytest.fixture
def fast_slack(monkeypatch):
    """Decide at once and post without pacing, so each test stays fast."""
    monkeypatch.setenv("BATON_SLACK_DEBOUNCE_SECONDS", "0")
    monkeypatch.setenv("BATON_SLACK_POST_INTERVAL_SECONDS", "0")


@pytest.fixture
def slack_settings(make_settings, slack_api, fast_slack):
    return make_settings(slack_bot_token=slack_api.bot_token, slack_signing_secret=SECRET, slack_api_url=slack_api.base_url, admin_token="test-admin-token")


@pytest.fixture
async def baton(slack_settings, slack_api) -> AsyncIterator[Baton]:
    """The real core and web app (bot.server.build_web_app) served on 127.0.0.1."""
    from bot.app import build_core
    from bot.server import build_web_app

    core = build_core(settings=slack_settings)
    app = build_web_app(core=core, settings=slack_settings)
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        yield Baton(client=client, core=core, slack=slack_api, app=app)
