"""The store: keyword-only operations over the tables, each in its own short transaction.

Claims are one conditional UPDATE (``... WHERE claimed_by IS NULL``) checked by rowcount, so
exactly one of any number of concurrent claimers wins on SQLite and PostgreSQL alike; the
loser reads back who won.
"""

from __future__ import annotations

import functools
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, insert, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.store.db import single_statements
from bot.store.models import (
    AgentActionRow, ChannelRefRow, ClaimRow, ConversationRow, DecisionRow, FeedbackRow, InboundEvent,
    KnowledgeGapRow, MessageRow, TicketRow,
)
from bot.types import ConversationRef, Decision, Person, Role, Turn, utcnow

OPEN_STATES = ("open", "claimed", "released")
HISTORY_TURNS = 20  # the turns before a message that the engine reads
CHANNEL_REF_SECONDS = 10.0  # how long a queue's channel is read from memory (cards are posted on most turns)


@dataclass(frozen=True, slots=True)
class ClaimResult:
    """The outcome of a claim: whether this agent won, and who owns the ticket now."""

    won: bool
    owner_id: str | None
    owner_name: str | None
    claimed_at: datetime | None
    status: str


@dataclass(frozen=True, slots=True)
class CustomerTurnRows:
    """What a customer turn starts from (Store.record_customer_message)."""

    conversation: ConversationRow
    message: MessageRow
    history: list[Turn]
    open_ticket: TicketRow | None


def new_ticket_id() -> str:
    """A short, unguessable, human-friendly ticket id."""
    return "T-" + secrets.token_hex(4).upper()


