"""Fixtures for the stand-in tests: a started Slack stand-in and a real client pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from .slack_api import SlackStandIn

ALICE = "U0ALICE"


@pytest.fixture
async def slack() -> AsyncIterator[SlackStandIn]:
    """A running Slack stand-in that knows one person, Alice."""
    users = {ALICE: {"name": "alice", "real_name": "Alice Martin", "display_name": "alice.m"}}
    async with SlackStandIn(users=users) as standin:
        yield standin


@pytest.fixture
def web_client(slack: SlackStandIn) -> AsyncWebClient:
    """slack_sdk's AsyncWebClient talking to the stand-in with the bot token (no retry handlers added)."""
    return AsyncWebClient(base_url=slack.base_url, token=slack.bot_token)
