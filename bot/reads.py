"""Read models: what the queue, the dashboard, the audit trail and card look-ups show.

Adapters read through :class:`Reads` and get frozen views, never store rows: a view cannot be
written back by accident, and the tables can change without touching an adapter.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.cards import card_from_ticket
from bot.ops.digest import stats_text
from bot.ops.kpis import Kpis, compute_kpis
from bot.ops.period import Period
from bot.store.repo import OPEN_STATES, Store
from bot.types import HandoffCard, Turn


@dataclass(frozen=True, slots=True)
class TicketView:
    """A ticket as agents see it: its neutral card, lifecycle, SLA times and agents' feedback."""

    id: str
    conversation_id: str
    status: str
    priority: str
    queue: str
    customer: str
    organisation: str | None
    tier: str | None
    summary: str
    reasons: tuple[str, ...]
    suggested_reply: str
    claimed_by: str | None
    claimed_by_name: str | None
    card_channel: str | None  # the queue channel the card is in
    card: HandoffCard
    created_at: datetime
    first_agent_reply_at: datetime | None
    first_response_due: datetime | None
    resolution_due: datetime | None
    resolved_at: datetime | None
    needed_person: bool | None
    card_complete: bool | None
    missing_field: str | None


@dataclass(frozen=True, slots=True)
class DecisionView:
    """One entry of the audit trail."""

    id: int
    conversation_id: str
    created_at: datetime
    input_text: str
    action: str
    reasons: tuple[str, ...]
    category: str | None
    confidence: float
    payload: dict[str, Any]
    rules_version: str
    engine: str
    latency_ms: float
    tokens: int
    feedback: str | None


@dataclass(frozen=True, slots=True)
class GapView:
    """A question the knowledge base could not answer, and how often it came."""

    id: int
    question: str
    count: int
    examples: tuple[str, ...]
    ticket_ids: tuple[str, ...]
    status: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class AgentActionView:
    """Who did what on which ticket, and whether it worked."""

    at: datetime
    actor_id: str
    actor_name: str
    action: str
    ticket_id: str | None
    ok: bool
    detail: str


@dataclass(frozen=True, slots=True)
class ChatView:
    """One conversation as its customer sees it, with the ticket a person works on."""

    conversation_id: str
    customer_name: str | None
    human_active: bool
    ticket: TicketView | None
    history: tuple[Turn, ...]
    decisions: tuple[DecisionView, ...]


def ticket_view(row: Any) -> TicketView:
    return TicketView(
        id=row.id, conversation_id=row.conversation_id, status=row.status, priority=row.priority, queue=row.queue,
        customer=row.customer, organisation=row.organisation, tier=row.tier, summary=row.summary, reasons=tuple(row.reasons or ()),
        suggested_reply=row.suggested_reply or "", claimed_by=row.claimed_by, claimed_by_name=row.claimed_by_name,
        card_channel=(row.card_refs or {}).get("channel"), card=card_from_ticket(ticket=row), created_at=row.created_at,
        first_agent_reply_at=row.first_agent_reply_at, first_response_due=row.first_response_due, resolution_due=row.resolution_due,
        resolved_at=row.resolved_at, needed_person=row.needed_person, card_complete=row.card_complete, missing_field=row.missing_field,
    )


def decision_view(row: Any) -> DecisionView:
    return DecisionView(
        id=row.id, conversation_id=row.conversation_id, created_at=row.created_at, input_text=row.input_text, action=row.action,
        reasons=tuple(row.reasons or ()), category=row.category, confidence=row.confidence, payload=dict(row.payload or {}),
        rules_version=row.rules_version, engine=row.engine, latency_ms=row.latency_ms, tokens=row.tokens, feedback=row.feedback,
    )


def gap_view(row: Any) -> GapView:
    return GapView(id=row.id, question=row.question, count=row.count, examples=tuple(row.examples or ()), ticket_ids=tuple(row.ticket_ids or ()), status=row.status, created_at=row.created_at)


def agent_action_view(row: Any) -> AgentActionView:
    return AgentActionView(at=row.at, actor_id=row.actor_id, actor_name=row.actor_name, action=row.action, ticket_id=row.ticket_id, ok=row.ok, detail=row.detail)


def _card_on(row: Any, platform: str | None) -> bool:
    return platform is None or (row.card_refs or {}).get("platform", platform) == platform


class Reads:
    """The read side adapters use: queue, dashboard, audit, card look-ups, KPIs."""

    def __init__(self, *, store: Store) -> None:
        self._store = store

    def ticket(self, *, ticket_id: str) -> TicketView | None:
        row = self._store.ticket(ticket_id=ticket_id)
        return ticket_view(row) if row is not None else None

    def ticket_of_card(self, *, platform: str, message_id: str | None) -> TicketView | None:
        """The ticket whose handoff card is this platform message (None: no card of ours)."""
        row = self._store.ticket_by_card(platform=platform, message_id=message_id) if message_id else None
        return ticket_view(row) if row is not None else None

    def open_tickets(self, *, platform: str | None = None) -> list[TicketView]:
        """Unresolved tickets, oldest first; with ``platform``, only those whose card is there
        (a ticket whose card is posted nowhere counts as that platform's)."""
        return [ticket_view(row) for row in self._store.tickets(statuses=OPEN_STATES) if _card_on(row, platform)]

    def latest_resolved(self, *, limit: int, platform: str | None = None) -> list[TicketView]:
        """The ``limit`` most recently created resolved tickets, oldest first (filtered like
        :meth:`open_tickets`); only those are turned into views, however long the history."""
        rows = [row for row in self._store.tickets(statuses=("resolved",)) if _card_on(row, platform)]
        return [ticket_view(row) for row in rows[-limit:]] if limit > 0 else []

    def resolved_count(self) -> int:
        return len(self._store.tickets(statuses=("resolved",)))

    def decisions(self, *, conversation_id: str | None = None) -> list[DecisionView]:
        return [decision_view(row) for row in self._store.decisions(conversation_id=conversation_id)]

    def open_gaps(self) -> list[GapView]:
        return [gap_view(row) for row in self._store.gaps(status="open")]

    def agent_actions(self, *, ticket_id: str | None = None) -> list[AgentActionView]:
        return [agent_action_view(row) for row in self._store.agent_actions(ticket_id=ticket_id)]

    def customer_name(self, *, conversation_id: str) -> str | None:
        row = self._store.conversation(conversation_id=conversation_id)
        return row.customer_name if row is not None else None

    def chat(self, *, conversation_id: str, history_limit: int) -> ChatView:
        row = self._store.conversation(conversation_id=conversation_id)
        ticket = self._store.active_ticket(conversation_id=conversation_id)
        return ChatView(
            conversation_id=conversation_id, customer_name=row.customer_name if row else None, human_active=bool(row and row.human_active),
            ticket=ticket_view(ticket) if ticket is not None else None,
            history=tuple(self._store.history(conversation_id=conversation_id, limit=history_limit)),
            decisions=tuple(self.decisions(conversation_id=conversation_id)),
        )

    def kpis(self, *, period: Period) -> Kpis:
        """The five KPIs of a period."""
        return compute_kpis(store=self._store, period=period)

    def stats_text(self, *, since: str, config: Any = None) -> str:
        """The `/baton stats` reply for a period (raises ValueError for a bad period)."""
        return stats_text(store=self._store, since=since, config=config)