class Store:
    """All reads and writes the core needs; adapters never touch tables directly."""

    def __init__(self, *, engine: Engine) -> None:
        self.engine = engine
        self._single = single_statements(engine)
        self._channel_refs: dict[tuple[str, str], tuple[float, ChannelRefRow | None]] = {}

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    def _single_session(self) -> Session:
        """A session for one statement (an INSERT of one row): in autocommit on PostgreSQL."""
        return Session(self._single, expire_on_commit=False)

    def ping(self) -> None:
        """A round trip to the database (raises when it is unreachable)."""
        with self.engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")

    # --- inbound events -----------------------------------------------------------------

    def remember_event(self, *, event_id: str, kind: str = "message") -> bool:
        """Record an event id; False when it was seen before (a redelivery)."""
        return self.mark_event(event_id=event_id, kind=kind) == "new"

    def mark_event(self, *, event_id: str, kind: str = "message", owner: str | None = None) -> str:
        """Record an event id: ``new``, ``duplicate``, or ``resume`` when ``owner`` (a durable
        inbox delivery) marked it before: that delivery is being recovered after a crash. It runs
        at least twice per customer turn, so the insert is one statement, not an ORM flush."""
        try:
            with self._single.begin() as connection:
                connection.execute(insert(InboundEvent).values(event_id=event_id, kind=kind, owner=owner, received_at=utcnow()))
            return "new"
        except IntegrityError:
            pass
        if owner is not None:
            with self.session() as session:
                seen = session.get(InboundEvent, event_id)
                if seen is not None and seen.owner == owner:
                    return "resume"
        return "duplicate"

    # --- conversations and messages -------------------------------------------------------

    def upsert_conversation(self, *, ref: ConversationRef, author: Person | None, tier: str | None = None) -> ConversationRow:
        """Create the conversation on its first message; keep the customer's details fresh.

        Two replicas may take a new conversation's first two messages at once: the one whose
        insert loses reads the winner's row and updates it instead.
        """
        try:
            return self._upsert_conversation(ref=ref, author=author, tier=tier)
        except IntegrityError:
            return self._upsert_conversation(ref=ref, author=author, tier=tier)

    def _upsert_conversation(self, *, ref: ConversationRef, author: Person | None, tier: str | None) -> ConversationRow:
        with self.session() as session:
            row = _upserted_conversation(session, ref=ref, author=author, tier=tier)
            session.commit()
            return row

    def record_customer_message(self, *, ref: ConversationRef, author: Person, tier: str | None, text: str, platform_message_id: str | None, at: datetime | None, reuse_stored: bool = False) -> CustomerTurnRows:
        """What every customer turn writes and reads first, in one transaction: the conversation
        (created, or its customer's details refreshed), the message (or, with ``reuse_stored``,
        the row an earlier attempt of a recovered turn kept), the history before it and the
        conversation's open ticket. Four ORM sessions before; on PostgreSQL each was a round trip
        for BEGIN and one for COMMIT besides its statements."""
        record = functools.partial(self._record_customer_message, ref=ref, author=author, tier=tier, text=text, platform_message_id=platform_message_id, at=at, reuse_stored=reuse_stored)
        try:
            return record()
        except IntegrityError:  # another replica created the conversation at the same moment
            return record()

    def _record_customer_message(self, *, ref: ConversationRef, author: Person, tier: str | None, text: str, platform_message_id: str | None, at: datetime | None, reuse_stored: bool) -> CustomerTurnRows:
        with self.session() as session:
            conversation = _upserted_conversation(session, ref=ref, author=author, tier=tier)
            session.flush()
            message = _stored_message(session, conversation_id=conversation.id, platform_message_id=platform_message_id, role=Role.CUSTOMER) if reuse_stored else None
            if message is None:
                message = MessageRow(conversation_id=conversation.id, role=Role.CUSTOMER.value, text=text, author_id=author.platform_id, author_name=author.display_name, platform_message_id=platform_message_id, at=at or utcnow())
                session.add(message)
                session.flush()
            history = list(session.exec(_history_query(conversation_id=conversation.id, limit=HISTORY_TURNS, before_id=message.id)))
            ticket = session.exec(_active_ticket_query(conversation_id=conversation.id)).first()
            session.commit()
        return CustomerTurnRows(conversation, message, [_turn(row) for row in reversed(history)], ticket)

    def conversation(self, *, conversation_id: str) -> ConversationRow | None:
        with self.session() as session:
            return session.get(ConversationRow, conversation_id)

    def reply_state(self, *, conversation_id: str) -> tuple[bool, bool]:
        """(a person handles the conversation, it has an unresolved ticket): read on every
        customer event, so two Core queries on one connection rather than two ORM sessions."""
        conversations, tickets = ConversationRow.__table__, TicketRow.__table__
        with self._single.connect() as connection:
            human_active = connection.execute(select(conversations.c.human_active).where(conversations.c.id == conversation_id)).scalar()
            if human_active is None:
                return False, False  # not stored yet: no person, no ticket
            ticket = connection.execute(select(tickets.c.id).where(tickets.c.conversation_id == conversation_id, tickets.c.status.in_(OPEN_STATES)).limit(1)).first()
        return bool(human_active), ticket is not None

    def set_human_active(self, *, conversation_id: str, active: bool) -> None:
        """Mark that a person has taken over (the bot stays silent) or handed back."""
        with self.session() as session:
            session.exec(update(ConversationRow).where(col(ConversationRow.id) == conversation_id).values(human_active=active))
            session.commit()

    def add_message(self, *, conversation_id: str, role: Role, text: str, author_id: str = "", author_name: str = "", platform_message_id: str | None = None, at: datetime | None = None, kind: str = "message", sources: list[dict] | None = None, ticket_id: str | None = None, internal: bool = False) -> MessageRow:
        """Keep one message; internal ones (agent notes, card-thread entries) never reach the engine."""
        row = MessageRow(conversation_id=conversation_id, role=role.value, text=text, author_id=author_id, author_name=author_name, platform_message_id=platform_message_id, at=at or utcnow(), kind=kind, sources=list(sources or []), ticket_id=ticket_id, internal=internal)
        with self._single_session() as session:
            session.add(row)
            session.commit()
            return row

    def find_message(self, *, conversation_id: str, platform_message_id: str | None, role: Role) -> MessageRow | None:
        """A stored message of this conversation by its platform id (a recovered turn finds its own)."""
        with self.session() as session:
            return _stored_message(session, conversation_id=conversation_id, platform_message_id=platform_message_id, role=role)

    def count_messages(self, *, conversation_id: str, role: Role, since: datetime) -> int:
        """How many messages of one role a conversation got since a moment (reply rate limit)."""
        from sqlalchemy import func

        query = select(func.count()).select_from(MessageRow).where(MessageRow.conversation_id == conversation_id, MessageRow.role == role.value, col(MessageRow.at) >= since, col(MessageRow.internal).is_(False))
        with self.session() as session:
            return int(session.exec(query).one())

    def edit_message(self, *, platform_message_id: str, text: str | None, deleted: bool = False) -> MessageRow | None:
        """Apply a platform edit or deletion to a stored message."""
        with self.session() as session:
            row = session.exec(select(MessageRow).where(MessageRow.platform_message_id == platform_message_id)).first()
            if row is None:
                return None
            row.text = text if text is not None else row.text
            row.deleted = deleted
            session.add(row)
            session.commit()
            return row

    def history(self, *, conversation_id: str, limit: int = HISTORY_TURNS, before_id: int | None = None) -> list[Turn]:
        """The newest turns of a conversation (older than message ``before_id`` if given), oldest
        first, deleted ones left out."""
        with self.session() as session:
            rows = list(session.exec(_history_query(conversation_id=conversation_id, limit=limit, before_id=before_id)))
        return [_turn(row) for row in reversed(rows)]

    def messages(self, *, conversation_id: str, limit: int = 200, include_internal: bool = True) -> list[MessageRow]:
        """Stored messages of a conversation, oldest first, with their kind, sources and ticket."""
        query = select(MessageRow).where(MessageRow.conversation_id == conversation_id, col(MessageRow.deleted).is_(False))
        if not include_internal:
            query = query.where(col(MessageRow.internal).is_(False))
        with self.session() as session:
            rows = list(session.exec(query.order_by(col(MessageRow.id).desc()).limit(limit)))
        return list(reversed(rows))

    def conversations(self, *, platform: str | None = None, limit: int = 50) -> list[ConversationRow]:
        """The most recently active conversations, newest first."""
        query = select(ConversationRow).order_by(col(ConversationRow.updated_at).desc()).limit(limit)
        if platform is not None:
            query = query.where(ConversationRow.platform == platform)
        with self.session() as session:
            return list(session.exec(query))

    def add_tokens(self, *, conversation_id: str, tokens: int) -> None:
        with self.session() as session:
            session.exec(update(ConversationRow).where(col(ConversationRow.id) == conversation_id).values(tokens=ConversationRow.tokens + tokens))
            session.commit()

    # --- decisions ------------------------------------------------------------------------

    def save_decision(self, *, conversation_id: str, message_id: int | None, decision: Decision, input_text: str) -> DecisionRow:
        row = DecisionRow(
            conversation_id=conversation_id, message_id=message_id, action=decision.action.value,
            reasons=[r.value for r in decision.reasons], category=decision.category.name,
            confidence=decision.confidence, payload=decision.to_dict(), input_text=input_text,
            rules_version=decision.rules_version, engine=decision.engine,
            latency_ms=decision.latency_ms, tokens=decision.tokens,
        )
        with self._single_session() as session:
            session.add(row)
            session.commit()
            return row

    def decisions(self, *, conversation_id: str | None = None, since: datetime | None = None) -> list[DecisionRow]:
        query = select(DecisionRow).order_by(col(DecisionRow.id))
        if conversation_id is not None:
            query = query.where(DecisionRow.conversation_id == conversation_id)
        if since is not None:
            query = query.where(col(DecisionRow.created_at) >= since)
        with self.session() as session:
            return list(session.exec(query))

    def decision_for_message(self, *, message_id: int) -> DecisionRow | None:
        """The decision taken on a stored customer message, if any (crash recovery)."""
        with self.session() as session:
            return session.exec(select(DecisionRow).where(DecisionRow.message_id == message_id).order_by(col(DecisionRow.id))).first()

    def decision(self, *, decision_id: int) -> DecisionRow | None:
        with self.session() as session:
            return session.get(DecisionRow, decision_id)

    # --- tickets --------------------------------------------------------------------------

    def create_ticket(self, *, ticket: TicketRow) -> TicketRow:
        """Store a new ticket, or return the conversation's active one: a unique index allows one
        unresolved ticket per conversation, so two replicas escalating at once open one."""
        with self._single_session() as session:
            session.add(ticket)
            try:
                session.commit()
                return ticket
            except IntegrityError:
                session.rollback()
        existing = self.active_ticket(conversation_id=ticket.conversation_id)
        if existing is None:
            raise RuntimeError(f"could not store ticket {ticket.id}")
        return existing

    def ticket(self, *, ticket_id: str) -> TicketRow | None:
        with self.session() as session:
            return session.get(TicketRow, ticket_id)

    def ticket_for_decision(self, *, decision_id: int) -> TicketRow | None:
        """The ticket a decision opened, if any (crash recovery)."""
        with self.session() as session:
            return session.exec(select(TicketRow).where(TicketRow.decision_id == decision_id)).first()

    def ticket_by_card(self, *, platform: str, message_id: str) -> TicketRow | None:
        """The ticket whose handoff card is this platform message (indexed lookup)."""
        query = select(TicketRow).where(TicketRow.card_message_id == message_id)
        with self.session() as session:
            rows = list(session.exec(query))
        return next((r for r in rows if (r.card_refs or {}).get("platform") == platform), None)

    def active_ticket(self, *, conversation_id: str) -> TicketRow | None:
        """The conversation's ticket that is not resolved yet, newest first."""
        with self.session() as session:
            return session.exec(_active_ticket_query(conversation_id=conversation_id)).first()

    def tickets(self, *, statuses: tuple[str, ...] | None = None, queue: str | None = None, since: datetime | None = None) -> list[TicketRow]:
        query = select(TicketRow).order_by(col(TicketRow.created_at))
        if statuses:
            query = query.where(col(TicketRow.status).in_(statuses))
        if queue:
            query = query.where(TicketRow.queue == queue)
        if since is not None:
            query = query.where(col(TicketRow.created_at) >= since)
        with self.session() as session:
            return list(session.exec(query))

    def update_ticket(self, *, ticket_id: str, **values: Any) -> TicketRow | None:
        """Set fields of a ticket and return it fresh."""
        values["updated_at"] = utcnow()
        statement = update(TicketRow).where(col(TicketRow.id) == ticket_id).values(**values).returning(TicketRow)
        with self.session() as session:
            row = session.execute(statement, execution_options={"populate_existing": True}).scalars().first()
            session.commit()
            return row

    def claim(self, *, ticket_id: str, agent_id: str, agent_name: str, at: datetime | None = None) -> ClaimResult:
        """Race-free claim: one conditional UPDATE; rowcount 1 means this agent won."""
        when = at or utcnow()
        statement = (
            update(TicketRow)
            .where(col(TicketRow.id) == ticket_id, col(TicketRow.claimed_by).is_(None), col(TicketRow.status).in_(("open", "released")))
            .values(claimed_by=agent_id, claimed_by_name=agent_name, claimed_at=when, status="claimed", updated_at=when)
        )
        with self.session() as session:
            won = session.exec(statement).rowcount == 1
            session.add(ClaimRow(ticket_id=ticket_id, agent_id=agent_id, agent_name=agent_name, won=won, at=when))
            session.commit()
            row = session.get(TicketRow, ticket_id, populate_existing=True)
        if row is None:
            return ClaimResult(False, None, None, None, "missing")
        return ClaimResult(won, row.claimed_by, row.claimed_by_name, row.claimed_at, row.status)

    def release(self, *, ticket_id: str, agent_id: str | None = None) -> bool:
        """Hand a claimed ticket back to the queue (only its owner may, when agent_id is given)."""
        conditions = [col(TicketRow.id) == ticket_id, col(TicketRow.status) == "claimed"]
        if agent_id is not None:
            conditions.append(col(TicketRow.claimed_by) == agent_id)
        statement = update(TicketRow).where(*conditions).values(claimed_by=None, claimed_by_name=None, claimed_at=None, status="released", updated_at=utcnow())
        with self.session() as session:
            changed = session.exec(statement).rowcount == 1
            session.commit()
        return changed

    def resolve(self, *, ticket_id: str, agent_id: str, at: datetime | None = None) -> bool:
        """Close a ticket once; a second resolve changes nothing."""
        when = at or utcnow()
        statement = (
            update(TicketRow)
            .where(col(TicketRow.id) == ticket_id, col(TicketRow.status).in_(OPEN_STATES))
            .values(status="resolved", resolved_at=when, resolved_by=agent_id, updated_at=when)
        )
        with self.session() as session:
            changed = session.exec(statement).rowcount == 1
            session.commit()
        return changed

    def mark_first_agent_reply(self, *, ticket_id: str, at: datetime | None = None) -> None:
        statement = (
            update(TicketRow)
            .where(col(TicketRow.id) == ticket_id, col(TicketRow.first_agent_reply_at).is_(None))
            .values(first_agent_reply_at=at or utcnow())
        )
        with self.session() as session:
            session.exec(statement)
            session.commit()

    def claims(self, *, ticket_id: str) -> list[ClaimRow]:
        with self.session() as session:
            return list(session.exec(select(ClaimRow).where(ClaimRow.ticket_id == ticket_id).order_by(col(ClaimRow.id))))

    # --- feedback, gaps, channel references ------------------------------------------------

    def add_feedback(self, *, kind: str, value: str = "", decision_id: int | None = None, ticket_id: str | None = None, by: str = "") -> FeedbackRow:
        row = FeedbackRow(kind=kind, value=value, decision_id=decision_id, ticket_id=ticket_id, by=by)
        with self.session() as session:
            session.add(row)
            if decision_id is not None:
                session.exec(update(DecisionRow).where(col(DecisionRow.id) == decision_id).values(feedback=kind))
            session.commit()
            return row

    def feedback(self, *, since: datetime | None = None) -> list[FeedbackRow]:
        query = select(FeedbackRow).order_by(col(FeedbackRow.id))
        if since is not None:
            query = query.where(col(FeedbackRow.at) >= since)
        with self.session() as session:
            return list(session.exec(query))

    def messages_of_kind(self, *, ticket_id: str, kind: str) -> list[MessageRow]:
        query = select(MessageRow).where(MessageRow.ticket_id == ticket_id, MessageRow.kind == kind).order_by(col(MessageRow.id))
        with self.session() as session:
            return list(session.exec(query))

    def set_message_kind(self, *, message_id: int, kind: str) -> None:
        with self.session() as session:
            session.exec(update(MessageRow).where(col(MessageRow.id) == message_id).values(kind=kind))
            session.commit()

    def record_agent_action(self, *, actor_id: str, actor_name: str, action: str, ticket_id: str | None = None, ok: bool = True, detail: str = "") -> AgentActionRow:
        """One audit entry: who did what to which ticket (or signed in), and whether it worked."""
        row = AgentActionRow(actor_id=actor_id[:255], actor_name=actor_name[:255], action=action[:40], ticket_id=ticket_id, ok=ok, detail=detail[:400])
        with self.session() as session:
            session.add(row)
            session.commit()
            session.refresh(row)
            return row

    def agent_actions(self, *, ticket_id: str | None = None, limit: int = 200) -> list[AgentActionRow]:
        """The newest audit entries first, optionally of one ticket."""
        query = select(AgentActionRow).order_by(col(AgentActionRow.id).desc()).limit(limit)
        if ticket_id is not None:
            query = query.where(AgentActionRow.ticket_id == ticket_id)
        with self.session() as session:
            return list(session.exec(query))

    def gaps(self, *, status: str | None = None) -> list[KnowledgeGapRow]:
        query = select(KnowledgeGapRow).order_by(col(KnowledgeGapRow.count).desc(), col(KnowledgeGapRow.id))
        if status:
            query = query.where(KnowledgeGapRow.status == status)
        with self.session() as session:
            return list(session.exec(query))

    def save_gap(self, *, gap: KnowledgeGapRow) -> KnowledgeGapRow:
        with self.session() as session:
            merged = session.merge(gap)
            session.commit()
            return merged

    def save_channel_ref(self, *, platform: str, name: str, channel: str, native: dict) -> None:
        """Persist where a named queue lives on a platform (replaces an older reference)."""
        with self.session() as session:
            row = session.exec(select(ChannelRefRow).where(ChannelRefRow.platform == platform, ChannelRefRow.name == name)).first()
            row = row or ChannelRefRow(platform=platform, name=name, channel=channel)
            row.channel, row.native, row.updated_at = channel, dict(native), utcnow()
            session.add(row)
            session.commit()
        self._channel_refs.pop((platform, name), None)

    def channel_ref(self, *, platform: str, name: str) -> ChannelRefRow | None:
        """Where a named queue lives on a platform. Read from memory for ``CHANNEL_REF_SECONDS``
        after a read (a card is posted on most turns); a replica sees another's change that late."""
        cached = self._channel_refs.get((platform, name))
        if cached is not None and time.monotonic() < cached[0]:
            return cached[1]
        with self.session() as session:
            row = session.exec(select(ChannelRefRow).where(ChannelRefRow.platform == platform, ChannelRefRow.name == name)).first()
        self._channel_refs[(platform, name)] = (time.monotonic() + CHANNEL_REF_SECONDS, row)
        return row


