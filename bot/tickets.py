"""Ticket lifecycle: open (post the card), claim, release, reply, resolve, feedback.

Every agent action updates the store first, then re-renders the same neutral card on the
queue's platform, so everyone sees the current state. Replies to the customer go out on the
customer's platform; internal notes stay on the card.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.card_desk import CardDesk
from bot.delivery import OnceOnly
from bot.engine import customer_value
from bot.outbox import OutboxRouter, QueueTarget
from bot.retriage import Retriage, merge
from bot.rules import Rules
from bot.store.models import TicketRow
from bot.store.durable import Deliveries
from bot.store.repo import ClaimResult, Store, new_ticket_id
from bot.threads import INLINE, Threads
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

    def __init__(self, *, store: Store, rules: Rules, outboxes: OutboxRouter, clock=utcnow, deliveries: Deliveries | None = None, threads: Threads = INLINE) -> None:
        self.store = store
        self.rules = rules
        self.outboxes = outboxes
        self.clock = clock
        self.threads = threads  # where the customer-turn path's store calls run (off the event loop)
        self.once = OnceOnly(deliveries=deliveries, threads=threads)
        self.cards = CardDesk(store=store, rules=rules, outboxes=outboxes, once=self.once, threads=threads)

    @property
    def unreachable(self) -> set[tuple[str, str]]:
        """Channels that refused a card (skipped from then on; see bot.card_desk)."""
        return self.cards.unreachable

    async def queue_target(self, *, queue: str) -> QueueTarget | None:
        return await self.cards.queue_target(queue=queue)

    async def ensure_card(self, *, ticket: TicketRow) -> TicketRow:
        return await self.cards.ensure_card(ticket=ticket)

    async def note_on_card(self, *, ticket: TicketRow, text: str) -> None:
        """Post a note on the card's thread (kept, internal: never shown to the customer)."""
        await self.cards.in_card_thread(ticket, text)

    # --- opening and messages --------------------------------------------------------------

    async def open_ticket(self, *, message: InboundMessage, decision: Decision, decision_id: int | None) -> TicketRow:
        """Store the ticket with the seven card fields and post its card to the owner queue."""
        wanted = self._new_ticket(message=message, decision=decision, decision_id=decision_id)
        ticket = await self.threads.run(self.store.create_ticket, ticket=wanted)
        if ticket.id != wanted.id:
            return ticket  # another replica opened this conversation's ticket a moment ago; it posts the card
        return await self.ensure_card(ticket=ticket)

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
        await self.threads.run(self._keep_reply, reply=reply, message_id=message_id, fresh=delivered.fresh)
        return message_id

    def _keep_reply(self, *, reply: Reply, message_id: str | None, fresh: bool) -> None:
        """On a store thread: the sent reply in the conversation's history (once, if an earlier attempt kept it)."""
        role = Role.AGENT if reply.kind == "agent" else Role.BOT
        if not fresh and self.store.find_message(conversation_id=reply.ref.key, platform_message_id=message_id, role=role) is not None:
            return  # sent and kept by an earlier attempt of this turn
        sources = [{"doc_id": s.doc_id, "title": s.title, "anchor": s.anchor, "url": s.url, "score": s.score} for s in reply.sources]
        self.store.add_message(conversation_id=reply.ref.key, role=role, text=reply.text, author_name=reply.author_name or "Baton", platform_message_id=message_id, kind=reply.kind, sources=sources, ticket_id=reply.ticket_id)

    async def mirror_customer_message(self, *, ticket: TicketRow, message: InboundMessage) -> None:
        """Append a customer's follow-up to the card's thread, so the agent sees it."""
        await self.cards.in_card_thread(ticket, f"{message.author.display_name or 'Customer'} wrote: {message.text}")

    async def retriage(self, *, ticket: TicketRow, decision: Decision) -> Retriage:
        """Fold a follow-up's decision into the open ticket: new reasons, a higher priority, a
        closer SLA, another queue; the card is updated in place (or moved) and says what changed."""
        change = merge(ticket=ticket, decision=decision, rules=self.rules)
        if not change.changed:
            return change
        updated = await self.threads.run(self.store.update_ticket, ticket_id=ticket.id, **change.values) or ticket
        if "queue" in change.values:
            updated = await self.cards.move_card(ticket=updated, old_refs=dict(ticket.card_refs))
        else:
            await self.cards.refresh(updated)
        await self.cards.in_card_thread(updated, change.describe())
        if {"first_response_due", "resolution_due"} & set(change.values):
            self._replan_sla(updated)
        return change

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
        await self.cards.refresh(ticket)
        await self.cards.announce_claim(ticket)
        return ActionResult(True, f"You claimed {ticket_id}.", ticket)

    async def release(self, *, ticket_id: str, agent_id: str, agent_name: str = "") -> ActionResult:
        result = await self._release(ticket_id=ticket_id, agent_id=agent_id)
        return self._audit(action="release", ticket_id=ticket_id, agent_id=agent_id, agent_name=agent_name, result=result)

    async def _release(self, *, ticket_id: str, agent_id: str) -> ActionResult:
        if not self.store.release(ticket_id=ticket_id, agent_id=agent_id):
            return ActionResult(False, f"Only the agent who claimed {ticket_id} can release it.")
        ticket = self.store.ticket(ticket_id=ticket_id)
        self.store.set_human_active(conversation_id=ticket.conversation_id, active=False)
        await self.cards.refresh(ticket)
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
        await self.cards.refresh(ticket)
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
            await self.cards.in_card_thread(ticket, f"{agent_name} replied to the customer: {text}")
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

    def record_access(self, *, actor_id: str, actor_name: str, action: str, ok: bool, detail: str) -> None:
        """A sign-in, failed attempt or sign-out in the same audit trail as the card actions."""
        self.store.record_agent_action(actor_id=actor_id, actor_name=actor_name, action=action, ok=ok, detail=detail)

    # --- cards -------------------------------------------------------------------------------

    def ticket(self, *, ticket_id: str) -> TicketRow | None:
        """The ticket as it is now (for re-rendering its card after an action)."""
        return self.store.ticket(ticket_id=ticket_id)

    def conversation_ref(self, *, conversation_id: str) -> ConversationRef:
        row = self.store.conversation(conversation_id=conversation_id)
        return ConversationRef(platform=row.platform, channel=row.channel, thread=row.thread, native=dict(row.native))


def _minutes(value: int) -> timedelta:
    return timedelta(minutes=value)


def _channel_label(ref: ConversationRef) -> str:
    name = ref.native.get("channel_name")
    return f"{ref.platform} {('#' + name) if name else ref.channel}"


def is_overdue(*, ticket: TicketRow, now: datetime) -> bool:
    due = ticket.first_response_due
    return due is not None and ticket.status != "resolved" and ticket.first_agent_reply_at is None and now > due
