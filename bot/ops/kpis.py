"""The five KPIs of running support with Baton, for any period, by category, queue and reason.

1. Escalation precision: handoffs that needed a person (agents' one-click feedback) over
   handoffs with that feedback.
2. Missed-escalation rate: answers later flagged (customer "not helpful", "talk to a person",
   a request for a person right after an answer, or a reviewer's "should have been escalated")
   over all answers, and reviewers' verdicts over reviewed answers.
3. Handoff completeness: the seven card fields checked automatically, plus agents' ratings.
4. Resolution time after handoff: median and p90, with time to claim and to first reply.
5. Knowledge-gap closure: gaps opened, closed, still open and time to close.

Every function here is pure over rows (see ``data.load_period``), so the arithmetic is tested
on hand-made fixtures; an empty period gives zeros and ``None`` rates, never an error.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import timedelta
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Iterable, TypeVar

from bot.cards import card_from_ticket, missing_fields
from bot.ops.data import PeriodData, load_period
from bot.ops.period import Period, aware, minutes_between, percentile, ratio
from bot.ops.timing import ResolutionTimes, resolution_times
from bot.store.models import DecisionRow, FeedbackRow, TicketRow
from bot.store.repo import Store

T = TypeVar("T")
NO_CATEGORY = "(none)"
NO_REASON = "(automation level)"
CUSTOMER_FLAGS = ("not_helpful", "talk_to_person")
REVIEW_KINDS = ("review_should_escalate", "review_fine")
ASKED_AFTER = "asked_for_person_after_answer"
MISSED_METHOD = (
    "An answer counts as a missed escalation when a customer clicked 'Not helpful' or 'Talk to a person' "
    "on it, asked for a person in their next message, or a reviewer marked it 'should have been escalated'. "
    "The rate over all answers is a lower bound (most answers get no feedback); the rate over reviewed "
    "answers comes from the weekly random sample and estimates the true rate."
)


@dataclass(frozen=True, slots=True)
class Rate:
    """hits out of total, and their ratio (None when total is 0)."""

    hits: int
    total: int
    value: float | None


def rate(hits: int, total: int) -> Rate:
    return Rate(hits, total, ratio(hits, total))


def breakdown(items: Iterable[T], *, keys: Callable[[T], list[str]], verdict: Callable[[T], bool | None]) -> dict[str, Rate]:
    """A Rate per key; items whose verdict is None (not rated) are left out."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for item in items:
        outcome = verdict(item)
        if outcome is None:
            continue
        for key in keys(item):
            counts[key][0] += int(bool(outcome))
            counts[key][1] += 1
    return {key: rate(hits, total) for key, (hits, total) in sorted(counts.items())}


def ticket_keys(dimension: str) -> Callable[[TicketRow], list[str]]:
    """The breakdown key(s) of a ticket: its category, its queue, or each of its reasons."""
    if dimension == "category":
        return lambda t: [t.category or NO_CATEGORY]
    if dimension == "queue":
        return lambda t: [t.queue]
    return lambda t: list(dict.fromkeys(t.reasons)) or [NO_REASON]


def ticket_breakdowns(tickets: list[TicketRow], verdict: Callable[[TicketRow], bool | None]) -> dict[str, dict[str, Rate]]:
    return {dim: breakdown(tickets, keys=ticket_keys(dim), verdict=verdict) for dim in ("category", "queue", "reason")}


# --- 1. escalation precision ------------------------------------------------------------------


@dataclass
class EscalationPrecision:
    escalations: int
    rated: int
    needed: int
    precision: float | None
    feedback_coverage: float | None
    breakdown: dict[str, dict[str, Rate]] = field(default_factory=dict)


def escalation_precision(*, tickets: list[TicketRow]) -> EscalationPrecision:
    """Needed a person / handoffs an agent rated (ticket.needed_person is the latest verdict)."""
    rated = [t for t in tickets if t.needed_person is not None]
    needed = sum(1 for t in rated if t.needed_person)
    by = ticket_breakdowns(tickets, lambda t: t.needed_person)
    return EscalationPrecision(len(tickets), len(rated), needed, ratio(needed, len(rated)), ratio(len(rated), len(tickets)), by)


