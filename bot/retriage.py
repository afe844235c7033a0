"""Re-triage: a customer's follow-up while a ticket is open can make the case more serious.

The engine decides on the follow-up (with the whole conversation as history); :func:`merge`
folds that verdict into the open ticket. New reasons are added with their evidence, the
priority only goes up, the SLA due times only come closer, and an unclaimed ticket moves to the
queue the follow-up belongs to when that queue is more urgent. Nothing here does I/O: the desk
stores the result, updates the card in place and replans the SLA timers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from bot.rules import PRIORITIES, Rules
from bot.store.models import TicketRow
from bot.types import Decision, Reason


# Reasons a follow-up can add. Low confidence and "wants a person" say nothing new about a case
# that is already with people ("any news?" is always low confidence).
SERIOUS_REASONS = frozenset({Reason.POLICY_RISK.value, Reason.HIGH_VALUE.value, Reason.EMOTIONAL.value})


@dataclass(frozen=True, slots=True)
class Retriage:
    """What a follow-up changes on a ticket; ``changes`` is empty when nothing does."""

    values: dict = field(default_factory=dict)   # TicketRow fields to set
    new_reasons: tuple[str, ...] = ()
    old_priority: str = ""
    old_queue: str = ""

    @property
    def changed(self) -> bool:
        return bool(self.new_reasons) or "priority" in self.values or "queue" in self.values

    def describe(self) -> str:
        """One line for the card's thread: what the follow-up changed."""
        parts = []
        if self.new_reasons:
            parts.append("new reason" + ("s" if len(self.new_reasons) > 1 else "") + ": " + ", ".join(r.replace("_", " ") for r in self.new_reasons))
        if "priority" in self.values:
            parts.append(f"priority {self.old_priority} → {self.values['priority']}")
        if "queue" in self.values:
            parts.append(f"queue {self.old_queue} → {self.values['queue']}")
        return "Re-triaged on the customer's follow-up: " + "; ".join(parts) + "."


def _rank(priority: str) -> int:
    """0 is the most urgent; an unknown label counts as normal."""
    return PRIORITIES.index(priority) if priority in PRIORITIES else PRIORITIES.index("normal")


def merge(*, ticket: TicketRow, decision: Decision, rules: Rules) -> Retriage:
    """The ticket fields a follow-up's decision changes (only ever more serious, never less)."""
    if not decision.escalated:
        return Retriage()
    triggers = [t for t in decision.to_dict()["triggers"] if t["reason"] in SERIOUS_REASONS]
    new_reasons = tuple(dict.fromkeys(t["reason"] for t in triggers if t["reason"] not in ticket.reasons))
    values: dict = {}
    if new_reasons:
        values.update(reasons=[*ticket.reasons, *new_reasons], triggers=[*ticket.triggers, *(t for t in triggers if t["reason"] in new_reasons)])
        values.update(_card_text(decision))
    more_urgent = _rank(decision.priority) < _rank(ticket.priority)
    if more_urgent:
        values["priority"] = decision.priority
        values.update(_closer_due_times(ticket=ticket, decision=decision, rules=rules))
    if decision.queue != ticket.queue and ticket.claimed_by is None and (more_urgent or new_reasons) and decision.queue in rules.queues:
        values["queue"] = decision.queue
    return Retriage(values=values, new_reasons=new_reasons, old_priority=ticket.priority, old_queue=ticket.queue)


def _card_text(decision: Decision) -> dict:
    """The follow-up's summary, intent and recommendation replace the card's (they cover the whole thread)."""
    fields = {"summary": decision.summary, "intent": decision.intent, "suggested_reply": decision.suggested_reply, "internal_action": decision.internal_action}
    return {name: value for name, value in fields.items() if value}


def _closer_due_times(*, ticket: TicketRow, decision: Decision, rules: Rules) -> dict:
    """Due times of the new priority counted from when the ticket opened, if they come sooner."""
    sla, start = rules.sla_for(decision.priority), _aware(ticket.created_at)
    first = start + timedelta(minutes=decision.sla_first_response_minutes or sla.first_response)
    resolution = start + timedelta(minutes=decision.sla_resolution_minutes or sla.resolution)
    values = {}
    if ticket.first_agent_reply_at is None and (ticket.first_response_due is None or _aware(first) < _aware(ticket.first_response_due)):
        values["first_response_due"] = first
    if ticket.resolution_due is None or _aware(resolution) < _aware(ticket.resolution_due):
        values["resolution_due"] = resolution
    return values


def _aware(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; the store writes UTC."""
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
