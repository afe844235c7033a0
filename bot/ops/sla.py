"""SLA timers: a reminder before each breach, an alert at breach, then the escalation ladder.

Each open ticket gets its timers planned once from its stored due times (``first_response_due``
and ``resolution_due``, which the rules' SLA per priority set): a reminder at ``remind_at`` of
the window, a breach alert at the due time, and one step per rung of the ladder after it. They
live in the ``sla_timers`` table, so they survive restarts, and every one fires exactly once even
when several bot processes share the database (see ``bot.ops.timers``). Alerts go into the
card's thread and mention whoever should act: the claimer or the queue's on-call for reminders
and breaches, the rung's ``notify`` for escalations.

The server calls ``SlaScheduler.tick`` every ~30 s; tests pass the time explicitly.
"""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable

from bot.durations import parse_duration
from bot.ops.config import OpsConfig, SlaAlerts, ops_config, remind_share
from bot.ops.models import SlaTimerRow
from bot.ops.period import aware
from bot.ops.timers import (
    claim_timer, due_timers, finish_timer, insert_ignoring_duplicates, release_timer, unscheduled_tickets,
)
from bot.outbox import OutboxRouter
from bot.store.models import TicketRow
from bot.store.repo import Store
from bot.types import utcnow

log = logging.getLogger(__name__)
CLOCKS = {"first_response": "first response", "resolution": "resolution"}


@dataclass(frozen=True, slots=True)
class TimerPlan:
    """One timer of one ticket: '<clock>.<stage>' (reminder, breach, escalation) and its step."""

    kind: str
    step: int
    due_at: datetime
    notify: str | None = None


def reminder_time(*, start: datetime, due: datetime, remind_at: str | float) -> datetime:
    """When to remind: a share of the window ('80%') or a lead time before due ('30m')."""
    if isinstance(remind_at, float) or str(remind_at).strip().endswith("%"):
        return start + (due - start) * remind_share(remind_at)
    return max(start, due - timedelta(minutes=parse_duration(remind_at)))


def plan_timers(*, ticket: TicketRow, alerts: SlaAlerts) -> list[TimerPlan]:
    """Every timer a ticket needs, from its stored due times and the escalation ladder."""
    plans, start = [], aware(ticket.created_at)
    for clock, due in (("first_response", ticket.first_response_due), ("resolution", ticket.resolution_due)):
        due = aware(due)
        if due is None:
            continue
        plans.append(TimerPlan(f"{clock}.reminder", 0, reminder_time(start=start, due=due, remind_at=alerts.remind_at)))
        plans.append(TimerPlan(f"{clock}.breach", 0, due))
        for step, rung in enumerate(alerts.ladder(queue=ticket.queue), 1):
            plans.append(TimerPlan(f"{clock}.escalation", step, due + timedelta(minutes=rung.after), rung.notify))
    return plans


def _timer_row(*, ticket_id: str, plan: TimerPlan, now: datetime) -> dict[str, Any]:
    return {"ticket_id": ticket_id, "kind": plan.kind, "step": plan.step, "due_at": plan.due_at, "notify": plan.notify,
            "status": "pending", "attempts": 0, "text": "", "created_at": now}


# --- what to say -------------------------------------------------------------------------------


def mention(*, who: str | None, platform: str) -> str | None:
    """A mention in the platform's syntax; values already written as mentions are kept as they are."""
    if not who:
        return None
    if who.startswith(("<", "@")):
        return who
    return f"<@{who}>" if platform == "slack" else f"@{who}"


def _state(ticket: TicketRow) -> str:
    if ticket.claimed_by:
        owner = ticket.claimed_by_name or ticket.claimed_by
        return f"claimed by {owner}" + ("" if ticket.first_agent_reply_at else ", no reply to the customer yet")
    return "nobody has claimed it"


def _minutes_text(delta: timedelta) -> str:
    minutes = max(0, round(abs(delta.total_seconds()) / 60))
    return f"{minutes} min" if minutes < 120 else f"{minutes / 60:.1f} h"


def alert_text(*, kind: str, step: int, ticket: TicketRow, due: datetime, now: datetime, who: list[str]) -> str:
    """The message posted in the card's thread for one timer."""
    clock, stage = kind.split(".")
    what = f"{CLOCKS[clock]} for {ticket.id} ({ticket.priority}, queue {ticket.queue})"
    prefix = " ".join(who) + ": " if who else ""
    if stage == "reminder":
        return f"{prefix}SLA reminder: {what} is due at {due:%H:%M} UTC, in {_minutes_text(due - now)}; {_state(ticket)}."
    if stage == "breach":
        return f"{prefix}SLA breached: {what} was due at {due:%H:%M} UTC; {_state(ticket)}."
    return f"{prefix}SLA escalation step {step}: {what} is {_minutes_text(now - due)} past its SLA; {_state(ticket)}."


def skip_reason(*, kind: str, ticket: TicketRow | None, now: datetime, due_at: datetime | None = None, stale_after: timedelta = timedelta(hours=24)) -> str | None:
    """Why a due timer should not be posted any more (None: post it); 'expired' avoids a flood after a long outage."""
    if ticket is None or ticket.status == "resolved":
        return "cancelled"
    if due_at is not None and now - aware(due_at) > stale_after:
        return "expired"
    clock, stage = kind.split(".")
    if clock == "first_response" and ticket.first_agent_reply_at is not None:
        return "cancelled"
    due = aware(ticket.first_response_due if clock == "first_response" else ticket.resolution_due)
    if stage == "reminder" and due is not None and now >= due:
        return "superseded"
    return None


