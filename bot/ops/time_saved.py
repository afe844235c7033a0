"""Human time saved: an estimate, always shown together with the assumptions behind it.

Two sources, each against a baseline the team sets in ``operations.time_saved``:

* conversations the bot resolved without a person (answered, never handed off, no
  missed-escalation signal on any answer) save ``handle_minutes`` each;
* handoffs save triage: without a card an agent needs ``triage_minutes`` from picking a case up
  to the first reply (reading the thread, identifying the customer, finding the article); with
  the card we measure claim (or handoff, when nobody claimed) to first reply, and count the
  difference when it is positive.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from bot.ops.config import TimeSavedBaseline
from bot.ops.data import PeriodData
from bot.ops.kpis import answer_signals
from bot.ops.period import minutes_between, percentile


@dataclass
class TimeSaved:
    conversations_without_person: int
    answer_minutes: float
    handoffs_measured: int
    triage_minutes: float
    median_minutes_to_reply_after_claim: float | None
    total_hours: float
    assumptions: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def conversations_without_person(*, data: PeriodData) -> int:
    """Conversations with a clean answer and no handoff in the period."""
    signals = answer_signals(decisions=data.decisions, feedback=data.feedback)
    handed_off = {t.conversation_id for t in data.tickets} | {d.conversation_id for d in data.decisions if d.action == "escalate"}
    flagged = {d.conversation_id for d in data.decisions if signals.get(d.id)}
    answered = {d.conversation_id for d in data.decisions if d.action == "answer"}
    return len(answered - handed_off - flagged)


def reply_minutes_after_pickup(*, data: PeriodData) -> list[float]:
    """Minutes from claim (or handoff) to the first agent reply, for handoffs that got one."""
    values = (minutes_between(t.claimed_at or t.created_at, t.first_agent_reply_at) for t in data.tickets)
    return [max(0.0, v) for v in values if v is not None]


def assumptions(*, baseline: TimeSavedBaseline) -> list[str]:
    return [
        f"A conversation answered without a person saves {baseline.handle_minutes:g} min of an agent's handling time.",
        "Answers later flagged (not helpful, talk to a person, reviewer's 'should have been escalated') save nothing.",
        f"Without a card, an agent needs {baseline.triage_minutes:g} min from picking a case up to the first reply; "
        "the card saves the difference to the measured time (never less than zero).",
        "Time agents spend after the first reply is not counted either way.",
    ]


def time_saved(*, data: PeriodData, baseline: TimeSavedBaseline) -> TimeSaved:
    """The estimate for a period, with its assumptions."""
    without = conversations_without_person(data=data)
    measured = reply_minutes_after_pickup(data=data)
    triage = sum(max(0.0, baseline.triage_minutes - m) for m in measured)
    answers = without * baseline.handle_minutes
    return TimeSaved(without, answers, len(measured), triage, percentile(measured, 50), (answers + triage) / 60, assumptions(baseline=baseline))
