"""Reading one period's rows from the core's store, in one session, for the KPIs and reports.

Tickets and decisions are the period's cohort (created in [since, until)); feedback is every
row about them, whenever it was given, because a verdict on Monday's answer often arrives on
Tuesday. Gaps are all those opened before ``until``; the KPI code sorts them by date.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import or_
from sqlmodel import col, select

from bot.ops.period import Period
from bot.store.models import DecisionRow, FeedbackRow, KnowledgeGapRow, TicketRow
from bot.store.repo import Store


@dataclass
class PeriodData:
    """Everything the KPIs need for one period."""

    period: Period
    tickets: list[TicketRow] = field(default_factory=list)
    decisions: list[DecisionRow] = field(default_factory=list)
    feedback: list[FeedbackRow] = field(default_factory=list)
    gaps: list[KnowledgeGapRow] = field(default_factory=list)


def _in_period(column, period: Period):
    return (col(column) >= period.since, col(column) < period.until)


def load_period(*, store: Store, period: Period) -> PeriodData:
    """The period's tickets, decisions, their feedback and the gaps known by its end."""
    ticket_ids = select(TicketRow.id).where(*_in_period(TicketRow.created_at, period))
    decision_ids = select(DecisionRow.id).where(*_in_period(DecisionRow.created_at, period))
    with store.session() as session:
        tickets = session.exec(select(TicketRow).where(*_in_period(TicketRow.created_at, period)).order_by(col(TicketRow.created_at))).all()
        decisions = session.exec(select(DecisionRow).where(*_in_period(DecisionRow.created_at, period)).order_by(col(DecisionRow.id))).all()
        about = or_(col(FeedbackRow.decision_id).in_(decision_ids), col(FeedbackRow.ticket_id).in_(ticket_ids))
        feedback = session.exec(select(FeedbackRow).where(about).order_by(col(FeedbackRow.id))).all()
        gaps = session.exec(select(KnowledgeGapRow).where(col(KnowledgeGapRow.created_at) < period.until).order_by(col(KnowledgeGapRow.id))).all()
    return PeriodData(period=period, tickets=list(tickets), decisions=list(decisions), feedback=list(feedback), gaps=list(gaps))
