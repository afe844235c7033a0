"""What every channel asks of a conversation, and the conversation policy they all share.

Slack, Teams and the sandbox call this service, never the store: whether an event was seen,
whether the bot may speak in a thread, whether a person is taking a thread over, edits and
deletions of customer messages, customers' and reviewers' clicks on answers, and where a
queue's channel is. The policy lives here once:

- a member of the support team (``Person.external`` False) writing in a customer's thread who
  is not that thread's customer takes the thread over: their words join the history, the bot
  goes silent there until the ticket is resolved, and the card's thread is told;
- the bot shows no sign of working (no reaction, no typing) where a person handles the thread;
- an edit of a customer message that is on an open ticket is told on the card.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from bot.dialogue import Dialogue, TurnResult
from bot.ops.feedback import record_customer_feedback, record_review
from bot.store.repo import Store
from bot.threads import INLINE, Threads
from bot.tickets import TicketDesk
from bot.types import InboundMessage, Person, Role, utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class QueueChannel:
    """A queue's channel on one platform, as set up from inside the platform."""

    queue: str
    channel: str
    native: dict[str, Any] = field(default_factory=dict)


class Conversations:
    """The one door adapters use for conversation state and the policy that reads it."""

    def __init__(self, *, store: Store, desk: TicketDesk, dialogue: Dialogue, threads: Threads = INLINE) -> None:
        self._store = store
        self._desk = desk
        self._dialogue = dialogue
        self._threads = threads  # the look-ups made on every event run where the turn's store calls run

    # --- customer turns ----------------------------------------------------------------------

    async def receive(self, *, message: InboundMessage, retry_later: bool = False) -> TurnResult:
        """A customer's message (after any take-over check the platform can make): one turn."""
        return await self._dialogue.handle(message, retry_later=retry_later)

    async def request_person(self, *, message: InboundMessage) -> TurnResult:
        """The customer asked for a person ("talk to a person")."""
        return await self._dialogue.request_person(message=message)

    async def first_time(self, *, key: str, platform: str, owner: str | None = None) -> bool:
        """Persisted dedupe of a platform event; the inbox item that marked it may pass again."""
        return await self._threads.run(self._store.mark_event, event_id=key, kind=platform, owner=owner) != "duplicate"

    def is_known(self, *, conversation_id: str) -> bool:
        return self._store.conversation(conversation_id=conversation_id) is not None

    async def bot_may_reply(self, *, conversation_id: str) -> bool:
        """False when a person handles the thread: then the bot shows no sign of working."""
        return await self._threads.run(self._bot_may_reply, conversation_id=conversation_id)

    def _bot_may_reply(self, *, conversation_id: str) -> bool:
        human_active, open_ticket = self._store.reply_state(conversation_id=conversation_id)
        return not human_active and not open_ticket

    async def is_takeover(self, *, conversation_id: str, author: Person) -> bool:
        """A support-team member (not external) writing in someone else's customer thread."""
        if author.external:
            return False
        row = await self._threads.run(self._store.conversation, conversation_id=conversation_id)
        return row is not None and bool(row.customer_id) and row.customer_id != author.platform_id

    async def take_over(self, *, conversation_id: str, author: Person, text: str, platform_message_id: str | None) -> None:
        """Keep the person's words in the history, silence the bot, tell the card's thread."""
        self._store.set_human_active(conversation_id=conversation_id, active=True)
        self._store.add_message(conversation_id=conversation_id, role=Role.AGENT, text=text, author_id=author.platform_id, author_name=author.display_name, platform_message_id=platform_message_id)
        ticket = self._store.active_ticket(conversation_id=conversation_id)
        if ticket is not None:
            self._store.mark_first_agent_reply(ticket_id=ticket.id, at=utcnow())
            await self._desk.note_on_card(ticket=ticket, text=f"{author.display_name} replied in the customer's thread: {text}")
        log.info("thread %s taken over by a person", conversation_id)

    # --- edits and deletions -----------------------------------------------------------------

    async def edited(self, *, platform_message_id: str, text: str) -> None:
        """Keep the stored text current; an open ticket's card thread hears about a customer's edit."""
        row = self._store.edit_message(platform_message_id=platform_message_id, text=text)
        ticket = self._store.active_ticket(conversation_id=row.conversation_id) if row else None
        if ticket is not None and row.role == Role.CUSTOMER.value:
            await self._desk.note_on_card(ticket=ticket, text=f"{row.author_name or 'The customer'} edited their message: {text}")

    def deleted(self, *, platform_message_id: str) -> None:
        """A deleted message leaves the history the core reads (it stays in the audit trail)."""
        self._store.edit_message(platform_message_id=platform_message_id, text=None, deleted=True)

    # --- clicks on answers -------------------------------------------------------------------

    def latest_answer(self, *, conversation_id: str) -> int | None:
        """The newest answered decision of a conversation: what a Helpful click rates."""
        answered = [row for row in self._store.decisions(conversation_id=conversation_id) if row.action == "answer"]
        return answered[-1].id if answered else None

    def answer_in(self, *, conversation_id: str, decision_id: int) -> int | None:
        """``decision_id`` when it is a decision of this conversation, else None."""
        row = self._store.decision(decision_id=decision_id)
        return row.id if row is not None and row.conversation_id == conversation_id else None

    def rate_answer(self, *, decision_id: int | None, kind: str, by: str) -> None:
        """A Helpful / Not helpful click from a chat platform's answer buttons."""
        self._store.add_feedback(kind=kind, decision_id=decision_id, by=by)

    def rate_answer_checked(self, *, decision_id: int, kind: str, by: str) -> None:
        """The same, refusing unknown kinds and decisions that are no answer (FeedbackError)."""
        record_customer_feedback(store=self._store, decision_id=decision_id, kind=kind, by=by)

    def review_answer(self, *, decision_id: int, verdict: str, by: str) -> None:
        """A reviewer's verdict on a sampled answer (FeedbackError when it cannot count)."""
        record_review(store=self._store, decision_id=decision_id, verdict=verdict, by=by)

    # --- queue channels set up from inside a platform ----------------------------------------

    def queue_channel(self, *, platform: str, queue: str) -> QueueChannel | None:
        row = self._store.channel_ref(platform=platform, name=queue)
        return QueueChannel(queue=queue, channel=row.channel, native=dict(row.native or {})) if row is not None else None

    def remember_queue_channel(self, *, platform: str, queue: str, channel: str, native: dict[str, Any]) -> None:
        self._store.save_channel_ref(platform=platform, name=queue, channel=channel, native=native)
