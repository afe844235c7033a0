"""The operations tables: SLA timers and once-per-period jobs.

Both rely on a uniqueness constraint for exactly-once behaviour across processes that share a
database: a timer is one row per (ticket, kind, step), claimed with a conditional UPDATE; a
weekly job is one row per (job, period), and only the process whose INSERT succeeds runs it.
The Alembic migration ``0002_operations`` creates them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.types import utcnow


def _when(*, nullable: bool = True, index: bool = False) -> Any:
    return Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=nullable, index=index))


class SlaTimerRow(SQLModel, table=True):
    """One SLA reminder, breach alert or escalation step of one ticket, fired at most once."""

    __tablename__ = "sla_timers"
    __table_args__ = (UniqueConstraint("ticket_id", "kind", "step", name="uq_sla_timers_ticket_kind_step"),)
    id: int | None = Field(default=None, primary_key=True)
    ticket_id: str = Field(foreign_key="tickets.id", index=True, max_length=40)
    kind: str = Field(max_length=40)
    step: int = 0
    due_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False, index=True))
    notify: str | None = Field(default=None, max_length=255)
    status: str = Field(default="pending", max_length=20, index=True)
    attempts: int = 0
    claimed_by: str | None = Field(default=None, max_length=120)
    claimed_at: datetime | None = _when()
    fired_at: datetime | None = _when()
    text: str = ""
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False))


class OpsRunRow(SQLModel, table=True):
    """One run of a periodic job (weekly digest, weekly review sample) for one period."""

    __tablename__ = "ops_runs"
    __table_args__ = (UniqueConstraint("job", "period", name="uq_ops_runs_job_period"),)
    id: int | None = Field(default=None, primary_key=True)
    job: str = Field(max_length=40)
    period: str = Field(max_length=40)
    worker: str = Field(default="", max_length=120)
    status: str = Field(default="running", max_length=20)
    detail: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    started_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False))
    finished_at: datetime | None = _when()
