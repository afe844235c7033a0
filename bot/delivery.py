"""Posting at most once: the core's outbound posts go through the delivery log.

A post with an idempotency key is recorded before the platform call and marked sent with the
platform's answer after it. Retrying a sent key returns the first answer; retrying a key whose
earlier attempt never got its answer recorded (the process died in between) first asks the
adapter whether the post exists (``find``), and only posts if it does not.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bot.store.durable import Deliveries
from bot.threads import INLINE, Threads
from bot.types import Reply


def card_key(ticket_id: str) -> str:
    """The idempotency key of a ticket's handoff card (the core and the adapters agree on it)."""
    return f"card:{ticket_id}"


@dataclass(frozen=True, slots=True)
class Delivered:
    """What the platform returned for a post, and whether this call made the post."""

    result: dict
    fresh: bool


class OnceOnly:
    """Runs a post once per key; without a delivery log (or a key) it just posts."""

    def __init__(self, *, deliveries: Deliveries | None, threads: Threads = INLINE) -> None:
        self.deliveries = deliveries
        self.threads = threads

    async def run(self, *, key: str | None, platform: str, send: Callable[[], Awaitable[dict]], find: Callable[[], Awaitable[dict | None]] | None = None) -> Delivered:
        if key is None or self.deliveries is None:
            return Delivered(await send(), True)
        earlier = await self.threads.run(self.deliveries.begin, key=key, platform=platform)
        if earlier is not None and earlier.sent_at is not None:
            return Delivered(dict(earlier.result), False)
        if earlier is not None and find is not None:  # an earlier attempt may have reached the platform
            found = await find()
            if found is not None:
                await self.threads.run(self.deliveries.sent, key=key, result=found)
                return Delivered(found, False)
        result = await send()
        await self.threads.run(self.deliveries.sent, key=key, result=result)
        return Delivered(result, True)

    async def reply(self, *, outbox: Any, reply: Reply) -> Delivered:
        """``outbox.send_reply`` at most once per ``reply.idempotency_key``; the result holds ``message_id``."""

        async def send() -> dict:
            return {"message_id": await outbox.send_reply(reply)}

        key = reply.idempotency_key
        find = finder(outbox, key=key, channel=reply.ref.channel, thread=reply.ref.thread, wrap=lambda ts: {"message_id": ts})
        return await self.run(key=key, platform=outbox.platform, send=send, find=find)


def finder(outbox: Any, *, key: str | None, channel: str, thread: str | None, wrap: Callable[[str], dict]) -> Callable[[], Awaitable[dict | None]] | None:
    """How to look for an earlier attempt's post on the platform (None when the adapter cannot)."""
    find_post = getattr(outbox, "find_post", None)
    if key is None or find_post is None:
        return None

    async def find() -> dict | None:
        found = await find_post(key=key, channel=channel, thread=thread)
        return wrap(found) if found else None

    return find
