"""SlackOutbox: the core's PlatformOutbox for Slack, plus a small per-channel pacer.

Rate limits have exactly one retry owner: slack_sdk's ``AsyncRateLimitErrorRetryHandler``
attached to the client in ``app.py`` (one retry, honouring ``Retry-After``). Nothing here
retries. Posts with an idempotency key (replies, cards) carry it as Slack message metadata, so
the core's delivery log can ask ``find_post`` whether an attempt cut short by a crash reached
Slack before posting again.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import render
from bot.delivery import card_key
from bot.outbox import QueueTarget
from bot.types import HandoffCard, Reply

log = logging.getLogger(__name__)
PLATFORM = "slack"
_REMEMBERED = 5000
METADATA_EVENT = "baton_post"  # the metadata event type that tags Baton's keyed posts


class ChannelPacer:
    """Spaces chat.postMessage calls in one channel ``interval`` seconds apart (Slack: ~1/s/channel)."""

    def __init__(self, *, interval: float) -> None:
        self.interval = interval
        self._next: dict[str, float] = {}

    async def wait(self, channel: str) -> None:
        """Reserve the channel's next slot (first come, first served) and sleep until it."""
        if self.interval <= 0:
            return
        now = asyncio.get_running_loop().time()
        slot = max(now, self._next.get(channel, 0.0))
        self._next[channel] = slot + self.interval
        if slot > now:
            await asyncio.sleep(slot - now)


class SlackOutbox:
    """Posts replies in customer threads and cards in queue channels; returns Slack ts ids."""

    platform = PLATFORM

    def __init__(self, *, client: AsyncWebClient, pacer: ChannelPacer) -> None:
        self.client = client
        self.pacer = pacer
        self._cards: OrderedDict[tuple[str, str], str] = OrderedDict()
        self.card_channels: set[str] = set()

    async def post(self, *, channel: str, text: str, thread_ts: str | None = None, blocks: list[dict] | None = None, key: str | None = None) -> str:
        """One paced chat.postMessage; link previews off so cards and answers stay compact."""
        await self.pacer.wait(channel)
        metadata = {"event_type": METADATA_EVENT, "event_payload": {"key": key}} if key else None
        response = await self.client.chat_postMessage(channel=channel, text=text, thread_ts=thread_ts, blocks=blocks, unfurl_links=False, unfurl_media=False, metadata=metadata)
        return str(response["ts"])

    async def find_post(self, *, key: str, channel: str, thread: str | None) -> str | None:
        """The ts of Baton's post tagged ``key`` in a thread (or among a channel's latest posts)."""
        if thread:
            response = await self.client.conversations_replies(channel=channel, ts=thread, include_all_metadata=True, limit=200)
        else:
            response = await self.client.conversations_history(channel=channel, include_all_metadata=True, limit=200)
        for message in response.get("messages") or []:
            payload = (message.get("metadata") or {}).get("event_payload") or {}
            if (message.get("metadata") or {}).get("event_type") == METADATA_EVENT and payload.get("key") == key:
                return str(message["ts"])
        return None

    async def send_reply(self, reply: Reply) -> str | None:
        """A reply in the customer's thread: answers get source links and feedback buttons."""
        blocks = None
        if reply.kind == "answer" and (reply.buttons or reply.sources):
            blocks = render.answer_blocks(reply=reply, decision_id=reply.decision_id)
        elif reply.buttons:
            blocks = render.button_blocks(reply=reply)
        return await self.post(channel=reply.ref.channel, thread_ts=reply.ref.thread, text=render.reply_text(reply), blocks=blocks, key=reply.idempotency_key)

    async def post_card(self, *, target: QueueTarget, card: HandoffCard) -> dict[str, Any]:
        ts = await self.post(channel=target.channel, text=render.card_fallback(card), blocks=render.card_blocks(card), key=card_key(card.ticket_id))
        self.card_channels.add(target.channel)
        _remember(self._cards, (target.channel, ts), card.ticket_id)
        return {"platform": PLATFORM, "channel": target.channel, "message_id": ts}

    async def update_card(self, *, card_ref: dict[str, Any], card: HandoffCard) -> None:
        """Re-render the card in place, so every agent sees the same state."""
        await self.client.chat_update(channel=card_ref["channel"], ts=card_ref["message_id"], text=render.card_fallback(card), blocks=render.card_blocks(card))

    async def post_in_card_thread(self, *, card_ref: dict[str, Any], text: str) -> None:
        await self.post(channel=card_ref["channel"], thread_ts=card_ref["message_id"], text=render.mrkdwn(text, render.MESSAGE_LIMIT))

    async def notify_agent(self, *, card_ref: dict[str, Any], agent_id: str, text: str) -> None:
        """An ephemeral notice only that agent sees, next to the card."""
        await self.client.chat_postEphemeral(channel=card_ref["channel"], user=agent_id, text=text)

    def ticket_for_card(self, *, channel: str, ts: str) -> str | None:
        """The ticket of a card this process posted (None if unknown: the store knows)."""
        return self._cards.get((channel, ts))


def _remember(mapping: OrderedDict, key: Any, value: Any) -> None:
    mapping[key] = value
    while len(mapping) > _REMEMBERED:
        mapping.popitem(last=False)
