"""Once-a-week jobs (the digest, the review sample) that fire once per week across processes.

A run is one ``ops_runs`` row per (job, ISO week): the process whose INSERT succeeds runs the
job. A run left 'running' by a crashed process, or one that failed, is taken over after a lease
with a conditional UPDATE, so a week is neither skipped nor posted twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from bot.ops.config import WEEKDAYS, Weekly
from bot.ops.models import OpsRunRow
from bot.ops.period import aware, iso_week
from bot.store.repo import Store


def week_due(*, now: datetime, schedule: Weekly) -> str | None:
    """This ISO week's key once its scheduled weekday and hour (UTC) have come, else None."""
    now = aware(now)
    monday = (now - timedelta(days=now.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    moment = monday + timedelta(days=WEEKDAYS.index(schedule.weekday), hours=schedule.hour)
    return iso_week(now) if now >= moment else None


def claim_run(*, store: Store, job: str, period: str, worker: str, now: datetime, lease: timedelta = timedelta(minutes=10)) -> bool:
    """True for exactly one process per (job, period); a stale or failed run can be taken over."""
    with store.session() as session:
        session.add(OpsRunRow(job=job, period=period, worker=worker, started_at=now))
        try:
            session.commit()
            return True
        except IntegrityError:
            session.rollback()
    stale = (col(OpsRunRow.job) == job, col(OpsRunRow.period) == period, col(OpsRunRow.status) != "done", col(OpsRunRow.started_at) < now - lease)
    with store.session() as session:
        won = session.exec(update(OpsRunRow).where(*stale).values(worker=worker, started_at=now, status="running")).rowcount == 1
        session.commit()
    return won


def finish_run(*, store: Store, job: str, period: str, worker: str, status: str, now: datetime, detail: dict | None = None) -> None:
    statement = (
        update(OpsRunRow)
        .where(col(OpsRunRow.job) == job, col(OpsRunRow.period) == period, col(OpsRunRow.worker) == worker)
        .values(status=status, finished_at=now, detail=detail or {})
    )
    with store.session() as session:
        session.exec(statement)
        session.commit()


def runs(*, store: Store, job: str | None = None) -> list[OpsRunRow]:
    query = select(OpsRunRow).order_by(col(OpsRunRow.id))
    if job:
        query = query.where(OpsRunRow.job == job)
    with store.session() as session:
        return list(session.exec(query))
