"""The dialogue pipeline every adapter feeds: dedupe, store, decide, answer or hand off.

An error boundary surrounds each turn: if deciding or replying fails, the message is kept, a
ticket is opened where possible and the customer is told a person will follow up. When unsure,
the bot escalates.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta, timezone

from bot.engine import DecisionEngine, customer_value
from bot.gaps import GapTracker
from bot.replies import follow_up_message, holding_message
from bot.threads import INLINE, Threads
from bot.tickets import TicketDesk
from bot.types import (
    Action, CardButton, Conversation, Decision, InboundMessage, Reason, Reply, Role, Trigger,
)

log = logging.getLogger(__name__)

ANSWER_BUTTONS = (
    CardButton("helpful", "Helpful"),
    CardButton("not_helpful", "Not helpful"),
    CardButton("talk_to_person", "Talk to a person"),
)
DECIDING_THREADS = 8  # turns deciding at once (the Slack worker runs up to 8); they share the encoder's passes
FALLBACK_TEXT = "Thanks for your message. Something went wrong on our side, so a person from our team will follow up here shortly."


class CardNotPosted(RuntimeError):
    """A handoff card did not reach its queue (the turn is retried while it can be)."""


@dataclass(frozen=True, slots=True)
class TurnResult:
    """What happened to one inbound message (for adapters, tests and the CLI)."""

    status: str  # duplicate | answered | escalated | relayed | silent | empty | failed | retry | undelivered
    decision: Decision | None = None
    ticket_id: str | None = None
    decision_id: int | None = None


class Dialogue:
    """Handles customer messages; TicketDesk handles what agents do with the cards."""

    def __init__(self, *, engine: DecisionEngine, desk: TicketDesk, gaps: GapTracker | None = None, replies_per_minute: int | None = None, threads: Threads = INLINE, deciding: Threads | None = None) -> None:
        self.engine = engine
        self.desk = desk
        self.store = desk.store
        self.threads = threads  # the turn's store calls run there, off the event loop
        self.deciding = deciding or Threads(threads=DECIDING_THREADS, name="baton-decide")  # never the acks' threads
        self.gaps = gaps
        self.replies_per_minute = replies_per_minute

    async def handle(self, message: InboundMessage, *, retry_later: bool = False) -> TurnResult:
        """One customer turn, end to end; never raises for a customer's message.

        A message carried by a durable inbox item that was being handled when its process died
        is resumed: what was stored, decided or sent then is reused, nothing is done twice.
        With ``retry_later`` (the inbox will run the turn again) a failure returns ``retry``
        instead of apologising: a post that timed out may still land, and the retry finds it.
        A ticket whose card could not be posted is a failure too, then. Without it, the
        customer is told a person will follow up (``undelivered`` if even that fails).
        """
        seen = await self.threads.run(self.store.mark_event, event_id=message.event_id, owner=message.delivery)
        if seen == "duplicate":
            return TurnResult("duplicate")
        if not message.text.strip():
            return TurnResult("empty")
        try:
            return await self._handle_new(message, resumed=seen == "resume", retry_later=retry_later)
        except Exception as exc:
            if retry_later:
                log.warning("turn failed (%s); it will be retried", type(exc).__name__, extra={"event_id": message.event_id})
                return TurnResult("retry")
            log.exception("turn failed; escalating", extra={"event_id": message.event_id})
            return await self._fail_safe(message)

    async def request_person(self, *, message: InboundMessage) -> TurnResult:
        """The customer pressed "talk to a person": hand the conversation over at once.

        Recorded as a missed-escalation signal on the last answer, then escalated with the
        human_requested reason; the engine still summarises and prioritises the case.
        """
        seen = await self.threads.run(self.store.mark_event, event_id=message.event_id, kind="person_request", owner=message.delivery)
        if seen == "duplicate":
            return TurnResult("duplicate")
        value = customer_value(rules=self.engine.rules, person=message.author)
        row, ticket, history = await self.threads.run(self._person_request_rows, message=message, tier=value.tier)
        if ticket is not None:
            if seen == "resume":  # a recovered click: the earlier attempt opened the ticket; make sure its card is up
                await self.desk.ensure_card(ticket=ticket)
            return TurnResult("relayed", ticket_id=ticket.id)
        text = next((t.text for t in reversed(history) if t.role == Role.CUSTOMER), message.text)
        decision = await self.deciding.run(self.engine.decide, Conversation(text=text, history=history, author=message.author, ref=message.ref))
        _force_person(decision)
        saved = await self.threads.run(self.store.save_decision, conversation_id=row.id, message_id=None, decision=decision, input_text=message.text)
        ticket_id = await self._escalate(message=message, decision=decision, decision_id=saved.id, question=text)
        return TurnResult("escalated", decision, ticket_id, saved.id)

    async def _handle_new(self, message: InboundMessage, *, resumed: bool = False, retry_later: bool = False) -> TurnResult:
        value = customer_value(rules=self.engine.rules, person=message.author)
        rows = await self.threads.run(
            self.store.record_customer_message, ref=message.ref, author=message.author, tier=value.tier, text=message.text,
            platform_message_id=message.message_id, at=message.sent_at, reuse_stored=resumed,
        )
        conversation_row, stored, history, ticket = rows.conversation, rows.message, rows.history, rows.open_ticket
        if resumed and (result := await self._resume(message=message, message_row_id=stored.id, history=history, retry_later=retry_later)):
            return result
        if ticket is not None:
            return await self._follow_up(message=message, ticket=ticket, history=history)
        if conversation_row.human_active:
            return TurnResult("silent")
        conversation = Conversation(text=message.text, history=tuple(history), author=message.author, ref=message.ref)
        decision = await self.deciding.run(self.engine.decide, conversation)
        row = await self.threads.run(self._record_decision, conversation_id=conversation_row.id, message_id=stored.id, decision=decision, text=message.text)
        if decision.action == Action.ANSWER:
            await self._answer(message=message, decision=decision, decision_id=row.id)
            return TurnResult("answered", decision, decision_id=row.id)
        ticket_id = await self._escalate(message=message, decision=decision, decision_id=row.id, retry_later=retry_later)
        return TurnResult("escalated", decision, ticket_id, row.id)

    async def _follow_up(self, *, message: InboundMessage, ticket, history: list) -> TurnResult:
        """A message while a ticket is open: onto the card, re-triaged, and acknowledged while
        no person has the ticket yet (or when it just became more urgent)."""
        await self.desk.mirror_customer_message(ticket=ticket, message=message)
        decision, change = None, None
        try:
            decision = await self.deciding.run(self.engine.decide, Conversation(text=message.text, history=tuple(history), author=message.author, ref=message.ref))
            change = await self.desk.retriage(ticket=ticket, decision=decision)
        except Exception:
            log.exception("re-triage of a follow-up failed; the message is on the card", extra={"event_id": message.event_id})
        fresh = await self.threads.run(self.store.ticket, ticket_id=ticket.id) or ticket
        more_urgent = bool(change and "priority" in change.values)
        if fresh.claimed_by is None or more_urgent:
            await self._acknowledge(message=message, ticket=fresh, more_urgent=more_urgent, changed=bool(change and change.changed), language=decision.language if decision else None)
        return TurnResult("relayed", decision, ticket.id)

    async def _acknowledge(self, *, message: InboundMessage, ticket, more_urgent: bool, changed: bool, language: str | None) -> None:
        """One short 'added to your request' per follow-up; a burst of messages gets one, not many."""
        recent = await self.threads.run(self.store.count_messages, conversation_id=ticket.conversation_id, role=Role.BOT, since=self.desk.clock() - timedelta(minutes=1))
        if recent and not changed:
            return
        due = ticket.first_response_due if ticket.first_agent_reply_at is None else None
        left = None if due is None else int((_aware(due) - self.desk.clock()).total_seconds() // 60)
        text = follow_up_message(minutes_left=left, more_urgent=more_urgent, language=language)
        await self.desk.say(reply=Reply(ref=message.ref, text=text, kind="holding", ticket_id=ticket.id, idempotency_key=f"follow-up:{message.event_id}"), decision_id=None)

    def _over_reply_limit(self, conversation_id: str) -> bool:
        """True when the bot has replied ``replies_per_minute`` times in the last minute here:
        a loop with another bot, or a flood, goes to a person instead of more answers."""
        if not self.replies_per_minute:
            return False
        since = self.desk.clock() - timedelta(minutes=1)
        return self.store.count_messages(conversation_id=conversation_id, role=Role.BOT, since=since) >= self.replies_per_minute

    def _person_request_rows(self, *, message: InboundMessage, tier: str | None) -> tuple:
        """On a store thread: the conversation, its open ticket (if any) and its whole history."""
        row = self.store.upsert_conversation(ref=message.ref, author=message.author, tier=tier)
        ticket = self.store.active_ticket(conversation_id=row.id)
        return row, ticket, (() if ticket is not None else tuple(self.store.history(conversation_id=row.id)))

    def _record_decision(self, *, conversation_id: str, message_id: int, decision: Decision, text: str):
        """On a store thread: apply the reply rate limit, then save the decision."""
        if decision.action == Action.ANSWER and self._over_reply_limit(conversation_id):
            _hand_over(decision, Trigger(Reason.LOW_CONFIDENCE, f"the bot already replied {self.replies_per_minute} times in this conversation within a minute", ("reply rate limit",), None, "reply_limit"))
        return self.store.save_decision(conversation_id=conversation_id, message_id=message_id, decision=decision, input_text=text)

    async def _resume(self, *, message: InboundMessage, message_row_id: int, history: list, retry_later: bool) -> TurnResult | None:
        """Finish a turn an earlier attempt decided: the same answer, or the same ticket.

        None when the earlier attempt died before deciding (the turn then runs normally). The
        engine decides again for the reply's text; if it no longer answers, the case escalates.
        """
        prior = await self.threads.run(self.store.decision_for_message, message_id=message_row_id)
        if prior is None:
            return None
        conversation = Conversation(text=message.text, history=tuple(history), author=message.author, ref=message.ref)
        decision = await self.deciding.run(self.engine.decide, conversation)
        if prior.action == Action.ANSWER.value and decision.action == Action.ANSWER:
            await self._answer(message=message, decision=decision, decision_id=prior.id)
            return TurnResult("answered", decision, decision_id=prior.id)
        ticket = await self.threads.run(self.store.ticket_for_decision, decision_id=prior.id)
        if ticket is None:
            return TurnResult("escalated", decision, await self._escalate(message=message, decision=decision, decision_id=prior.id, retry_later=retry_later), prior.id)
        ticket = await self.desk.ensure_card(ticket=ticket)
        await self._require_card(ticket, retry_later=retry_later)
        await self._hold_once_visible(message=message, decision=decision, decision_id=prior.id, ticket=ticket)
        return TurnResult("escalated", decision, ticket.id, prior.id)

    async def _answer(self, *, message: InboundMessage, decision: Decision, decision_id: int | None) -> None:
        reply = Reply(ref=message.ref, text=decision.answer or "", sources=tuple(decision.sources), kind="answer", buttons=ANSWER_BUTTONS, idempotency_key=f"answer:{message.event_id}", ticket_id=None, decision_id=decision_id)
        await self.desk.say(reply=reply, decision_id=decision_id)

    async def _escalate(self, *, message: InboundMessage, decision: Decision, decision_id: int | None, question: str | None = None, retry_later: bool = False) -> str:
        ticket = await self.desk.open_ticket(message=message, decision=decision, decision_id=decision_id)
        if decision_id is not None and ticket.decision_id != decision_id:  # another replica's ticket: this message joins it
            await self.desk.mirror_customer_message(ticket=ticket, message=message)
            return ticket.id
        if self.gaps is not None and decision.missing_knowledge and Reason.LOW_CONFIDENCE in decision.reasons and not decision.language:  # another language is no knowledge gap
            await self.threads.run(self.gaps.record, question=question or message.text, ticket_id=ticket.id)
        await self._require_card(ticket, retry_later=retry_later)
        await self._hold_once_visible(message=message, decision=decision, decision_id=decision_id, ticket=ticket)
        return ticket.id

    async def _hold_once_visible(self, *, message: InboundMessage, decision: Decision, decision_id: int | None, ticket) -> None:
        """Promise a person only when the card is up somewhere; otherwise keep the promise back
        for the re-post job, which sends it once a queue has taken the card."""
        if ticket.card_refs or await self.desk.queue_target(queue=ticket.queue) is None:
            await self._hold(message=message, decision=decision, decision_id=decision_id, ticket_id=ticket.id)
        else:
            log.warning("the card of %s is visible nowhere yet: the customer's holding reply waits for it", ticket.id, extra={"event_id": message.event_id})
            await self.threads.run(self.desk.owe_reply, ticket=ticket, text=holding_message(decision=decision))

    async def _require_card(self, ticket, *, retry_later: bool) -> None:
        """With a retry ahead, a ticket whose card did not reach its queue fails the turn (the
        retry posts it); without one, the ticket is kept and the customer still hears from us."""
        if retry_later and not ticket.card_refs and await self.desk.queue_target(queue=ticket.queue) is not None:
            raise CardNotPosted(f"the card of {ticket.id} is not posted yet")

    async def _hold(self, *, message: InboundMessage, decision: Decision, decision_id: int | None, ticket_id: str) -> None:
        """Tell the customer a person will follow up (at most once per message)."""
        holding = Reply(ref=message.ref, text=holding_message(decision=decision), kind="holding", ticket_id=ticket_id, idempotency_key=f"holding:{message.event_id}")
        await self.desk.say(reply=holding, decision_id=decision_id)

    async def _fail_safe(self, message: InboundMessage) -> TurnResult:
        """Keep the message, open a ticket if the store allows, tell the customer a person follows up."""
        decision = Decision(action=Action.ESCALATE, triggers=[Trigger(Reason.LOW_CONFIDENCE, "the bot failed while deciding; a person must take this", ("internal error",), None, "error")])
        decision.summary = f'Customer wrote: "{message.text[:300]}" (the bot could not decide).'
        decision.intent = "unknown (decision failed)"
        decision.internal_action = "Read the customer's message and reply; the bot hit an internal error."
        decision.queue = self.engine.rules.default_queue
        try:
            ticket = await self.threads.run(self.store.active_ticket, conversation_id=message.ref.key)  # the failed turn may have opened it
            ticket = await self.desk.ensure_card(ticket=ticket) if ticket else await self.desk.open_ticket(message=message, decision=decision, decision_id=None)
            ticket_id = ticket.id
        except Exception:
            log.exception("could not open a fallback ticket", extra={"event_id": message.event_id})
            ticket_id = None
        try:
            await self.desk.say(reply=Reply(ref=message.ref, text=FALLBACK_TEXT, kind="holding", ticket_id=ticket_id, idempotency_key=f"fallback:{message.event_id}"), decision_id=None)
        except Exception:
            log.exception("could not tell the customer", extra={"event_id": message.event_id})
            return TurnResult("undelivered", decision, ticket_id)
        return TurnResult("failed", decision, ticket_id)


def _hand_over(decision: Decision, trigger: Trigger | None) -> None:
    """Turn any decision into a handoff, led by ``trigger`` if given; a drafted answer becomes the suggestion."""
    from bot.engine import recommendation

    decision.action = Action.ESCALATE
    if trigger is not None:
        decision.triggers.insert(0, trigger)
    draft, decision.answer = decision.answer, None
    decision.suggested_reply, decision.internal_action = recommendation(decision=decision, draft=draft)


def _force_person(decision: Decision) -> None:
    """Turn any decision into a handoff that names the customer's explicit request."""
    pressed = Trigger(Reason.HUMAN_REQUESTED, "the customer pressed 'talk to a person'", ("button: talk to a person",), 1.0, "human_requested")
    _hand_over(decision, None if Reason.HUMAN_REQUESTED in decision.reasons else pressed)


def _aware(value):
    """SQLite hands back naive datetimes; the store writes UTC."""
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
