"""Handoff cards on the queues: where a queue's cards go, posting, failover, updates, notes.

The ticket desk owns the tickets; this owns their cards. A card goes to its queue's channel (a
stored channel reference first, then the rules), else the default queue's. A channel that
refuses a card for good (it does not exist, or Baton is not in it) is remembered and never again
shadows the default queue; its cards go there with a note saying why. Every post carries an
idempotency key through the delivery log, so a retried or re-posted card appears once.
"""

from __future__ import annotations

import logging

from bot.cards import card_from_ticket
from bot.delivery import OnceOnly, card_key, finder
from bot.outbox import OutboxRouter, QueueTarget
from bot.rules import Rules
from bot.store.models import TicketRow
from bot.store.repo import Store
from bot.threads import INLINE, Threads
from bot.types import Role

log = logging.getLogger(__name__)

REFUSALS = ("channel_not_found", "not_in_channel", "is_archived", "conversationnotfound", "not found", "404")


CLAIM_ANNOUNCEMENT = "claimed this ticket and is on it."


def channel_refused(exc: Exception) -> bool:
    """True when the platform says the channel does not exist or the bot is not in it (Slack's
    channel_not_found, Teams' 404 ConversationNotFound), not when it is only unavailable."""
    text = f"{type(exc).__name__} {exc}".lower()
    return any(word in text for word in REFUSALS)


