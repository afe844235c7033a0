"""Fixtures for the web surface: the real web app in the demo mode and in a deployment.

``deployment`` builds the full app as `baton serve --host 0.0.0.0` would with Slack (pointed at
the local Slack stand-in) and Teams (real Bot Framework auth) configured, the sandbox on and the
admin token as its sign-in method. ``session_cookie`` mints a signed session for a person, as
the sign-in routes would after a successful sign-in, to test what each role may open.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.settings import Settings
from adapters.web.sessions import SESSION_COOKIE, WebSession

from tests.standins.slack_api import SlackStandIn

REPO_ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]
ADMIN_TOKEN = "web-admin-token-0123456789"
METRICS_TOKEN = "web-metrics-token-0123456789"
SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
PEOPLE = {"agent": "ann@support.example", "lead": "lee@support.example", "admin": "ada@support.example"}


@dataclass
class Served:
    """A started test client on the built app, with the settings and core behind it."""

    client: TestClient
    settings: Settings
    core: object

    def cookie_for(self, *, role: str = "agent", email: str | None = None, provider: str = "slack", user_id: str = "") -> dict[str, str]:
        """The session cookie a person with this role would carry after signing in."""
        from adapters.web.signin import SIGNIN_KEY

        signer = self.client.app[SIGNIN_KEY].policy.signer
        email = email or PEOPLE[role]
        session = WebSession(sid=f"sid-{role}-{email}", provider=provider, user_id=user_id or f"U{role.upper()}", name=email.split("@")[0].title(), email=email)
        return {SESSION_COOKIE: signer.sign(payload=session.payload(), max_age_seconds=3600)}


def deployment_settings(*, make_settings: Callable[..., Settings], slack: SlackStandIn, **overrides) -> Settings:
    values = dict(
        host="0.0.0.0", slack_bot_token=slack.bot_token, slack_signing_secret=SIGNING_SECRET, slack_api_url=slack.base_url,
        microsoft_app_id="00000000-0000-0000-0000-00000000b0b0", microsoft_app_password="teams-secret", teams_local_mode=False,
        admin_token=ADMIN_TOKEN, agents=PEOPLE["agent"], leads=PEOPLE["lead"], admins=PEOPLE["admin"],
    )
    values.update(overrides)
    return make_settings(**values)


@pytest.fixture
async def slack() -> AsyncIterator[SlackStandIn]:
    async with SlackStandIn() as standin:
        yield standin


@pytest.fixture
async def serve_app(make_settings):
    """Start the real web app for given settings; every started client is closed afterwards."""
    from bot.app import build_core
    from bot.server import build_web_app

    started: list[TestClient] = []

    async def start(settings: Settings) -> Served:
        core = build_core(settings=settings)
        client = TestClient(TestServer(build_web_app(core=core, settings=settings), host="127.0.0.1"))
        await client.start_server()
        started.append(client)
        return Served(client=client, settings=settings, core=core)

    yield start
    for client in started:
        await client.close()


@pytest.fixture
async def deployment(serve_app, make_settings, slack) -> Served:
    return await serve_app(deployment_settings(make_settings=make_settings, slack=slack, metrics_token=METRICS_TOKEN))


@pytest.fixture
async def demo(serve_app, make_settings) -> Served:
    return await serve_app(make_settings())
