"""KPI 4: resolution time after handoff, with time to claim, first reply and the first-response SLA.

Times are in minutes, counted from the handoff (the ticket's creation). Percentiles are
linearly interpolated; an empty list gives ``None``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Callable

from bot.ops.period import Period, aware, minutes_between, percentile, ratio
from bot.store.models import TicketRow


@dataclass(frozen=True, slots=True)
class Spread:
    """How many durations, their median and p90 (minutes)."""

    n: int
    median: float | None
    p90: float | None


def spread(values: list[float]) -> Spread:
    return Spread(len(values), percentile(values, 50), percentile(values, 90))


@dataclass
class ResolutionTimes:
    handoffs: int
    resolved: int
    unresolved: int
    resolution: Spread
    to_claim: Spread
    to_first_reply: Spread
    first_response_met: int
    first_response_judged: int
    first_response_rate: float | None
    by_queue: dict[str, Spread] = field(default_factory=dict)
    by_category: dict[str, Spread] = field(default_factory=dict)


def _durations(tickets: list[TicketRow], end: Callable[[TicketRow], object]) -> list[float]:
    values = (minutes_between(t.created_at, end(t)) for t in tickets)
    return [v for v in values if v is not None]


def first_response_verdict(ticket: TicketRow, *, until) -> bool | None:
    """Met (replied by the due time), missed (replied late or still silent past due), or None (pending)."""
    due, reply = aware(ticket.first_response_due), aware(ticket.first_agent_reply_at)
    if due is None:
        return None
    if reply is not None:
        return reply <= due
    return False if due < until else None


def _grouped(tickets: list[TicketRow], key: Callable[[TicketRow], str]) -> dict[str, Spread]:
    groups: dict[str, list[TicketRow]] = defaultdict(list)
    for ticket in tickets:
        groups[key(ticket)].append(ticket)
    return {name: spread(_durations(group, lambda t: t.resolved_at)) for name, group in sorted(groups.items())}


def resolution_times(*, tickets: list[TicketRow], period: Period) -> ResolutionTimes:
    """Handoff to resolution, to claim and to first agent reply, for the period's handoffs."""
    resolved = [t for t in tickets if t.resolved_at is not None]
    verdicts = [first_response_verdict(t, until=period.until) for t in tickets]
    judged = [v for v in verdicts if v is not None]
    return ResolutionTimes(
        handoffs=len(tickets), resolved=len(resolved), unresolved=len(tickets) - len(resolved),
        resolution=spread(_durations(resolved, lambda t: t.resolved_at)),
        to_claim=spread(_durations(tickets, lambda t: t.claimed_at)),
        to_first_reply=spread(_durations(tickets, lambda t: t.first_agent_reply_at)),
        first_response_met=sum(judged), first_response_judged=len(judged), first_response_rate=ratio(sum(judged), len(judged)),
        by_queue=_grouped(resolved, lambda t: t.queue),
        by_category=_grouped(resolved, lambda t: t.category or "(none)"),
    )
