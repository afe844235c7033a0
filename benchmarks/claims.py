"""Concurrent claims: 50 agents claim one ticket at once (a barrier), 100 rounds per database.

Prints, for SQLite (file, WAL) and, when BATON_TEST_POSTGRES_URL is set, PostgreSQL: rounds
with exactly one owner, and time per round (p50/p95).

    python benchmarks/claims.py [--claimers 50] [--rounds 100]
    eval "$(bash .ci/postgres.sh)" && python benchmarks/claims.py
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.pool import NullPool  # noqa: E402

from bot.store.db import make_engine, migrate  # noqa: E402
from bot.store.models import TicketRow  # noqa: E402
from bot.store.repo import Store, new_ticket_id  # noqa: E402
from bot.types import ConversationRef, Person  # noqa: E402


def open_tickets(*, store: Store, count: int) -> list[str]:
    """``count`` open tickets, each on a conversation of its own (one unresolved ticket per conversation)."""
    ids = [new_ticket_id() for _ in range(count)]
    for ticket_id in ids:
        ref = ConversationRef(platform="bench", channel="C", thread=f"t-{ticket_id}")
        store.upsert_conversation(ref=ref, author=Person(platform_id="U1", display_name="Ann"))
        store.create_ticket(ticket=TicketRow(id=ticket_id, conversation_id=ref.key, original_message="help"))
    return ids


def race(*, store: Store, ticket_ids: list[str], claimers: int) -> tuple[list[int], list[float]]:
    """Winners per round and seconds per round (barrier release to last claim done)."""
    barrier = threading.Barrier(claimers, action=lambda: starts.append(time.perf_counter()))
    starts: list[float] = []
    done = [[0.0] * claimers for _ in ticket_ids]
    wins = [[False] * claimers for _ in ticket_ids]

    def agent(n: int) -> None:
        for r, ticket_id in enumerate(ticket_ids):
            barrier.wait()
            wins[r][n] = store.claim(ticket_id=ticket_id, agent_id=f"A{n}", agent_name=f"Agent {n}").won
            done[r][n] = time.perf_counter()

    with ThreadPoolExecutor(max_workers=claimers) as pool:
        list(pool.map(agent, range(claimers)))
    return [sum(w) for w in wins], [max(d) - s for d, s in zip(done, starts, strict=True)]


def measure(*, label: str, url: str, claimers: int, rounds: int) -> None:
    engine = make_engine(url=url)
    migrate(engine=engine)
    store = Store(engine=engine)
    winners, seconds = race(store=store, ticket_ids=open_tickets(store=store, count=rounds), claimers=claimers)
    engine.dispose()
    exact = sum(1 for w in winners if w == 1)
    q = statistics.quantiles([s * 1000 for s in seconds], n=20)
    print(f"{label:<26} {claimers} claimers x {rounds} rounds: exactly one owner in {exact}/{rounds} rounds; "
          f"per round p50 {statistics.median(seconds) * 1000:.0f} ms, p95 {q[18]:.0f} ms")


def postgres_schema_url(*, base: str) -> tuple[str, str]:
    """A fresh schema on the server and a URL whose connections use it."""
    schema = f"baton_bench_{secrets.token_hex(4)}"
    admin = create_engine(base, poolclass=NullPool)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    return schema, f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"


def drop_schema(*, base: str, schema: str) -> None:
    admin = create_engine(base, poolclass=NullPool)
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claimers", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        measure(label="SQLite (file, WAL, disk)", url=f"sqlite:///{Path(folder) / 'claims.db'}", claimers=args.claimers, rounds=args.rounds)
    base = os.environ.get("BATON_TEST_POSTGRES_URL", "").strip()
    if not base:
        print("PostgreSQL                 skipped (set BATON_TEST_POSTGRES_URL, e.g. eval \"$(bash .ci/postgres.sh)\")")
        return 0
    schema, url = postgres_schema_url(base=base)
    try:
        measure(label="PostgreSQL (psycopg)", url=url, claimers=args.claimers, rounds=args.rounds)
    finally:
        drop_schema(base=base, schema=schema)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
