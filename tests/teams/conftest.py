"""Fixtures for the Teams adapter: a loopback guard, the Bot Connector stand-in, the real core
and web app with Teams mounted, and the Adaptive Card 1.5 schema."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from standins.botconnector import BotConnectorStandIn

REPO = Path(__file__).resolve().parents[2]
CARD_SCHEMA = REPO.parent / "shared" / "schemas" / "adaptive-card-1.5.schema.json"


def _is_loopback(address: object) -> bool:
    if not isinstance(address, tuple):
        return True
    host = str(address[0])
    return host.startswith("127.") or host in ("::1", "localhost")


@pytest.fixture
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> list:
    """Refuse (and record) every connection or DNS lookup that would leave the machine."""
    attempts: list = []
    real_connect, real_getaddrinfo = socket.socket.connect, socket.getaddrinfo

    def guard(address: object) -> None:
        if not _is_loopback(address):
            attempts.append(address)
            raise OSError(f"test guard: network access to {address!r} refused")

    def connect(sock, address):
        guard(address)
        return real_connect(sock, address)

    def getaddrinfo(host, *args, **kwargs):
        guard((host,))
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    for name in ("NO_PROXY", "no_proxy"):  # msrest/requests honour proxies from the environment
        monkeypatch.setenv(name, "127.0.0.1,localhost")
    return attempts


@pytest.fixture
async def connector(loopback_only):
    """A started Bot Connector stand-in on 127.0.0.1."""
    async with BotConnectorStandIn() as standin:
        yield standin


@pytest.fixture(scope="session")
def card_validator():
    """A jsonschema validator for Adaptive Cards 1.5 (skips when /work/shared is absent)."""
    if not CARD_SCHEMA.exists():
        pytest.skip(f"Adaptive Card schema not found at {CARD_SCHEMA}")
    import jsonschema

    schema = json.loads(CARD_SCHEMA.read_text(encoding="utf-8"))
    return jsonschema.Draft6Validator(schema)


@pytest.fixture
def assert_valid_card(card_validator):
    """Assert that a card dict is a valid Adaptive Card 1.5, listing every problem."""

    def check(card: dict) -> None:
        problems = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in card_validator.iter_errors(card)]
        assert not problems, "\n".join(problems)
        assert card["version"] == "1.5"

    return check


@pytest.fixture
async def teams(make_settings, connector):
    """The real core and web app with Teams mounted in explicit local mode (no app id)."""
    from teams.harness import HOME_TENANT, start_harness

    settings = make_settings(teams_local_mode=True, microsoft_app_tenant_id=HOME_TENANT, admin_token="test-admin-token")
    harness = await start_harness(settings=settings, connector=connector)
    yield harness
    await harness.client.close()
