"""The durable inbox and the delivery log: no acked event is lost, no reply is posted twice.

**Inbox.** One row per inbound platform event, stored before it was acknowledged; the
leasing and recovery that work on these rows are :mod:`bot.inbox`.

**Deliveries.** Every platform post the core makes with an idempotency key is written here:
``begun`` before the call, ``sent`` with the platform's message id after it. A retry finds
the sent row and returns its id instead of posting again. The one window left, a crash after
the platform accepted the post but before ``sent`` was written, is closed by the adapter:
it tags each post with its key (Slack message metadata) and looks for it before posting again.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, DateTime, Engine, insert, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, col

from bot.store.db import single_statements
from bot.types import utcnow

PENDING, WORKING, DONE, FAILED = "pending", "working", "done", "failed"


class InboxRow(SQLModel, table=True):
    """One inbound platform event, stored before it was acknowledged."""

    __tablename__ = "inbox"
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=255, unique=True)
    platform: str = Field(max_length=20)
    kind: str = Field(max_length=40)
    payload: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(default=PENDING, max_length=20, index=True)
    attempts: int = 0
    owner: str | None = Field(default=None, max_length=255)
    lease_until: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
    error: str | None = Field(default=None, max_length=500)
    received_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False))
    finished_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))


class DeliveryRow(SQLModel, table=True):
    """One outbound post with an idempotency key, and the platform's id once it was sent."""

    __tablename__ = "deliveries"
    key: str = Field(primary_key=True, max_length=255)
    platform: str = Field(max_length=20)
    result: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    attempts: int = 0
    begun_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False))
    sent_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))


class Deliveries:
    """The delivery log behind the core's outbound posts (see the module docstring)."""

    def __init__(self, *, engine: Engine) -> None:
        self.engine = engine
        self._single = single_statements(engine)

    def _session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    def begin(self, *, key: str, platform: str) -> DeliveryRow | None:
        """Record an attempt at ``key``; returns the row as an earlier attempt left it, or None
        on the first attempt."""
        try:
            with self._single.begin() as connection:
                connection.execute(insert(DeliveryRow).values(key=key, platform=platform, result={}, attempts=1, begun_at=utcnow()))
            return None
        except IntegrityError:
            pass
        with self._session() as session:
            row = session.get(DeliveryRow, key)
            before = DeliveryRow(**row.model_dump())
            row.attempts += 1
            session.add(row)
            session.commit()
            return before

    def sent(self, *, key: str, result: dict) -> None:
        """The platform accepted the post: keep what it returned (message id, card reference).
        One UPDATE, no read first: it runs twice in most turns."""
        statement = update(DeliveryRow).where(col(DeliveryRow.key) == key).values(result=dict(result), sent_at=utcnow())
        with self._single.begin() as connection:
            connection.execute(statement)
