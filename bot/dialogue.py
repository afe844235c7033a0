"""The dialogue pipeline every adapter feeds: dedupe, store, decide, answer or hand off.

An error boundary surrounds each turn: if deciding or replying fails, the message is kept, a
ticket is opened where possible and the customer is told a person will follow up. When unsure,
the bot escalates.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from bot.engine import DecisionEngine, customer_value
from bot.gaps import GapTracker
from bot.replies import holding_message
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
FALLBACK_TEXT = "Thanks for your message. Something went wrong on our side, so a person from our team will follow up here shortly."


@dataclass(frozen=True, slots=True)
class TurnResult:
    """What happened to one inbound message (for adapters, tests and the CLI)."""

    status: str  # duplicate | answered | escalated | relayed | silent | empty | failed
    decision: Decision | None = None
    ticket_id: str | None = None
    decision_id: int | None = None


class Dialogue:
    """Handles customer messages; TicketDesk handles what agents do with the cards."""

    def __init__(self, *, engine: DecisionEngine, desk: TicketDesk, gaps: GapTracker | None = None) -> None:
        self.engine = engine
        self.desk = desk
        self.store = desk.store
        self.gaps = gaps

    async def handle(self, message: InboundMessage) -> TurnResult:
        """One customer turn, end to end; never raises for a customer's message."""
        if not self.store.remember_event(event_id=message.event_id):
            return TurnResult("duplicate")
        if not message.text.strip():
            return TurnResult("empty")
        try:
            return await self._handle_new(message)
        except Exception:
            log.exception("turn failed; escalating", extra={"event_id": message.event_id})
            return await self._fail_safe(message)

    async def request_person(self, *, message: InboundMessage) -> TurnResult:
        """The customer pressed "talk to a person": hand the conversation over at once.

        Recorded as a missed-escalation signal on the last answer, then escalated with the
        human_requested reason; the engine still summarises and prioritises the case.
        """
        if not self.store.remember_event(event_id=message.event_id, kind="person_request"):
            return TurnResult("duplicate")
        value = customer_value(rules=self.engine.rules, person=message.author)
        row = self.store.upsert_conversation(ref=message.ref, author=message.author, tier=value.tier)
        ticket = self.store.active_ticket(conversation_id=row.id)
        if ticket is not None:
            return TurnResult("relayed", ticket_id=ticket.id)
        history = tuple(self.store.history(conversation_id=row.id))
        text = next((t.text for t in reversed(history) if t.role == Role.CUSTOMER), message.text)
        decision = await asyncio.to_thread(self.engine.decide, Conversation(text=text, history=history, author=message.author, ref=message.ref))
        _force_person(decision)
        saved = self.store.save_decision(conversation_id=row.id, message_id=None, decision=decision, input_text=message.text)
        ticket_id = await self._escalate(message=message, decision=decision, decision_id=saved.id, question=text)
        return TurnResult("escalated", decision, ticket_id, saved.id)

    async def _handle_new(self, message: InboundMessage) -> TurnResult:
        value = customer_value(rules=self.engine.rules, person=message.author)
        conversation_row = self.store.upsert_conversation(ref=message.ref, author=message.author, tier=value.tier)
        history = self.store.history(conversation_id=conversation_row.id)
        stored = self.store.add_message(conversation_id=conversation_row.id, role=Role.CUSTOMER, text=message.text, author_id=message.author.platform_id, author_name=message.author.display_name, platform_message_id=message.message_id, at=message.sent_at)
        ticket = self.store.active_ticket(conversation_id=conversation_row.id)
        if ticket is not None:
            await self.desk.mirror_customer_message(ticket=ticket, message=message)
            return TurnResult("relayed", ticket_id=ticket.id)
        if conversation_row.human_active:
            return TurnResult("silent")
        conversation = Conversation(text=message.text, history=tuple(history), author=message.author, ref=message.ref)
        decision = await asyncio.to_thread(self.engine.decide, conversation)
        row = self.store.save_decision(conversation_id=conversation_row.id, message_id=stored.id, decision=decision, input_text=message.text)
        if decision.action == Action.ANSWER:
            await self._answer(message=message, decision=decision, decision_id=row.id)
            return TurnResult("answered", decision, decision_id=row.id)
        ticket_id = await self._escalate(message=message, decision=decision, decision_id=row.id)
        return TurnResult("escalated", decision, ticket_id, row.id)

    async def _answer(self, *, message: InboundMessage, decision: Decision, decision_id: int | None) -> None:
        reply = Reply(ref=message.ref, text=decision.answer or "", sources=tuple(decision.sources), kind="answer", buttons=ANSWER_BUTTONS, idempotency_key=f"answer:{message.event_id}", ticket_id=None, decision_id=decision_id)
        await self.desk.say(reply=reply, decision_id=decision_id)

    async def _escalate(self, *, message: InboundMessage, decision: Decision, decision_id: int | None, question: str | None = None) -> str:
        ticket = await self.desk.open_ticket(message=message, decision=decision, decision_id=decision_id)
        if self.gaps is not None and decision.missing_knowledge and Reason.LOW_CONFIDENCE in decision.reasons:
            self.gaps.record(question=question or message.text, ticket_id=ticket.id)
        holding = Reply(ref=message.ref, text=holding_message(decision=decision), kind="holding", ticket_id=ticket.id, idempotency_key=f"holding:{message.event_id}")
        await self.desk.say(reply=holding, decision_id=decision_id)
        return ticket.id

    async def _fail_safe(self, message: InboundMessage) -> TurnResult:
        """Keep the message, open a ticket if the store allows, tell the customer a person follows up."""
        decision = Decision(action=Action.ESCALATE, triggers=[Trigger(Reason.LOW_CONFIDENCE, "the bot failed while deciding; a person must take this", ("internal error",), None, "error")])
        decision.summary = f'Customer wrote: "{message.text[:300]}" (the bot could not decide).'
        decision.intent = "unknown (decision failed)"
        decision.internal_action = "Read the customer's message and reply; the bot hit an internal error."
        decision.queue = self.engine.rules.default_queue
        try:
            ticket = await self.desk.open_ticket(message=message, decision=decision, decision_id=None)
            ticket_id = ticket.id
        except Exception:
            log.exception("could not open a fallback ticket", extra={"event_id": message.event_id})
            ticket_id = None
        try:
            await self.desk.say(reply=Reply(ref=message.ref, text=FALLBACK_TEXT, kind="holding", ticket_id=ticket_id), decision_id=None)
        except Exception:
            log.exception("could not tell the customer", extra={"event_id": message.event_id})
        return TurnResult("failed", decision, ticket_id)


def _force_person(decision: Decision) -> None:
    """Turn any decision into a handoff that names the customer's explicit request."""
    from bot.engine import recommendation

    decision.action = Action.ESCALATE
    if Reason.HUMAN_REQUESTED not in decision.reasons:
        decision.triggers.insert(0, Trigger(Reason.HUMAN_REQUESTED, "the customer pressed 'talk to a person'", ("button: talk to a person",), 1.0, "human_requested"))
    draft = decision.answer
    decision.answer = None
    decision.suggested_reply, decision.internal_action = recommendation(decision=decision, draft=draft)
