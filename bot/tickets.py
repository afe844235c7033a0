"""Ticket lifecycle: open (post the card), claim, release, reply, resolve, feedback.

Every agent action updates the store first, then re-renders the same neutral card on the
queue's platform, so everyone sees the current state. Replies to the customer go out on the
customer's platform; internal notes stay on the card.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.cards import card_from_ticket
from bot.delivery import OnceOnly, card_key, finder
from bot.engine import customer_value
from bot.outbox import OutboxRouter, QueueTarget
from bot.retriage import Retriage, merge
from bot.rules import Rules
from bot.store.models import TicketRow
from bot.store.durable import Deliveries
from bot.store.repo import ClaimResult, Store, new_ticket_id
from bot.types import ConversationRef, Decision, InboundMessage, Reply, Role, utcnow

log = logging.getLogger(__name__)

OWED_KIND = "holding_owed"  # a holding reply kept back until the ticket's card is visible


@dataclass(frozen=True, slots=True)
class ActionResult:
    """The outcome of an agent action, with the text to show that agent."""

    ok: bool
    message: str
    ticket: TicketRow | None = None


class TicketDesk:
    """The only place tickets change state; adapters call it for every card action."""

    def __init__(self, *, store: Store, rules: Rules, outboxes: OutboxRouter, clock=utcnow, deliveries: Deliveries | None = None) -> None:
        self.store = store
        self.rules = rules
        self.outboxes = outboxes
        self.clock = clock
        self.once = OnceOnly(deliveries=deliveries)
        self.unreachable: set[tuple[str, str]] = set()  # (platform, channel) that refused a card

    # --- opening and messages --------------------------------------------------------------

    async def open_ticket(self, *, message: InboundMessage, decision: Decision, decision_id: int | None) -> TicketRow:
        """Store the ticket with the seven card fields and post its card to the owner queue."""
        wanted = self._new_ticket(message=message, decision=decision, decision_id=decision_id)
        ticket = self.store.create_ticket(ticket=wanted)
        if ticket.id != wanted.id:
            return ticket  # another replica opened this conversation's ticket a moment ago; it posts the card
        return await self.ensure_card(ticket=ticket)

    async def ensure_card(self, *, ticket: TicketRow) -> TicketRow:
        """Post the ticket's card unless it is already up (a recovered turn, the re-post job).

        A card its queue's channel refuses (a placeholder or deleted channel) goes to the default
        queue with a note saying why; that channel is then skipped for this process's life."""
        if ticket.card_refs:
            return ticket
        card_ref = await self._post_with_failover(ticket)
        if card_ref:
            ticket = self.store.update_ticket(ticket_id=ticket.id, card_refs=card_ref, card_message_id=card_ref.get("message_id")) or ticket
        return ticket

    async def _post_with_failover(self, ticket: TicketRow) -> dict | None:
        target = self.queue_target(queue=ticket.queue)
        if target is None:
            log.warning("no platform is configured for queue %s; ticket %s is in the store only", ticket.queue, ticket.id)
            return None
        try:
            if card_ref := await self._post_card(ticket, target=target):
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
        own = self._target_for(ticket.queue)
        if posted.name == ticket.queue or own is None or (own.platform, own.channel) not in self.unreachable:
            return
        note = (f"This card belongs to the {ticket.queue} queue, but its {own.platform} channel {own.channel} cannot take cards "
                f"(it does not exist or Baton is not in it); it is posted here, in the default queue.")
        await self._in_card_thread(ticket.model_copy(update={"card_refs": card_ref}), note)

    async def _post_to_default(self, *, ticket: TicketRow, failed: QueueTarget, problem: str) -> dict | None:
        fallback = self.queue_target(queue=self.rules.default_queue)
        if fallback is None or (fallback.platform, fallback.channel) == (failed.platform, failed.channel):
            log.error("the card of %s reached no queue; it is kept and re-posted later", ticket.id)
            return None
        try:
            card_ref = await self._post_card(ticket, target=fallback, key=f"{card_key(ticket.id)}:default")
        except Exception:
            log.exception("the card of %s reached no queue; it is kept and re-posted later", ticket.id)
            return None
        if card_ref:
            note = (f"This card belongs to the {ticket.queue} queue, but its {failed.platform} channel {failed.channel} could not take it "
                    f"({problem}); it is posted here, in the default queue. Fix that queue's channel in the rules (or, in Teams, "
                    f"'@Baton use this channel as the {ticket.queue} queue').")
            await self._in_card_thread(ticket.model_copy(update={"card_refs": card_ref}), note)
        return card_ref

    async def pay_owed_replies(self, *, ticket: TicketRow) -> int:
        """Send the holding replies kept back while the card was visible nowhere."""
        paid = 0
        for row in self.store.messages_of_kind(ticket_id=ticket.id, kind=OWED_KIND):
            ref = self.conversation_ref(conversation_id=ticket.conversation_id)
            await self.say(reply=Reply(ref=ref, text=row.text, kind="holding", ticket_id=ticket.id, idempotency_key=f"owed:{row.id}"), decision_id=None)
            self.store.set_message_kind(message_id=row.id, kind="holding_sent")
            paid += 1
        return paid

    def owe_reply(self, *, ticket: TicketRow, text: str) -> None:
        """Keep a holding reply back until the card is visible somewhere (the re-post job sends it)."""
        self.store.add_message(conversation_id=ticket.conversation_id, role=Role.BOT, text=text, kind=OWED_KIND, ticket_id=ticket.id, internal=True)

    def _new_ticket(self, *, message: InboundMessage, decision: Decision, decision_id: int | None) -> TicketRow:
        now = self.clock()
        first = now + _minutes(decision.sla_first_response_minutes or self.rules.sla_for(decision.priority).first_response)
        resolution = now + _minutes(decision.sla_resolution_minutes or self.rules.sla_for(decision.priority).resolution)
        payload = decision.to_dict()
        return TicketRow(
            id=new_ticket_id(), conversation_id=message.ref.key, decision_id=decision_id,
            priority=decision.priority, queue=decision.queue, category=decision.category.name,
            automation=decision.automation.value, reasons=payload["reasons"], triggers=payload["triggers"],
            customer=message.author.display_name or message.author.platform_id, customer_id=message.author.platform_id,
            organisation=customer_value(rules=self.rules, person=message.author).organisation, tier=decision.tier, channel=_channel_label(message.ref),
            thread_link=message.ref.native.get("permalink"), original_message=message.text,
            summary=decision.summary, intent=decision.intent, sources=payload["sources"],
            missing_knowledge=decision.missing_knowledge, suggested_reply=decision.suggested_reply,
            internal_action=decision.internal_action, first_response_due=first, resolution_due=resolution,
            created_at=now, updated_at=now,
        )

    async def say(self, *, reply: Reply, decision_id: int | None) -> str | None:
        """Send a bot reply to the customer and keep it in the conversation history."""
        delivered = await self.once.reply(outbox=self.outboxes.for_platform(reply.ref.platform), reply=reply)
        message_id = delivered.result.get("message_id")
        role = Role.AGENT if reply.kind == "agent" else Role.BOT
        if not delivered.fresh and self.store.find_message(conversation_id=reply.ref.key, platform_message_id=message_id, role=role) is not None:
            return message_id  # sent and kept by an earlier attempt of this turn
        sources = [{"doc_id": s.doc_id, "title": s.title, "anchor": s.anchor, "url": s.url, "score": s.score} for s in reply.sources]
        self.store.add_message(conversation_id=reply.ref.key, role=role, text=reply.text, author_name=reply.author_name or "Baton", platform_message_id=message_id, kind=reply.kind, sources=sources, ticket_id=reply.ticket_id)
        return message_id

    async def mirror_customer_message(self, *, ticket: TicketRow, message: InboundMessage) -> None:
        """Append a customer's follow-up to the card's thread, so the agent sees it."""
        await self._in_card_thread(ticket, f"{message.author.display_name or 'Customer'} wrote: {message.text}")

    async def retriage(self, *, ticket: TicketRow, decision: Decision) -> Retriage:
        """Fold a follow-up's decision into the open ticket: new reasons, a higher priority, a
        closer SLA, another queue; the card is updated in place (or moved) and says what changed."""
        change = merge(ticket=ticket, decision=decision, rules=self.rules)
        if not change.changed:
            return change
        updated = self.store.update_ticket(ticket_id=ticket.id, **change.values) or ticket
        if "queue" in change.values:
            updated = await self._move_card(ticket=updated, old_refs=dict(ticket.card_refs))
        else:
            await self._refresh_card(updated)
        await self._in_card_thread(updated, change.describe())
        if {"first_response_due", "resolution_due"} & set(change.values):
            self._replan_sla(updated)
        return change

    async def _move_card(self, *, ticket: TicketRow, old_refs: dict) -> TicketRow:
        """Post the card in its new queue and mark the old one as moved (same channel: update only)."""
        target = self.queue_target(queue=ticket.queue)
        if target is None or (old_refs and (old_refs.get("platform"), old_refs.get("channel")) == (target.platform, target.channel)):
            await self._refresh_card(ticket)
            return ticket
        try:
            card_ref = await self._post_card(ticket, target=target, key=f"{card_key(ticket.id)}:queue:{ticket.queue}")
        except Exception as exc:
            log.warning("could not move the card of %s to %s %s (%s); it stays where it is", ticket.id, target.platform, target.channel, type(exc).__name__)
            if channel_refused(exc):
                self.unreachable.add((target.platform, target.channel))
            card_ref = None
        if not card_ref:
            await self._refresh_card(ticket)
            return ticket
        moved = self.store.update_ticket(ticket_id=ticket.id, card_refs=card_ref, card_message_id=card_ref.get("message_id")) or ticket
        if old_refs:
            outbox = self.outboxes.for_platform(old_refs["platform"])
            await outbox.update_card(card_ref=old_refs, card=card_from_ticket(ticket=moved))
            await outbox.post_in_card_thread(card_ref=old_refs, text=f"Moved to the {ticket.queue} queue; follow it there.")
        return moved

    def _replan_sla(self, ticket: TicketRow) -> None:
        """The ticket's pending SLA timers follow its new due times (fired ones stay fired)."""
        from bot.ops.sla import replan_ticket

        try:
            replan_ticket(store=self.store, rules=self.rules, ticket=ticket, now=self.clock())
        except Exception:
            log.exception("could not replan the SLA timers of %s", ticket.id)

    # --- agent actions -----------------------------------------------------------------------

    async def claim(self, *, ticket_id: str, agent_id: str, agent_name: str) -> ActionResult:
        """One click, race-free; the loser is told who won."""
        result = await self._claim(ticket_id=ticket_id, agent_id=agent_id, agent_name=agent_name)
        return self._audit(action="claim", ticket_id=ticket_id, agent_id=agent_id, agent_name=agent_name, result=result)

    async def _claim(self, *, ticket_id: str, agent_id: str, agent_name: str) -> ActionResult:
        result: ClaimResult = self.store.claim(ticket_id=ticket_id, agent_id=agent_id, agent_name=agent_name, at=self.clock())
        if result.status == "missing":
            return ActionResult(False, f"Ticket {ticket_id} does not exist.")
        if not result.won:
            owner = result.owner_name or result.owner_id
            text = f"Ticket {ticket_id} is already claimed by {owner}." if owner else f"Ticket {ticket_id} cannot be claimed (it is {result.status})."
            return ActionResult(False, text, self.store.ticket(ticket_id=ticket_id))
        ticket = self.store.ticket(ticket_id=ticket_id)
        self.store.set_human_active(conversation_id=ticket.conversation_id, active=True)
        await self._refresh_card(ticket)
        return ActionResult(True, f"You claimed {ticket_id}.", ticket)

    async def release(self, *, ticket_id: str, agent_id: str, agent_name: str = "") -> ActionResult:
        result = await self._release(ticket_id=ticket_id, agent_id=agent_id)
        return self._audit(action="release", ticket_id=ticket_id, agent_id=agent_id, agent_name=agent_name, result=result)

    async def _release(self, *, ticket_id: str, agent_id: str) -> ActionResult:
        if not self.store.release(ticket_id=ticket_id, agent_id=agent_id):
            return ActionResult(False, f"Only the agent who claimed {ticket_id} can release it.")
        ticket = self.store.ticket(ticket_id=ticket_id)
        self.store.set_human_active(conversation_id=ticket.conversation_id, active=False)
        await self._refresh_card(ticket)
        return ActionResult(True, f"{ticket_id} is back in the queue.", ticket)

    async def resolve(self, *, ticket_id: str, agent_id: str, needed_person: bool | None = None, agent_name: str = "") -> ActionResult:
        result = await self._resolve(ticket_id=ticket_id, agent_id=agent_id, needed_person=needed_person)
        return self._audit(action="resolve", ticket_id=ticket_id, agent_id=agent_id, agent_name=agent_name, result=result)

    async def _resolve(self, *, ticket_id: str, agent_id: str, needed_person: bool | None = None) -> ActionResult:
        if not self.store.resolve(ticket_id=ticket_id, agent_id=agent_id, at=self.clock()):
            return ActionResult(False, f"{ticket_id} is already resolved.")
        values = {} if needed_person is None else {"needed_person": needed_person}
        ticket = self.store.update_ticket(ticket_id=ticket_id, **values) if values else self.store.ticket(ticket_id=ticket_id)
        self.store.set_human_active(conversation_id=ticket.conversation_id, active=False)
        await self._refresh_card(ticket)
        return ActionResult(True, f"{ticket_id} resolved.", ticket)

    async def agent_reply(self, *, ticket_id: str, agent_id: str, agent_name: str, text: str, internal: bool = False, echo_in_card: bool = True, key: str | None = None) -> ActionResult:
        """Relay an agent's reply to the customer, or keep it on the card as an internal note.

        Replying to an unclaimed ticket claims it for that agent first (they have taken over).
        ``echo_in_card`` is off when the reply was typed in the card's own thread; ``key`` (the
        agent's platform message) makes a recovered relay post at most once.
        """
        result = await self._agent_reply(ticket_id=ticket_id, agent_id=agent_id, agent_name=agent_name, text=text, internal=internal, echo_in_card=echo_in_card, key=key)
        return self._audit(action="note" if internal else "reply", ticket_id=ticket_id, agent_id=agent_id, agent_name=agent_name, result=result)

    async def _agent_reply(self, *, ticket_id: str, agent_id: str, agent_name: str, text: str, internal: bool, echo_in_card: bool, key: str | None) -> ActionResult:
        ticket = self.store.ticket(ticket_id=ticket_id)
        if ticket is None:
            return ActionResult(False, f"Ticket {ticket_id} does not exist.")
        if not text.strip():
            return ActionResult(False, "The reply is empty.")
        if internal:
            self.store.add_message(conversation_id=ticket.conversation_id, role=Role.AGENT, text=text, author_id=agent_id, author_name=agent_name, kind="internal_note", ticket_id=ticket_id, internal=True)
            return ActionResult(True, "Internal note kept on the card.", ticket)
        if ticket.claimed_by is None and ticket.status in ("open", "released"):
            await self.claim(ticket_id=ticket_id, agent_id=agent_id, agent_name=agent_name)
        ref = self.conversation_ref(conversation_id=ticket.conversation_id)
        await self.say(reply=Reply(ref=ref, text=text, kind="agent", ticket_id=ticket_id, author_name=agent_name, idempotency_key=key), decision_id=None)
        self.store.mark_first_agent_reply(ticket_id=ticket_id, at=self.clock())
        self.store.set_human_active(conversation_id=ticket.conversation_id, active=True)
        if echo_in_card:
            await self._in_card_thread(ticket, f"{agent_name} replied to the customer: {text}")
        return ActionResult(True, "Reply sent to the customer.", self.store.ticket(ticket_id=ticket_id))

    async def send_suggested(self, *, ticket_id: str, agent_id: str, agent_name: str) -> ActionResult:
        ticket = self.store.ticket(ticket_id=ticket_id)
        if ticket is None or not ticket.suggested_reply:
            return self._audit(action="send_suggested", ticket_id=ticket_id, agent_id=agent_id, agent_name=agent_name, result=ActionResult(False, "There is no suggested reply on this card."))
        result = await self._agent_reply(ticket_id=ticket_id, agent_id=agent_id, agent_name=agent_name, text=ticket.suggested_reply, internal=False, echo_in_card=True, key=None)
        return self._audit(action="send_suggested", ticket_id=ticket_id, agent_id=agent_id, agent_name=agent_name, result=result)

    async def no_person_needed(self, *, ticket_id: str, agent_id: str, agent_name: str) -> ActionResult:
        """Close a handoff that the bot could have handled: resolve plus 'did not need a person'."""
        result = await self._resolve(ticket_id=ticket_id, agent_id=agent_id, needed_person=False)
        if result.ok:
            self.store.add_feedback(kind="agent_needed_no", ticket_id=ticket_id, decision_id=result.ticket.decision_id, by=agent_name or agent_id)
            result = ActionResult(True, f"{ticket_id} resolved; recorded that no person was needed.", result.ticket)
        return self._audit(action="no_person_needed", ticket_id=ticket_id, agent_id=agent_id, agent_name=agent_name, result=result)

    async def record_feedback(self, *, ticket_id: str, kind: str, by: str, value: str = "", agent_id: str = "") -> ActionResult:
        """Agents' one-click answers: did this need a person, did the card have what they needed."""
        result = self._record_feedback(ticket_id=ticket_id, kind=kind, by=by, value=value)
        return self._audit(action=f"feedback:{kind}"[:40], ticket_id=ticket_id, agent_id=agent_id or by, agent_name=by, result=result)

    def _record_feedback(self, *, ticket_id: str, kind: str, by: str, value: str) -> ActionResult:
        updates = {
            "needed_yes": {"needed_person": True}, "needed_no": {"needed_person": False},
            "card_ok": {"card_complete": True}, "card_missing": {"card_complete": False, "missing_field": value or None},
        }.get(kind)
        if updates is None:
            return ActionResult(False, f"Unknown feedback '{kind}'.")
        ticket = self.store.update_ticket(ticket_id=ticket_id, **updates)
        self.store.add_feedback(kind=f"agent_{kind}", value=value, ticket_id=ticket_id, decision_id=ticket.decision_id if ticket else None, by=by)
        return ActionResult(True, "Thanks, feedback recorded.", ticket)

    def _audit(self, *, action: str, ticket_id: str, agent_id: str, agent_name: str, result: ActionResult) -> ActionResult:
        """Keep who did what in the audit trail; a failing audit write never undoes the action."""
        try:
            self.store.record_agent_action(actor_id=agent_id or agent_name or "unknown", actor_name=agent_name, action=action, ticket_id=ticket_id, ok=result.ok, detail=result.message)
        except Exception:
            log.exception("could not record the audit entry for %s on %s", action, ticket_id)
        return result

    # --- cards -------------------------------------------------------------------------------

    def queue_target(self, *, queue: str) -> QueueTarget | None:
        """Where a queue's cards go: its own channel, else the default queue's, on the queue's platform
        (or the first platform with an outbox)."""
        target = self._target_for(queue)
        if target is not None and (target.platform, target.channel) in self.unreachable:
            target = None  # it refused a card before: never let it shadow the default queue again
        if target is None and queue != self.rules.default_queue:
            target = self._target_for(self.rules.default_queue)
            if target is not None:
                log.warning("queue %s has no channel on %s; its cards go to the default queue", queue, target.platform)
        return target

    def _target_for(self, queue: str) -> QueueTarget | None:
        config = self.rules.queues.get(queue) or self.rules.queues[self.rules.default_queue]
        platforms = [config.platform] if config.platform else ["slack", "teams", "sandbox", "cli", "test"]
        for platform in platforms:
            if not self.outboxes.has(platform):
                continue
            stored = self.store.channel_ref(platform=platform, name=queue)
            if stored is not None:
                return QueueTarget(queue, platform, stored.channel, dict(stored.native), config.on_call)
            channel = getattr(config, platform, None) if platform in ("slack", "teams", "sandbox") else queue
            if channel:
                return QueueTarget(queue, platform, channel, {}, config.on_call)
        return None

    async def _post_card(self, ticket: TicketRow, *, target: QueueTarget | None = None, key: str | None = None) -> dict | None:
        target = target or self.queue_target(queue=ticket.queue)
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

    async def _refresh_card(self, ticket: TicketRow) -> None:
        if not ticket.card_refs:
            return
        outbox = self.outboxes.for_platform(ticket.card_refs["platform"])
        await outbox.update_card(card_ref=ticket.card_refs, card=card_from_ticket(ticket=ticket))

    async def note_on_card(self, *, ticket: TicketRow, text: str) -> None:
        """Post a note on the card's thread (kept, internal: never shown to the customer)."""
        await self._in_card_thread(ticket, text)

    async def _in_card_thread(self, ticket: TicketRow, text: str) -> None:
        """Post on the card's thread and keep the note (internal: never shown to the customer)."""
        self.store.add_message(conversation_id=ticket.conversation_id, role=Role.BOT, text=text, kind="card_note", ticket_id=ticket.id, internal=True)
        if not ticket.card_refs:
            return
        outbox = self.outboxes.for_platform(ticket.card_refs["platform"])
        await outbox.post_in_card_thread(card_ref=ticket.card_refs, text=text)

    def conversation_ref(self, *, conversation_id: str) -> ConversationRef:
        row = self.store.conversation(conversation_id=conversation_id)
        return ConversationRef(platform=row.platform, channel=row.channel, thread=row.thread, native=dict(row.native))


REFUSALS = ("channel_not_found", "not_in_channel", "is_archived", "conversationnotfound", "not found", "404")


def channel_refused(exc: Exception) -> bool:
    """True when the platform says the channel does not exist or the bot is not in it (Slack's
    channel_not_found, Teams' 404 ConversationNotFound), not when it is only unavailable."""
    text = f"{type(exc).__name__} {exc}".lower()
    return any(word in text for word in REFUSALS)


def _minutes(value: int) -> timedelta:
    return timedelta(minutes=value)


def _channel_label(ref: ConversationRef) -> str:
    name = ref.native.get("channel_name")
    return f"{ref.platform} {('#' + name) if name else ref.channel}"


def is_overdue(*, ticket: TicketRow, now: datetime) -> bool:
    due = ticket.first_response_due
    return due is not None and ticket.status != "resolved" and ticket.first_agent_reply_at is None and now > due