# --- the scheduler -------------------------------------------------------------------------------


class SlaScheduler:
    """Plans, claims and fires SLA timers; safe to run in every process sharing the database."""

    def __init__(self, *, store: Store, rules: Any, outboxes: OutboxRouter, config: OpsConfig | None = None,
                 clock: Callable[[], datetime] = utcnow, worker: str | None = None, lease: timedelta = timedelta(minutes=5),
                 stale_after: timedelta = timedelta(hours=24)) -> None:
        self.store = store
        self.rules = rules
        self.outboxes = outboxes
        self.alerts = (config or ops_config(rules=rules)).sla
        self.clock = clock
        self.worker = worker or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self.lease = lease
        self.stale_after = stale_after

    async def tick(self, now: datetime | None = None) -> list[SlaTimerRow]:
        """Schedule new tickets' timers, then fire every due timer this process wins."""
        now = aware(now or self.clock())
        self.schedule(now=now)
        fired = []
        for timer in due_timers(store=self.store, now=now, lease=self.lease):
            if claim_timer(store=self.store, timer_id=timer.id, worker=self.worker, now=now, lease=self.lease):
                fired.append(await self._fire(timer, now=now))
        return [t for t in fired if t is not None]

    def schedule(self, *, now: datetime) -> int:
        """Store the timers of open tickets that have none yet; duplicates are ignored."""
        rows = [_timer_row(ticket_id=t.id, plan=p, now=now) for t in unscheduled_tickets(store=self.store) for p in plan_timers(ticket=t, alerts=self.alerts)]
        insert_ignoring_duplicates(store=self.store, model=SlaTimerRow, rows=rows)
        return len(rows)

    async def _fire(self, timer: SlaTimerRow, *, now: datetime) -> SlaTimerRow | None:
        ticket = self.store.ticket(ticket_id=timer.ticket_id)
        skip = skip_reason(kind=timer.kind, ticket=ticket, now=now, due_at=timer.due_at, stale_after=self.stale_after)
        if skip is not None:
            finish_timer(store=self.store, timer_id=timer.id, worker=self.worker, status=skip, now=now)
            return None
        text = self.text_for(timer=timer, ticket=ticket, now=now)
        try:
            posted = await self._post(ticket=ticket, text=text)
        except Exception:
            log.exception("SLA alert for %s failed; will retry", ticket.id)
            release_timer(store=self.store, timer_id=timer.id, worker=self.worker, attempts=timer.attempts + 1)
            return None
        finish_timer(store=self.store, timer_id=timer.id, worker=self.worker, status="sent" if posted else "no_card", now=now, text=text)
        timer.status, timer.text, timer.fired_at = ("sent" if posted else "no_card"), text, now
        return timer

    def text_for(self, *, timer: SlaTimerRow, ticket: TicketRow, now: datetime) -> str:
        """The alert, mentioning the rung's contact, else the claimer and/or the queue's on-call."""
        platform = (ticket.card_refs or {}).get("platform", "")
        queue = self.rules.queues.get(ticket.queue) if hasattr(self.rules, "queues") else None
        on_call = mention(who=getattr(queue, "on_call", None), platform=platform)
        owner = mention(who=ticket.claimed_by, platform=platform)
        stage = timer.kind.split(".")[1]
        who = {"reminder": [owner or on_call], "breach": [owner, on_call]}.get(stage, [mention(who=timer.notify, platform=platform), on_call])
        due = aware(ticket.first_response_due if timer.kind.startswith("first_response") else ticket.resolution_due)
        return alert_text(kind=timer.kind, step=timer.step, ticket=ticket, due=due, now=now, who=list(dict.fromkeys(w for w in who if w)))

    async def _post(self, *, ticket: TicketRow, text: str) -> bool:
        """Post in the card's thread; False when the ticket never got a card (store-only queue)."""
        if not ticket.card_refs:
            log.warning("SLA alert for %s has no card to post to: %s", ticket.id, text)
            return False
        outbox = self.outboxes.for_platform(ticket.card_refs["platform"])
        await outbox.post_in_card_thread(card_ref=ticket.card_refs, text=text)
        return True


def replan_ticket(*, store: Store, rules: Any, ticket: TicketRow, now: datetime) -> int:
    """After a re-triage moved a ticket's due times: drop its pending timers and plan them again
    (a timer that already fired stays, and the uniqueness keeps it from being planned twice)."""
    from sqlmodel import delete

    with store.session() as session:
        session.exec(delete(SlaTimerRow).where(SlaTimerRow.ticket_id == ticket.id, SlaTimerRow.status == "pending"))
        session.commit()
    rows = [_timer_row(ticket_id=ticket.id, plan=p, now=now) for p in plan_timers(ticket=ticket, alerts=ops_config(rules=rules).sla)]
    insert_ignoring_duplicates(store=store, model=SlaTimerRow, rows=rows)
    return len(rows)
