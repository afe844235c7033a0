"""Fixtures for the operations tests: a migrated store (SQLite or PostgreSQL) and tickets with cards."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from bot.store.db import make_engine, migrate
from bot.store.models import TicketRow
from bot.store.repo import Store
from bot.types import ConversationRef, Person
from tests.conftest import fresh_database
from tests.ops.fixtures import T0


@pytest.fixture
def db_url(tmp_path) -> Iterator[str]:
    """A fresh database: a SQLite file, or a new PostgreSQL schema with BATON_TEST_DATABASE=postgres."""
    with fresh_database(tmp_path, name="ops") as url:
        yield url


@pytest.fixture
def store(db_url) -> Store:
    engine = make_engine(url=db_url)
    migrate(engine=engine)
    return Store(engine=engine)


def add_ticket(store: Store, tid: str, *, first: int = 15, resolution: int = 240, queue: str = "support", card: bool = True, created=T0) -> TicketRow:
    """An urgent ticket opened at ``created`` with a card posted on the 'test' platform."""
    ref = ConversationRef(platform="test", channel="C-customer", thread=tid)
    store.upsert_conversation(ref=ref, author=Person(platform_id="U1", display_name="Casey"))
    card_refs = {"platform": "test", "channel": queue, "message_id": f"card-{tid}"} if card else {}
    row = TicketRow(id=tid, conversation_id=ref.key, priority="urgent", queue=queue, original_message="help", card_refs=card_refs,
                    created_at=created, updated_at=created, first_response_due=created + timedelta(minutes=first),
                    resolution_due=created + timedelta(minutes=resolution))
    return store.create_ticket(ticket=row)
