"""The SLA timer table's operations: schedule once, claim once, finish once.

Scheduling is ``INSERT ... ON CONFLICT DO NOTHING`` on the (ticket, kind, step) uniqueness, so
several processes can schedule the same ticket and only one row exists. Firing claims a row with
one conditional UPDATE (``WHERE status = 'pending'``) checked by rowcount: exactly one process
wins, on SQLite and PostgreSQL alike. A claim left behind by a crashed process is taken over
after a lease, so a timer is never lost; each write is its own short transaction (on SQLite a
transaction that writes first never hits a stale WAL snapshot).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from bot.ops.models import SlaTimerRow
from bot.store.models import TicketRow
from bot.store.repo import OPEN_STATES, Store

MAX_ATTEMPTS = 3


INSERT_BATCH = 200  # rows per INSERT: a backlog of thousands of timers stays under SQLite's variable limit


def insert_ignoring_duplicates(*, store: Store, model: Any, rows: list[dict]) -> None:
    """Insert rows, silently skipping those that collide with a unique constraint."""
    if not rows:
        return
    dialect = store.engine.dialect.name
    if dialect in ("sqlite", "postgresql"):
        module = __import__(f"sqlalchemy.dialects.{dialect}", fromlist=["insert"])
        with store.session() as session:
            for start in range(0, len(rows), INSERT_BATCH):  # SQLite caps the variables of one statement
                session.exec(module.insert(model.__table__).values(rows[start:start + INSERT_BATCH]).on_conflict_do_nothing())
            session.commit()
        return
    for row in rows:  # other databases: one row at a time
        with store.session() as session:
            try:
                session.add(model(**row))
                session.commit()
            except IntegrityError:
                session.rollback()


def unscheduled_tickets(*, store: Store) -> list[TicketRow]:
    """Open tickets that have no timers yet (new since the last tick, or from before an upgrade)."""
    scheduled = select(SlaTimerRow.ticket_id).distinct()
    query = select(TicketRow).where(col(TicketRow.status).in_(OPEN_STATES), col(TicketRow.id).not_in(scheduled))
    with store.session() as session:
        return list(session.exec(query.order_by(col(TicketRow.created_at))))


def _claimable(*, now: datetime, lease: timedelta):
    pending = and_(col(SlaTimerRow.status) == "pending", col(SlaTimerRow.due_at) <= now)
    abandoned = and_(col(SlaTimerRow.status) == "firing", col(SlaTimerRow.claimed_at) < now - lease)
    return or_(pending, abandoned)


def due_timers(*, store: Store, now: datetime, lease: timedelta, limit: int = 200) -> list[SlaTimerRow]:
    """Timers whose time has come (or whose claimer vanished), oldest first."""
    query = select(SlaTimerRow).where(_claimable(now=now, lease=lease)).order_by(col(SlaTimerRow.due_at), col(SlaTimerRow.id)).limit(limit)
    with store.session() as session:
        return list(session.exec(query))


def claim_timer(*, store: Store, timer_id: int, worker: str, now: datetime, lease: timedelta) -> bool:
    """One conditional UPDATE; True for exactly one of any number of concurrent claimers."""
    statement = (
        update(SlaTimerRow)
        .where(col(SlaTimerRow.id) == timer_id, _claimable(now=now, lease=lease))
        .values(status="firing", claimed_by=worker, claimed_at=now, attempts=SlaTimerRow.attempts + 1)
    )
    with store.session() as session:
        won = session.exec(statement).rowcount == 1
        session.commit()
    return won


def finish_timer(*, store: Store, timer_id: int, worker: str, status: str, now: datetime, text: str = "") -> None:
    """Record the outcome (sent, no_card, cancelled, superseded) of a timer this worker claimed."""
    statement = (
        update(SlaTimerRow)
        .where(col(SlaTimerRow.id) == timer_id, col(SlaTimerRow.claimed_by) == worker)
        .values(status=status, fired_at=now, text=text)
    )
    with store.session() as session:
        session.exec(statement)
        session.commit()


def release_timer(*, store: Store, timer_id: int, worker: str, attempts: int) -> None:
    """Posting failed: back to pending for the next tick, or failed after MAX_ATTEMPTS."""
    status = "failed" if attempts >= MAX_ATTEMPTS else "pending"
    statement = update(SlaTimerRow).where(col(SlaTimerRow.id) == timer_id, col(SlaTimerRow.claimed_by) == worker).values(status=status, claimed_by=None, claimed_at=None)
    with store.session() as session:
        session.exec(statement)
        session.commit()


def timers_of(*, store: Store, ticket_id: str) -> list[SlaTimerRow]:
    with store.session() as session:
        return list(session.exec(select(SlaTimerRow).where(SlaTimerRow.ticket_id == ticket_id).order_by(col(SlaTimerRow.due_at), col(SlaTimerRow.id))))
