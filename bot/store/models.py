"""SQLModel tables: the conversations, the decisions' audit trail, tickets, claims and gaps.

The same models serve SQLite (the default) and PostgreSQL; Alembic migrations in
``bot/store/migrations`` create them. JSON columns hold lists of reasons and sources so the
audit trail keeps exactly what the engine saw.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.types import utcnow


def _when(*, nullable: bool = True, index: bool = False) -> Any:
    return Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=nullable, index=index))


def _json(default: Any) -> Any:
    return Field(default_factory=lambda: type(default)(default), sa_column=Column(JSON, nullable=False))


class InboundEvent(SQLModel, table=True):
    """Every platform event id seen once; a redelivery finds its row and changes nothing."""

    __tablename__ = "inbound_events"
    event_id: str = Field(primary_key=True, max_length=255)
    kind: str = Field(default="message", max_length=40)
    owner: str | None = Field(default=None, max_length=255)  # the inbox delivery that may resume it
    received_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False))


class ConversationRow(SQLModel, table=True):
    """One customer conversation (a Slack thread, a Teams reply chain, a sandbox chat)."""

    __tablename__ = "conversations"
    id: str = Field(primary_key=True, max_length=400)
    platform: str = Field(max_length=20, index=True)
    channel: str = Field(max_length=255)
    thread: str | None = Field(default=None, max_length=255)
    native: dict = _json({})
    customer_id: str = Field(default="", max_length=255)
    customer_name: str = Field(default="", max_length=255)
    organisation: str | None = Field(default=None, max_length=255)
    tier: str | None = Field(default=None, max_length=64)
    external: bool = False
    human_active: bool = False
    tokens: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False))


class MessageRow(SQLModel, table=True):
    """A message of a conversation, from the customer, an agent or the bot."""

    __tablename__ = "messages"
    id: int | None = Field(default=None, primary_key=True)
    conversation_id: str = Field(foreign_key="conversations.id", index=True, max_length=400)
    role: str = Field(max_length=20)
    author_id: str = Field(default="", max_length=255)
    author_name: str = Field(default="", max_length=255)
    text: str
    platform_message_id: str | None = Field(default=None, max_length=255, index=True)
    kind: str = Field(default="message", max_length=40)
    sources: list = _json([])
    ticket_id: str | None = Field(default=None, max_length=40)
    internal: bool = False
    deleted: bool = False
    at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False, index=True))


class DecisionRow(SQLModel, table=True):
    """The audit trail: what the engine decided, why, with scores, sources and rules version."""

    __tablename__ = "decisions"
    id: int | None = Field(default=None, primary_key=True)
    conversation_id: str = Field(foreign_key="conversations.id", index=True, max_length=400)
    message_id: int | None = Field(default=None, foreign_key="messages.id")
    action: str = Field(max_length=20, index=True)
    reasons: list = _json([])
    category: str | None = Field(default=None, max_length=128)
    confidence: float = 0.0
    payload: dict = _json({})
    input_text: str = ""
    rules_version: str = Field(default="", max_length=80)
    engine: str = Field(default="offline", max_length=20)
    latency_ms: float = 0.0
    tokens: int = 0
    feedback: str | None = Field(default=None, max_length=40)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False, index=True))


class TicketRow(SQLModel, table=True):
    """A handoff: the seven card fields, its lifecycle, its owner and the agents' feedback."""

    __tablename__ = "tickets"
    id: str = Field(primary_key=True, max_length=40)
    conversation_id: str = Field(foreign_key="conversations.id", index=True, max_length=400)
    decision_id: int | None = Field(default=None, foreign_key="decisions.id")
    status: str = Field(default="open", max_length=20, index=True)
    priority: str = Field(default="normal", max_length=20)
    queue: str = Field(default="support", max_length=80, index=True)
    category: str | None = Field(default=None, max_length=128)
    automation: str = Field(default="ai_route", max_length=20)
    reasons: list = _json([])
    triggers: list = _json([])
    customer: str = Field(default="", max_length=255)
    customer_id: str = Field(default="", max_length=255)
    organisation: str | None = Field(default=None, max_length=255)
    tier: str | None = Field(default=None, max_length=64)
    channel: str = Field(default="", max_length=255)
    thread_link: str | None = Field(default=None, max_length=1000)
    original_message: str = ""
    summary: str = ""
    intent: str = ""
    sources: list = _json([])
    missing_knowledge: bool = False
    suggested_reply: str = ""
    internal_action: str = ""
    card_refs: dict = _json({})
    card_message_id: str | None = Field(default=None, max_length=255, index=True)
    claimed_by: str | None = Field(default=None, max_length=255)
    claimed_by_name: str | None = Field(default=None, max_length=255)
    claimed_at: datetime | None = _when()
    first_agent_reply_at: datetime | None = _when()
    resolved_at: datetime | None = _when()
    resolved_by: str | None = Field(default=None, max_length=255)
    first_response_due: datetime | None = _when()
    resolution_due: datetime | None = _when(index=True)
    needed_person: bool | None = None
    card_complete: bool | None = None
    missing_field: str | None = Field(default=None, max_length=80)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False, index=True))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False))


class ClaimRow(SQLModel, table=True):
    """Every claim attempt, won or lost, so a race can be reconstructed afterwards."""

    __tablename__ = "claims"
    id: int | None = Field(default=None, primary_key=True)
    ticket_id: str = Field(foreign_key="tickets.id", index=True, max_length=40)
    agent_id: str = Field(max_length=255)
    agent_name: str = Field(default="", max_length=255)
    won: bool = False
    at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False))


class KnowledgeGapRow(SQLModel, table=True):
    """A question the knowledge base could not answer; similar questions join one gap."""

    __tablename__ = "knowledge_gaps"
    id: int | None = Field(default=None, primary_key=True)
    question: str
    examples: list = _json([])
    ticket_ids: list = _json([])
    count: int = 1
    status: str = Field(default="open", max_length=20, index=True)
    closed_by_doc: str | None = Field(default=None, max_length=400)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False))
    closed_at: datetime | None = _when()


class FeedbackRow(SQLModel, table=True):
    """One-click feedback from customers (helpful / not helpful / person) and agents."""

    __tablename__ = "feedback"
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=40, index=True)
    value: str = Field(default="", max_length=80)
    decision_id: int | None = Field(default=None, foreign_key="decisions.id")
    ticket_id: str | None = Field(default=None, max_length=40)
    by: str = Field(default="", max_length=255)
    at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False))


class ChannelRefRow(SQLModel, table=True):
    """A stored conversation reference (for example a Teams queue channel), never kept only in memory."""

    __tablename__ = "channel_refs"
    __table_args__ = (UniqueConstraint("platform", "name"),)
    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=20)
    name: str = Field(max_length=255)
    channel: str = Field(max_length=400)
    native: dict = _json({})
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False))


class AgentActionRow(SQLModel, table=True):
    """Who did what: every agent action on a ticket and every sign-in to the web surface."""

    __tablename__ = "agent_actions"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False, index=True))
    actor_id: str = Field(max_length=255, index=True)
    actor_name: str = Field(default="", max_length=255)
    action: str = Field(max_length=40, index=True)
    ticket_id: str | None = Field(default=None, max_length=40, index=True)
    ok: bool = True
    detail: str = Field(default="", max_length=400)