def _upserted_conversation(session: Session, *, ref: ConversationRef, author: Person | None, tier: str | None) -> ConversationRow:
    """The conversation's row in ``session``, created or with its customer's details refreshed."""
    row = session.get(ConversationRow, ref.key)
    if row is None:
        row = ConversationRow(id=ref.key, platform=ref.platform, channel=ref.channel, thread=ref.thread, native=dict(ref.native))
    if author is not None and not row.customer_id:
        row.customer_id, row.customer_name = author.platform_id, author.display_name
        row.organisation, row.external = author.organisation, author.external
    row.tier = tier or row.tier
    row.updated_at = utcnow()
    session.add(row)
    return row


def _stored_message(session: Session, *, conversation_id: str, platform_message_id: str | None, role: Role) -> MessageRow | None:
    """The first stored message of this conversation with this platform id and role, if any."""
    if not platform_message_id:
        return None
    query = select(MessageRow).where(MessageRow.conversation_id == conversation_id, MessageRow.platform_message_id == platform_message_id, MessageRow.role == role.value)
    return session.exec(query.order_by(col(MessageRow.id))).first()


def _history_query(*, conversation_id: str, limit: int, before_id: int | None):
    """The newest ``limit`` messages the engine reads (not deleted, not internal), newest first."""
    query = select(MessageRow).where(MessageRow.conversation_id == conversation_id, col(MessageRow.deleted).is_(False), col(MessageRow.internal).is_(False))
    if before_id is not None:
        query = query.where(col(MessageRow.id) < before_id)
    return query.order_by(col(MessageRow.at).desc(), col(MessageRow.id).desc()).limit(limit)


def _active_ticket_query(*, conversation_id: str):
    """The conversation's tickets that are not resolved yet, newest first."""
    return select(TicketRow).where(TicketRow.conversation_id == conversation_id, col(TicketRow.status).in_(OPEN_STATES)).order_by(col(TicketRow.created_at).desc())


def _turn(row: MessageRow) -> Turn:
    return Turn(role=Role(row.role), text=row.text, author=row.author_name, at=row.at)


def due_times(*, start: datetime, first_response: timedelta, resolution: timedelta) -> tuple[datetime, datetime]:
    """SLA due times counted from when the ticket opened."""
    return start + first_response, start + resolution
