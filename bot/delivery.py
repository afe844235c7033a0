"""Posting at most once: the core's outbound posts go through the delivery log.

A post with an idempotency key is recorded before the platform call and marked sent with the
platform's answer after it. Retrying a sent key returns the first answer; retrying a key whose
earlier attempt never got its answer recorded (the process died in between) first asks the
adapter whether the post exists (``find``), and only posts if it does not.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.store.durable import Deliveries


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

    def __init__(self, *, deliveries: Deliveries | None) -> None:
        self.deliveries = deliveries

    async def run(self, *, key: str | None, platform: str, send: Callable[[], Awaitable[dict]], find: Callable[[], Awaitable[dict | None]] | None = None) -> Delivered:
        if key is None or self.deliveries is None:
            return Delivered(await send(), True)
        earlier = self.deliveries.begin(key=key, platform=platform)
        if earlier is not None and earlier.sent_at is not None:
            return Delivered(dict(earlier.result), False)
        if earlier is not None and find is not None:  # an earlier attempt may have reached the platform
            found = await find()
            if found is not None:
                self.deliveries.sent(key=key, result=found)
                return Delivered(found, False)
        result = await send()
        self.deliveries.sent(key=key, result=result)
        return Delivered(result, True)
