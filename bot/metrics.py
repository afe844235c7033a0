"""Prometheus metrics of one web app: decisions, HTTP requests and the store's state at scrape time.

Each web app owns a ``Metrics`` with its own ``CollectorRegistry`` (never the process-wide
default), so tests and several apps in one process never collide.

Decisions are counted without touching the dialogue: a mapper event on ``DecisionRow`` notes each
inserted row in its session, and the session's commit hands it to every ``Metrics`` watching the
engine the row was written through (a rollback or a close without commit forgets it). Two apps on two stores never see each
other's decisions; two apps on one store each count it once in their own registry.

Gauges (open tickets, SLA breaches, open knowledge gaps) are read from the store at scrape time
with aggregate queries. A scrape never fails on the database: ``baton_database_up`` is 0 instead,
also when the database does not answer within ``store_timeout`` seconds.

This module knows no web framework; ``bot/server.py`` adds the middleware and the ``/metrics`` route.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Histogram, disable_created_metrics
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector
from sqlalchemy import Engine, and_, event, func
from sqlalchemy.orm import Session, object_session
from sqlmodel import col, select

from bot.ops.period import aware
from bot.store.durable import DONE, FAILED, PENDING, WORKING, InboxRow
from bot.store.models import DecisionRow, KnowledgeGapRow, TicketRow
from bot.store.repo import OPEN_STATES, Store
from bot.types import Action, Reason, utcnow

log = logging.getLogger(__name__)

NO_REASON = "none"
HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
DECISION_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0)
SLA_CLOCKS = ("first_response", "resolution")
_PENDING_KEY = "baton_metrics_decisions"
_watchers: weakref.WeakSet[Metrics] = weakref.WeakSet()
disable_created_metrics()  # no *_created series: they would double every counter's series for no use here


@dataclass(frozen=True, slots=True)
class SavedDecision:
    """What the metrics need of one decision row, copied when the row is inserted."""

    action: str
    reasons: tuple[str, ...]
    engine: str
    latency_seconds: float
    tokens: int


def reason_name(reason: object) -> str:
    """A stored reason's name: rows hold strings; a dict with a 'reason' key is read too."""
    if isinstance(reason, dict):
        return str(reason.get("reason") or reason.get("name") or NO_REASON)
    return str(reason)


def saved_decision(row: DecisionRow) -> SavedDecision:
    return SavedDecision(action=row.action, reasons=tuple(reason_name(r) for r in row.reasons or ()), engine=row.engine or "unknown",
                         latency_seconds=max(0.0, (row.latency_ms or 0.0) / 1000), tokens=max(0, row.tokens or 0))


# --- decisions, fed by SQLAlchemy events ------------------------------------------------------


@event.listens_for(DecisionRow, "after_insert")
def _note_inserted_decision(_mapper, connection, row: DecisionRow) -> None:
    session = object_session(row)
    if session is not None:
        session.info.setdefault(_PENDING_KEY, []).append((connection.engine, saved_decision(row)))


@event.listens_for(Session, "after_commit")
def _count_committed_decisions(session: Session) -> None:
    for engine, decision in session.info.pop(_PENDING_KEY, ()):
        for metrics in list(_watchers):
            if metrics.engine.pool is engine.pool:  # the same database, through the store's autocommit engine too
                metrics.observe_decision(decision)


@event.listens_for(Session, "after_transaction_end")
def _forget_uncommitted_decisions(session: Session, transaction) -> None:
    if transaction.parent is None:  # the outer transaction ended without a commit (rollback, close)
        session.info.pop(_PENDING_KEY, None)


# --- the store's state, read at scrape time -------------------------------------------------------


def breach_condition(*, clock: str, now: datetime):
    """SQL for "this open ticket has breached this clock": the rule of the breach alerts
    (``bot.ops.sla.skip_reason``): past due, and for the first response no agent reply yet.
    A test checks that both agree."""
    if clock == "first_response":
        return and_(col(TicketRow.first_response_due) <= now, col(TicketRow.first_agent_reply_at).is_(None))
    return col(TicketRow.resolution_due) <= now


def _open_tickets(session: Session) -> GaugeMetricFamily:
    family = GaugeMetricFamily("baton_open_tickets", "Unresolved tickets by queue and status.", labels=["queue", "status"])
    query = select(TicketRow.queue, TicketRow.status, func.count()).where(col(TicketRow.status).in_(OPEN_STATES)).group_by(TicketRow.queue, TicketRow.status)
    for queue, status, count in session.exec(query):
        family.add_metric([queue, status], count)
    return family


