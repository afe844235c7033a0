"""The store on PostgreSQL and SQLite: migrations, race-free claims under load, the core flow.

50 threads claim the same ticket at once (a barrier releases them together), 100 times over;
every round must have exactly one owner, and every loser must learn who won.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import text

from bot.store.db import make_engine, migrate
from bot.store.models import TicketRow
from bot.store.repo import ClaimResult, Store, new_ticket_id
from bot.types import ConversationRef, InboundMessage, Person

CLAIMERS = 50
ROUNDS = 100


def fresh_store(*, url: str) -> Store:
    """A migrated store on ``url`` (migrating twice proves it is idempotent)."""
    engine = make_engine(url=url)
    migrate(engine=engine)
    migrate(engine=engine)
    return Store(engine=engine)


def open_tickets(*, store: Store, count: int) -> list[str]:
    """``count`` open tickets, each on a conversation of its own (one unresolved ticket per conversation)."""
    ids = [new_ticket_id() for _ in range(count)]
    for ticket_id in ids:
        ref = ConversationRef(platform="test", channel="C-claims", thread=f"t-{ticket_id}")
        store.upsert_conversation(ref=ref, author=Person(platform_id="U1", display_name="Ann"))
        store.create_ticket(ticket=TicketRow(id=ticket_id, conversation_id=ref.key, original_message="help"))
    return ids


def race_claims(*, store: Store, ticket_ids: list[str], claimers: int) -> list[list[ClaimResult]]:
    """Each round, ``claimers`` threads released by one barrier claim the round's ticket."""
    barrier = threading.Barrier(claimers)

    def agent(n: int) -> list[ClaimResult]:
        results = []
        for ticket_id in ticket_ids:
            barrier.wait()
            results.append(store.claim(ticket_id=ticket_id, agent_id=f"A{n}", agent_name=f"Agent {n}"))
        return results

    with ThreadPoolExecutor(max_workers=claimers) as pool:
        per_agent = list(pool.map(agent, range(claimers)))
    return [[results[r] for results in per_agent] for r in range(len(ticket_ids))]


def assert_one_owner_per_round(*, store: Store, ticket_ids: list[str], rounds: list[list[ClaimResult]]) -> None:
    """Exactly one winner per round, agreed on by every claimer, the row and the claim log."""
    for ticket_id, results in zip(ticket_ids, rounds, strict=True):
        winners = [r for r in results if r.won]
        assert len(winners) == 1, f"{ticket_id}: {len(winners)} winners"
        owner = winners[0].owner_id
        assert {r.owner_id for r in results} == {owner}, f"{ticket_id}: losers disagree about the owner"
        assert store.ticket(ticket_id=ticket_id).claimed_by == owner
        log = store.claims(ticket_id=ticket_id)
        assert len(log) == len(results) and sum(c.won for c in log) == 1


def run_claim_race(*, url: str) -> None:
    store = fresh_store(url=url)
    try:
        ticket_ids = open_tickets(store=store, count=ROUNDS)
        rounds = race_claims(store=store, ticket_ids=ticket_ids, claimers=CLAIMERS)
        assert_one_owner_per_round(store=store, ticket_ids=ticket_ids, rounds=rounds)
    finally:
        store.engine.dispose()


def test_sqlite_wal_fifty_concurrent_claims_exactly_one_owner_every_round(sqlite_url):
    engine = make_engine(url=sqlite_url)
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    engine.dispose()
    run_claim_race(url=sqlite_url)


def test_postgres_fifty_concurrent_claims_exactly_one_owner_every_round(postgres_url):
    run_claim_race(url=postgres_url)


def test_postgres_migrations_create_the_schema_and_dedup_holds(postgres_url):
    store = fresh_store(url=postgres_url)
    try:
        with store.engine.connect() as connection:
            tables = set(connection.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")).scalars())
        assert {"tickets", "claims", "conversations", "alembic_version"} <= tables
        assert store.remember_event(event_id="Ev-pg") is True
        assert store.remember_event(event_id="Ev-pg") is False
    finally:
        store.engine.dispose()


@pytest.fixture
def pg_core(make_settings, recording, postgres_url) -> Iterator:
    """The real core (sample rules and knowledge) on PostgreSQL, sending into a recording outbox."""
    from bot.app import build_core
    from bot.outbox import OutboxRouter

    core = build_core(settings=make_settings(database_url=postgres_url), outboxes=OutboxRouter(outboxes=[recording]))
    yield core
    core.store.engine.dispose()


def customer(text_: str, *, thread: str, event_id: str) -> InboundMessage:
    ref = ConversationRef(platform="test", channel="C-customer", thread=thread)
    return InboundMessage(event_id=event_id, ref=ref, author=Person(platform_id="U1", display_name="Casey"), text=text_)


async def test_core_dialogue_answers_escalates_and_claims_on_postgres(pg_core, recording):
    answered = await pg_core.dialogue.handle(customer("How do I add my company logo to invoices?", thread="t1", event_id="Ev-a"))
    assert answered.status == "answered", answered.decision.to_dict()
    assert (await pg_core.dialogue.handle(customer("How do I add my company logo to invoices?", thread="t1", event_id="Ev-a"))).status == "duplicate"
    escalated = await pg_core.dialogue.handle(customer("I was charged twice this month and I want my money back", thread="t2", event_id="Ev-b"))
    assert escalated.status == "escalated" and len(recording.cards()) == 1
    claims = [await pg_core.desk.claim(ticket_id=escalated.ticket_id, agent_id=a, agent_name=a) for a in ("Dana", "Eli")]
    assert claims[0].ok and not claims[1].ok
    assert pg_core.store.ticket(ticket_id=escalated.ticket_id).claimed_by == "Dana"


def test_postgres_pings_only_idle_connections_and_replaces_a_dead_one(postgres_url, monkeypatch):
    """A connection in steady use is not pinged before each query (a round trip saved per
    checkout); one that sat idle is, and one the server dropped meanwhile is replaced unseen."""
    import time

    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    import bot.store.db as db

    engine = make_engine(url=postgres_url)
    pings = []
    real_ping = engine.dialect.do_ping
    monkeypatch.setattr(engine.dialect, "do_ping", lambda connection: pings.append(1) or real_ping(connection))
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 0.5)
    with engine.connect() as connection:
        first = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()
    for _ in range(5):
        with engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT pg_backend_pid()").scalar() == first
    assert pings == []  # hot: no ping
    admin = create_engine(postgres_url, poolclass=NullPool)
    with admin.connect() as connection:
        assert connection.exec_driver_sql(f"SELECT pg_terminate_backend({first})").scalar() is True
    admin.dispose()
    time.sleep(0.6)
    with engine.connect() as connection:  # idle long enough: pinged, found dead, replaced
        replacement = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()
    assert replacement != first and pings
    engine.dispose()
