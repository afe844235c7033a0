"""How the core talks back: one outbox per platform, and a router that picks by platform.

Replies go to the customer's platform; cards go to the queue's platform, so a Teams customer's
case can be handled from a Slack queue and back. ``RecordingOutbox`` records what would have
been sent: the simplest possible fake for testing the core (after Rasa's collecting channel).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.types import HandoffCard, Reply


@dataclass(frozen=True, slots=True)
class QueueTarget:
    """Where a queue's cards go on one platform."""

    name: str
    platform: str
    channel: str
    native: dict[str, Any] = field(default_factory=dict)
    on_call: str | None = None


class PlatformOutbox(Protocol):
    """What each adapter implements; every method returns platform ids to store or None."""

    platform: str

    async def send_reply(self, reply: Reply) -> str | None: ...

    async def post_card(self, *, target: QueueTarget, card: HandoffCard) -> dict[str, Any]: ...

    async def update_card(self, *, card_ref: dict[str, Any], card: HandoffCard) -> None: ...

    async def post_in_card_thread(self, *, card_ref: dict[str, Any], text: str) -> None: ...

    async def notify_agent(self, *, card_ref: dict[str, Any], agent_id: str, text: str) -> None: ...

    # Optional: ``card_shows_mentions = False`` when a card cannot carry a live @mention of the
    # agent who claimed it (Teams); the claimer is then @mentioned in the card's thread instead.
    # Optional: ``async def find_post(self, *, key: str, channel: str, thread: str | None) -> str | None``
    # finds a post tagged with an idempotency key (the delivery log asks before posting again).


class OutboxRouter:
    """Dispatches to the outbox of the right platform; unknown platforms raise clearly."""

    def __init__(self, *, outboxes: list[PlatformOutbox] | None = None) -> None:
        self._by_platform: dict[str, PlatformOutbox] = {}
        for outbox in outboxes or []:
            self.add(outbox)

    def add(self, outbox: PlatformOutbox) -> None:
        self._by_platform[outbox.platform] = outbox

    def has(self, platform: str) -> bool:
        return platform in self._by_platform

    @property
    def platforms(self) -> list[str]:
        return list(self._by_platform)

    def for_platform(self, platform: str) -> PlatformOutbox:
        try:
            return self._by_platform[platform]
        except KeyError:
            raise LookupError(f"no outbox for platform '{platform}' (configured: {', '.join(self._by_platform) or 'none'})") from None


@dataclass
class Sent:
    """One recorded outbound call."""

    kind: str
    payload: Any
    target: Any = None


class RecordingOutbox:
    """Records replies and cards in memory instead of sending them anywhere."""

    def __init__(self, *, platform: str = "test") -> None:
        self.platform = platform
        self.sent: list[Sent] = []
        self._ids = itertools.count(1)

    def _next_id(self) -> str:
        return f"{self.platform}-msg-{next(self._ids)}"

    async def send_reply(self, reply: Reply) -> str | None:
        self.sent.append(Sent("reply", reply, reply.ref))
        return self._next_id()

    async def post_card(self, *, target: QueueTarget, card: HandoffCard) -> dict[str, Any]:
        card_id = self._next_id()
        self.sent.append(Sent("card", card, target))
        return {"platform": self.platform, "channel": target.channel, "message_id": card_id}

    async def update_card(self, *, card_ref: dict[str, Any], card: HandoffCard) -> None:
        self.sent.append(Sent("card_update", card, card_ref))

    async def post_in_card_thread(self, *, card_ref: dict[str, Any], text: str) -> None:
        self.sent.append(Sent("card_thread", text, card_ref))

    async def notify_agent(self, *, card_ref: dict[str, Any], agent_id: str, text: str) -> None:
        self.sent.append(Sent("agent_notice", text, agent_id))

    def of_kind(self, kind: str) -> list[Sent]:
        return [s for s in self.sent if s.kind == kind]

    def replies(self) -> list[Reply]:
        return [s.payload for s in self.of_kind("reply")]

    def cards(self) -> list[HandoffCard]:
        return [s.payload for s in self.of_kind("card")]