def _sla_breaches(session: Session, *, now: datetime) -> GaugeMetricFamily:
    family = GaugeMetricFamily("baton_sla_breaches", "Unresolved tickets past an SLA due time, by queue and clock.", labels=["queue", "clock"])
    for clock in SLA_CLOCKS:
        query = select(TicketRow.queue, func.count()).where(col(TicketRow.status).in_(OPEN_STATES), breach_condition(clock=clock, now=now)).group_by(TicketRow.queue)
        for queue, count in session.exec(query):
            family.add_metric([queue, clock], count)
    return family


def _open_gaps(session: Session) -> GaugeMetricFamily:
    count = session.exec(select(func.count()).select_from(KnowledgeGapRow).where(KnowledgeGapRow.status == "open")).one()
    return GaugeMetricFamily("baton_open_knowledge_gaps", "Questions the knowledge base could not answer, still open.", value=count)


def _inbox(session: Session) -> GaugeMetricFamily:
    """Inbound events by state: pending and working are the backlog, failed ones need a look."""
    family = GaugeMetricFamily("baton_inbox_events", "Stored inbound platform events by state (done ones included).", labels=["state"])
    counts = dict(session.exec(select(InboxRow.status, func.count()).group_by(InboxRow.status)).all())
    for state in (PENDING, WORKING, DONE, FAILED):
        family.add_metric([state], counts.get(state, 0))
    return family


def store_figures(*, store: Store, now: datetime) -> list[Metric]:
    """Open tickets, SLA breaches, open knowledge gaps and the inbox: aggregate reads in one session."""
    with store.session() as session:
        return [_open_tickets(session), _sla_breaches(session, now=now), _open_gaps(session), _inbox(session)]


def _database_up(value: int) -> GaugeMetricFamily:
    return GaugeMetricFamily("baton_database_up", "1 when this scrape could read the database, else 0.", value=value)


class StoreCollector(Collector):
    """Reads the store's figures on every scrape; a database that fails or hangs reports up=0."""

    def __init__(self, *, store: Store, clock: Callable[[], datetime], timeout: float) -> None:
        self.store = store
        self.clock = clock
        self.timeout = timeout
        self._reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="baton-metrics")

    def collect(self) -> Iterator[Metric]:
        try:
            figures = self._reader.submit(store_figures, store=self.store, now=aware(self.clock())).result(timeout=self.timeout)
        except Exception as exc:  # a scrape reports the database as down, it never fails
            log.warning("metrics: could not read the database: %s", type(exc).__name__)
            yield _database_up(0)
            return
        yield _database_up(1)
        yield from figures


# --- one app's registry ---------------------------------------------------------------------------


class Metrics:
    """One web app's registry, its counters and histograms, and the store collector."""

    def __init__(self, *, store: Store, clock: Callable[[], datetime] = utcnow, store_timeout: float = 2.0) -> None:
        self.engine: Engine = store.engine
        self.registry = CollectorRegistry()
        self.decisions = Counter("baton_decisions", "Decisions saved, once per reason (reason 'none' for an answer without one).", ["action", "reason"], registry=self.registry)
        self.decision_latency = Histogram("baton_decision_latency_seconds", "Time the engine took to decide, by engine.", ["engine"], buckets=DECISION_BUCKETS, registry=self.registry)
        self.llm_tokens = Counter("baton_llm_tokens", "LLM tokens spent on decisions, by engine.", ["engine"], registry=self.registry)
        self.requests = Counter("baton_http_requests", "HTTP requests answered, by route, method and status.", ["route", "method", "status"], registry=self.registry)
        self.request_duration = Histogram("baton_http_request_duration_seconds", "HTTP request duration, by route, method and status.", ["route", "method", "status"], registry=self.registry)
        self.registry.register(StoreCollector(store=store, clock=clock, timeout=store_timeout))
        self._start_decision_series()
        _watchers.add(self)

    def _start_decision_series(self) -> None:
        """Every action/reason pair exists from the start at 0, so rates work from the first decision."""
        for action in Action:
            for reason in [*(r.value for r in Reason), NO_REASON]:
                self.decisions.labels(action=action.value, reason=reason)

    def observe_decision(self, decision: SavedDecision) -> None:
        for reason in decision.reasons or (NO_REASON,):
            self.decisions.labels(action=decision.action, reason=reason).inc()
        self.decision_latency.labels(engine=decision.engine).observe(decision.latency_seconds)
        if decision.tokens:
            self.llm_tokens.labels(engine=decision.engine).inc(decision.tokens)

    def observe_request(self, *, route: str, method: str, status: int, seconds: float) -> None:
        """One answered request; route must be a route template, never the raw path."""
        labels = {"route": route, "method": method if method in HTTP_METHODS else "other", "status": str(status)}
        self.requests.labels(**labels).inc()
        self.request_duration.labels(**labels).observe(seconds)

    def exposition(self, *, accept: str | None = None) -> tuple[bytes, str]:
        """The scrape body and its content type (OpenMetrics when the scraper asks for it)."""
        encode, content_type = choose_encoder(accept or "")
        return encode(self.registry), content_type