# --- 2. missed escalations -------------------------------------------------------------------


@dataclass
class MissedEscalations:
    answers: int
    flagged: int
    rate: float | None
    reviewed: int
    review_flagged: int
    review_rate: float | None
    signals: dict[str, int]
    breakdown: dict[str, dict[str, Rate]]
    method: str = MISSED_METHOD


def answer_signals(*, decisions: list[DecisionRow], feedback: list[FeedbackRow]) -> dict[int, set[str]]:
    """Each answer's missed-escalation signals (the latest review verdict replaces earlier ones)."""
    answers = {d.id for d in decisions if d.action == "answer"}
    signals: dict[int, set[str]] = {i: set() for i in answers}
    for row in feedback:
        if row.decision_id in answers and row.kind in CUSTOMER_FLAGS:
            signals[row.decision_id].add(row.kind)
    for decision_id, verdict in review_verdicts(feedback=feedback).items():
        if decision_id in answers and verdict == "review_should_escalate":
            signals[decision_id].add(verdict)
    for decision_id in asked_for_person_after(decisions=decisions):
        signals[decision_id].add(ASKED_AFTER)
    return signals


def review_verdicts(*, feedback: list[FeedbackRow]) -> dict[int, str]:
    """The latest reviewer verdict per decision."""
    latest: dict[int, str] = {}
    for row in sorted(feedback, key=lambda r: (r.at, r.id or 0)):
        if row.kind in REVIEW_KINDS and row.decision_id is not None:
            latest[row.decision_id] = row.kind
    return latest


def asked_for_person_after(*, decisions: list[DecisionRow]) -> set[int]:
    """Answers whose conversation's next decision escalated because the customer asked for a person."""
    flagged, last_answer = set(), {}
    for decision in sorted(decisions, key=lambda d: d.id or 0):
        previous = last_answer.pop(decision.conversation_id, None)
        if decision.action == "answer":
            last_answer[decision.conversation_id] = decision.id
        elif previous is not None and "human_requested" in decision.reasons:
            flagged.add(previous)
    return flagged


def missed_escalations(*, decisions: list[DecisionRow], feedback: list[FeedbackRow]) -> MissedEscalations:
    signals = answer_signals(decisions=decisions, feedback=feedback)
    flagged = sum(1 for s in signals.values() if s)
    verdicts = {i: v for i, v in review_verdicts(feedback=feedback).items() if i in signals}
    review_flagged = sum(1 for v in verdicts.values() if v == "review_should_escalate")
    counts = Counter(kind for kinds in signals.values() for kind in kinds)
    answers = [d for d in decisions if d.id in signals]
    keys = {"category": lambda d: [d.category or NO_CATEGORY], "queue": lambda d: [str(d.payload.get("queue") or NO_CATEGORY)]}
    by = {dim: breakdown(answers, keys=key, verdict=lambda d: bool(signals[d.id])) for dim, key in keys.items()}
    return MissedEscalations(len(signals), flagged, ratio(flagged, len(signals)), len(verdicts), review_flagged, ratio(review_flagged, len(verdicts)), dict(sorted(counts.items())), by)


# --- 3. handoff completeness -----------------------------------------------------------------


@dataclass
class HandoffCompleteness:
    handoffs: int
    complete: int
    auto_rate: float | None
    missing_fields: dict[str, int]
    rated: int
    rated_complete: int
    agent_rate: float | None
    agent_missing: dict[str, int]
    breakdown: dict[str, dict[str, Rate]]


