"""The sandbox's outbox: "delivers" replies and cards by keeping them for the browser to poll.

Replies are recorded per conversation and cards per queue, in memory. The store stays the
source of truth (it keeps every message and ticket, and cards are re-rendered from tickets), so
a page reload, or a server restart, still shows everything; the memory adds what the store does
not keep: reply kinds, cited sources and the notes posted in a card's thread.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from typing import Any

from bot.outbox import QueueTarget
from bot.types import HandoffCard, Reply, utcnow

from adapters.sandbox.chat_view import SentReply
from adapters.sandbox.convert import PLATFORM


class SandboxOutbox:
    """Implements ``bot.outbox.PlatformOutbox`` for the local web sandbox."""

    platform = PLATFORM

    def __init__(self) -> None:
        self.replies: dict[str, list[SentReply]] = defaultdict(list)
        self.cards: dict[str, dict[str, HandoffCard]] = defaultdict(dict)
        self.notes: dict[str, list[str]] = defaultdict(list)
        self.notices: list[dict[str, str]] = []
        self.version = 0
        self._ids = itertools.count(1)

    def touch(self) -> int:
        """Mark that something changed, so polling browsers re-render."""
        self.version += 1
        return self.version

    def _next_id(self) -> str:
        return f"sandbox-msg-{next(self._ids)}"

    async def send_reply(self, reply: Reply) -> str | None:
        """Keep the reply for the conversation's chat pane."""
        message_id = self._next_id()
        buttons = tuple({"action": b.action, "label": b.label} for b in reply.buttons)
        sent = SentReply(text=reply.text, kind=reply.kind, sources=reply.sources, ticket_id=reply.ticket_id, buttons=buttons, author_name=reply.author_name, message_id=message_id, at=utcnow())
        self.replies[reply.ref.key].append(sent)
        self.touch()
        return message_id

    async def post_card(self, *, target: QueueTarget, card: HandoffCard) -> dict[str, Any]:
        """Put the card in the queue's column; the returned ref is stored on the ticket."""
        self.cards[target.channel][card.ticket_id] = card
        self.touch()
        return {"platform": self.platform, "channel": target.channel, "message_id": self._next_id(), "ticket_id": card.ticket_id}

    async def update_card(self, *, card_ref: dict[str, Any], card: HandoffCard) -> None:
        """Replace the card with its current state (claimed, released, resolved)."""
        self.cards[card_ref.get("channel", card.queue)][card.ticket_id] = card
        self.touch()

    async def post_in_card_thread(self, *, card_ref: dict[str, Any], text: str) -> None:
        """A note under the card: customer follow-ups, replies agents sent."""
        ticket_id = card_ref.get("ticket_id")
        if ticket_id:
            self.notes[ticket_id].append(text)
        self.touch()

    async def notify_agent(self, *, card_ref: dict[str, Any], agent_id: str, text: str) -> None:
        """A private notice for one agent (kept for the queue pane to show)."""
        self.notices.append({"agent_id": agent_id, "ticket_id": card_ref.get("ticket_id", ""), "text": text})
        self.touch()

    def sent_to(self, *, conversation_key: str) -> list[SentReply]:
        """What was delivered to one chat, oldest first."""
        return list(self.replies.get(conversation_key, []))

    def notes_for(self, *, ticket_id: str) -> list[str]:
        """Notes posted in one card's thread, oldest first."""
        return list(self.notes.get(ticket_id, []))