class CardDesk:
    """Posts, moves and updates the cards of tickets on the configured platforms."""

    def __init__(self, *, store: Store, rules: Rules, outboxes: OutboxRouter, once: OnceOnly, threads: Threads = INLINE) -> None:
        self.store = store
        self.threads = threads
        self.rules = rules
        self.outboxes = outboxes
        self.once = once
        self.unreachable: set[tuple[str, str]] = set()  # (platform, channel) that refused a card

    async def ensure_card(self, *, ticket: TicketRow) -> TicketRow:
        """Post the ticket's card unless it is already up (a recovered turn, the re-post job).

        A card its queue's channel refuses (a placeholder or deleted channel) goes to the default
        queue with a note saying why; that channel is then skipped for this process's life."""
        if ticket.card_refs:
            return ticket
        card_ref = await self._post_with_failover(ticket)
        if card_ref:
            ticket = await self.threads.run(self.store.update_ticket, ticket_id=ticket.id, card_refs=card_ref, card_message_id=card_ref.get("message_id")) or ticket
        return ticket

    async def _post_with_failover(self, ticket: TicketRow) -> dict | None:
        target = await self.queue_target(queue=ticket.queue)
        if target is None:
            log.warning("no platform is configured for queue %s; ticket %s is in the store only", ticket.queue, ticket.id)
            return None
        try:
            if card_ref := await self.post_card(ticket, target=target):
                await self._explain_fallback(ticket=ticket, posted=target, card_ref=card_ref)
                return card_ref
            problem = "no channel is known for it"
        except Exception as exc:
            log.warning("could not post the card of %s to %s %s (%s)", ticket.id, target.platform, target.channel, type(exc).__name__)
            if not channel_refused(exc):
                return None  # a timeout or a 5xx: the same queue is tried again (inbox retry, re-post job)
            problem = f"{type(exc).__name__}: {str(exc)[:120]}"
        self.unreachable.add((target.platform, target.channel))
        return await self._post_to_default(ticket=ticket, failed=target, problem=problem)

    async def _explain_fallback(self, *, ticket: TicketRow, posted: QueueTarget, card_ref: dict) -> None:
        """A card sent to the default queue because its own queue's channel is known to refuse
        cards says so in its thread, so agents know why a billing card sits in support."""
        own = await self._target_for(ticket.queue)
        if posted.name == ticket.queue or own is None or (own.platform, own.channel) not in self.unreachable:
            return
        note = (f"This card belongs to the {ticket.queue} queue, but its {own.platform} channel {own.channel} cannot take cards "
                f"(it does not exist or Baton is not in it); it is posted here, in the default queue.")
        await self.in_card_thread(ticket.model_copy(update={"card_refs": card_ref}), note)

    async def _post_to_default(self, *, ticket: TicketRow, failed: QueueTarget, problem: str) -> dict | None:
        fallback = await self.queue_target(queue=self.rules.default_queue)
        if fallback is None or (fallback.platform, fallback.channel) == (failed.platform, failed.channel):
            log.error("the card of %s reached no queue; it is kept and re-posted later", ticket.id)
            return None
        try:
            card_ref = await self.post_card(ticket, target=fallback, key=f"{card_key(ticket.id)}:default")
        except Exception:
            log.exception("the card of %s reached no queue; it is kept and re-posted later", ticket.id)
            return None
        if card_ref:
            note = (f"This card belongs to the {ticket.queue} queue, but its {failed.platform} channel {failed.channel} could not take it "
                    f"({problem}); it is posted here, in the default queue. Fix that queue's channel in the rules (or, in Teams, "
                    f"'@Baton use this channel as the {ticket.queue} queue').")
            await self.in_card_thread(ticket.model_copy(update={"card_refs": card_ref}), note)
        return card_ref

    async def move_card(self, *, ticket: TicketRow, old_refs: dict) -> TicketRow:
        """Post the card in its new queue and mark the old one as moved (same channel: update only)."""
        target = await self.queue_target(queue=ticket.queue)
        if target is None or (old_refs and (old_refs.get("platform"), old_refs.get("channel")) == (target.platform, target.channel)):
            await self.refresh(ticket)
            return ticket
        try:
            card_ref = await self.post_card(ticket, target=target, key=f"{card_key(ticket.id)}:queue:{ticket.queue}")
        except Exception as exc:
            log.warning("could not move the card of %s to %s %s (%s); it stays where it is", ticket.id, target.platform, target.channel, type(exc).__name__)
            if channel_refused(exc):
                self.unreachable.add((target.platform, target.channel))
            card_ref = None
        if not card_ref:
            await self.refresh(ticket)
            return ticket
        moved = self.store.update_ticket(ticket_id=ticket.id, card_refs=card_ref, card_message_id=card_ref.get("message_id")) or ticket
        if old_refs:
            outbox = self.outboxes.for_platform(old_refs["platform"])
            await outbox.update_card(card_ref=old_refs, card=card_from_ticket(ticket=moved))
            await outbox.post_in_card_thread(card_ref=old_refs, text=f"Moved to the {ticket.queue} queue; follow it there.")
        return moved

    async def queue_target(self, *, queue: str) -> QueueTarget | None:
        """Where a queue's cards go: its own channel, else the default queue's, on the queue's platform
        (or the first platform with an outbox)."""
        target = await self._target_for(queue)
        if target is not None and (target.platform, target.channel) in self.unreachable:
            target = None  # it refused a card before: never let it shadow the default queue again
        if target is None and queue != self.rules.default_queue:
            target = await self._target_for(self.rules.default_queue)
            if target is not None:
                log.warning("queue %s has no channel on %s; its cards go to the default queue", queue, target.platform)
        return target

    async def _target_for(self, queue: str) -> QueueTarget | None:
        config = self.rules.queues.get(queue) or self.rules.queues[self.rules.default_queue]
        platforms = [config.platform] if config.platform else ["slack", "teams", "sandbox", "cli", "test"]
        for platform in platforms:
            if not self.outboxes.has(platform):
                continue
            stored = await self.threads.run(self.store.channel_ref, platform=platform, name=queue)
            if stored is not None:
                return QueueTarget(queue, platform, stored.channel, dict(stored.native), config.on_call)
            channel = getattr(config, platform, None) if platform in ("slack", "teams", "sandbox") else queue
            if channel:
                return QueueTarget(queue, platform, channel, {}, config.on_call)
        return None

    async def post_card(self, ticket: TicketRow, *, target: QueueTarget | None = None, key: str | None = None) -> dict | None:
        target = target or await self.queue_target(queue=ticket.queue)
        if target is None:
            log.warning("no platform is configured for queue %s; ticket %s is in the store only", ticket.queue, ticket.id)
            return None
        outbox = self.outboxes.for_platform(target.platform)
        key = key or card_key(ticket.id)

        async def send() -> dict:
            return await outbox.post_card(target=target, card=card_from_ticket(ticket=ticket))

        wrap = lambda ts: {"platform": target.platform, "channel": target.channel, "message_id": ts}  # noqa: E731
        delivered = await self.once.run(key=key, platform=target.platform, send=send, find=finder(outbox, key=key, channel=target.channel, thread=None, wrap=wrap))
        return delivered.result

    async def refresh(self, ticket: TicketRow) -> None:
        if not ticket.card_refs:
            return
        outbox = self.outboxes.for_platform(ticket.card_refs["platform"])
        await outbox.update_card(card_ref=ticket.card_refs, card=card_from_ticket(ticket=ticket))

    async def announce_claim(self, ticket: TicketRow) -> None:
        """Where a card cannot carry a live mention (Teams: the Adaptive Card schema has no place
        for one), the claimer is @mentioned in the card's thread, so the name on the card is
        backed by a real, rename-proof mention of who owns the case."""
        if not ticket.card_refs or not ticket.claimed_by:
            return
        outbox = self.outboxes.for_platform(ticket.card_refs["platform"])
        if getattr(outbox, "card_shows_mentions", True):
            return
        try:
            await outbox.notify_agent(card_ref=ticket.card_refs, agent_id=ticket.claimed_by, text=CLAIM_ANNOUNCEMENT)
        except Exception:  # the claim stands; the card already names the owner
            log.warning("could not @mention the owner of %s in its card thread", ticket.id, exc_info=True)

    async def note_on_card(self, *, ticket: TicketRow, text: str) -> None:
        """Post a note on the card's thread (kept, internal: never shown to the customer)."""
        await self.in_card_thread(ticket, text)

    async def in_card_thread(self, ticket: TicketRow, text: str) -> None:
        """Post on the card's thread and keep the note (internal: never shown to the customer)."""
        await self.threads.run(self.store.add_message, conversation_id=ticket.conversation_id, role=Role.BOT, text=text, kind="card_note", ticket_id=ticket.id, internal=True)
        if not ticket.card_refs:
            return
        outbox = self.outboxes.for_platform(ticket.card_refs["platform"])
        await outbox.post_in_card_thread(card_ref=ticket.card_refs, text=text)