def handoff_completeness(*, tickets: list[TicketRow]) -> HandoffCompleteness:
    """The seven fields checked on each ticket's card, and agents' 'card had what I needed'."""
    missing = {t.id: missing_fields(card_from_ticket(ticket=t)) for t in tickets}
    complete = sum(1 for fields in missing.values() if not fields)
    field_counts = Counter(name for fields in missing.values() for name in fields)
    rated = [t for t in tickets if t.card_complete is not None]
    rated_ok = sum(1 for t in rated if t.card_complete)
    agent_missing = Counter(t.missing_field or "(not said)" for t in rated if not t.card_complete)
    by = ticket_breakdowns(tickets, lambda t: not missing[t.id])
    return HandoffCompleteness(len(tickets), complete, ratio(complete, len(tickets)), dict(field_counts), len(rated), rated_ok, ratio(rated_ok, len(rated)), dict(agent_missing), by)


# --- 5. knowledge-gap closure ----------------------------------------------------------------


@dataclass
class GapClosure:
    opened: int
    closed: int
    open_at_end: int
    closure_rate: float | None
    median_hours_to_close: float | None
    closed_by_doc: dict[str, int]
    top_open: list[dict[str, Any]]


def gap_closure(*, gaps: list, period: Period) -> GapClosure:
    """Gaps opened and closed in the period, how long closing took, and which stay open."""
    opened = [g for g in gaps if period.contains(g.created_at)]
    closed = [g for g in gaps if g.status == "closed" and period.contains(g.closed_at)]
    still_open = [g for g in gaps if not _closed_by(g, period)]
    opened_closed = sum(1 for g in opened if _closed_by(g, period))
    hours = [minutes_between(g.created_at, g.closed_at) / 60 for g in closed]
    top = [{"id": g.id, "question": g.question, "count": g.count} for g in sorted(still_open, key=lambda g: (-g.count, g.id))[:5]]
    docs = Counter(g.closed_by_doc or "(unknown)" for g in closed)
    return GapClosure(len(opened), len(closed), len(still_open), ratio(opened_closed, len(opened)), percentile(hours, 50), dict(docs), top)


def _closed_by(gap: Any, period: Period) -> bool:
    return gap.status == "closed" and gap.closed_at is not None and aware(gap.closed_at) < period.until


# --- all five ----------------------------------------------------------------------------------


@dataclass
class Kpis:
    since: str
    until: str
    conversations: int
    answers: int
    escalations: int
    precision: EscalationPrecision
    missed: MissedEscalations
    completeness: HandoffCompleteness
    resolution: ResolutionTimes
    gaps: GapClosure
    daily: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def daily_volume(*, decisions: list[DecisionRow], period: Period) -> list[dict[str, Any]]:
    """Answers and escalations per UTC day of the period (days without decisions included)."""
    counts = Counter((aware(d.created_at).date(), d.action) for d in decisions)
    day, days = period.since.date(), []
    while day <= (period.until - timedelta(microseconds=1)).date() and len(days) < 366:
        days.append({"day": day.isoformat(), "answers": counts[(day, "answer")], "escalations": counts[(day, "escalate")]})
        day += timedelta(days=1)
    return days


def kpis_from(data: PeriodData) -> Kpis:
    """The five KPIs of already-loaded rows."""
    decisions, tickets, period = data.decisions, data.tickets, data.period
    return Kpis(
        since=period.since.isoformat(), until=period.until.isoformat(),
        conversations=len({d.conversation_id for d in decisions}),
        answers=sum(1 for d in decisions if d.action == "answer"),
        escalations=sum(1 for d in decisions if d.action == "escalate"),
        precision=escalation_precision(tickets=tickets),
        missed=missed_escalations(decisions=decisions, feedback=data.feedback),
        completeness=handoff_completeness(tickets=tickets),
        resolution=resolution_times(tickets=tickets, period=period),
        gaps=gap_closure(gaps=data.gaps, period=period),
        daily=daily_volume(decisions=decisions, period=period),
    )


def compute_kpis(*, store: Store, period: Period) -> Kpis:
    """The five KPIs for a period, read from the store."""
    return kpis_from(load_period(store=store, period=period))
