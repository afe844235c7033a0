"""Fixtures for the operations tests: a migrated SQLite store and tickets with cards."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from sqlalchemy import create_engine

from bot.store.db import make_engine, migrate
from bot.store.models import TicketRow
from bot.store.repo import Store
from bot.types import ConversationRef, Person
from tests.ops.fixtures import T0


@pytest.fixture
def db_url(tmp_path) -> str:
    """A fresh SQLite file, or a wiped PostgreSQL database when BATON_TEST_POSTGRES_URL is set."""
    url = os.environ.get("BATON_TEST_POSTGRES_URL")
    if not url:
        return f"sqlite:///{tmp_path / 'ops.db'}"
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    engine.dispose()
    return url


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
