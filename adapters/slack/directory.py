"""Who and where: users.info, conversations.info and chat.getPermalink, cached.

Names, teams and permalinks rarely change, and each lookup is a Web API call, so answers are
kept for an hour (bounded). A failed lookup degrades to ids instead of failing the turn.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.convert import person_from
from bot.types import Person

log = logging.getLogger(__name__)
_MISSING = object()


class TtlCache:
    """A small bounded cache whose entries expire after ``ttl`` seconds."""

    def __init__(self, *, ttl: float, size: int) -> None:
        self.ttl, self.size = ttl, size
        self._items: OrderedDict[Any, tuple[float, Any]] = OrderedDict()

    def get(self, key: Any) -> Any:
        found = self._items.get(key)
        if found is None or found[0] < time.monotonic():
            return _MISSING
        return found[1]

    def put(self, key: Any, value: Any) -> None:
        self._items[key] = (time.monotonic() + self.ttl, value)
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)


class SlackDirectory:
    """Cached lookups the adapter needs to build people and conversation references."""

    def __init__(self, *, client: AsyncWebClient, ttl: float = 3600.0, size: int = 5000) -> None:
        self.client = client
        self._cache = TtlCache(ttl=ttl, size=size)

    async def _cached(self, key: tuple, fetch) -> Any:
        value = self._cache.get(key)
        if value is _MISSING:
            try:
                value = await fetch()
            except SlackApiError as exc:
                log.warning("slack lookup %s failed: %s", key[0], exc.response.get("error"))
                value = None
            self._cache.put(key, value)
        return value

    async def user(self, user_id: str) -> dict | None:
        """The users.info ``user`` object (None when Slack would not say)."""

        async def fetch() -> dict | None:
            return (await self.client.users_info(user=user_id)).get("user")

        return await self._cached(("users.info", user_id), fetch)

    async def person(self, *, user_id: str, user_team: str | None, home_team: str | None, profile: dict | None = None) -> Person:
        """A Person with name, email and, for Slack Connect users, their own team."""
        info = await self.user(user_id) or ({"profile": profile} if profile else None)
        return person_from(user_id=user_id, user_team=user_team, home_team=home_team, profile=info)

    async def name(self, user_id: str) -> str:
        """A person's display name, or their id."""
        return (await self.person(user_id=user_id, user_team=None, home_team=None)).display_name

    async def permalink(self, *, channel: str, ts: str) -> str | None:
        """A link to a message (the customer's thread root, for the card)."""

        async def fetch() -> str | None:
            return (await self.client.chat_getPermalink(channel=channel, message_ts=ts)).get("permalink")

        return await self._cached(("chat.getPermalink", channel, ts), fetch)

    async def channel_name(self, channel: str) -> str | None:
        """A channel's name for the card's label; direct messages have none."""
        if channel.startswith("D"):
            return None

        async def fetch() -> str | None:
            return ((await self.client.conversations_info(channel=channel)).get("channel") or {}).get("name")

        return await self._cached(("conversations.info", channel), fetch)
