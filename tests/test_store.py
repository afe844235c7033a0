"""The store: migrations, deduplication, race-free claims, ticket lifecycle."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from bot.store.db import make_engine, migrate
from bot.store.models import TicketRow
from bot.store import repo
from bot.store.repo import Store, new_ticket_id
from bot.types import ConversationRef, Person, Role


@pytest.fixture
def store(database_url) -> Store:
    """A migrated store on a fresh database (SQLite, or PostgreSQL with BATON_TEST_DATABASE=postgres)."""
    engine = make_engine(url=database_url)
    migrate(engine=engine)
    migrate(engine=engine)  # idempotent
    return Store(engine=engine)


def open_ticket(store: Store) -> TicketRow:
    ref = ConversationRef(platform="test", channel="C1", thread="t1")
    store.upsert_conversation(ref=ref, author=Person(platform_id="U1", display_name="Ann"))
    return store.create_ticket(ticket=TicketRow(id=new_ticket_id(), conversation_id=ref.key, original_message="help"))


def test_event_ids_are_remembered_once(store):
    assert store.remember_event(event_id="Ev1") is True
    assert store.remember_event(event_id="Ev1") is False
    assert store.remember_event(event_id="Ev2") is True


def test_twenty_concurrent_claimers_exactly_one_winner(store):
    ticket = open_ticket(store)
    barrier = threading.Barrier(20)

    def attempt(n: int):
        barrier.wait()
        return store.claim(ticket_id=ticket.id, agent_id=f"A{n}", agent_name=f"Agent {n}")

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(attempt, range(20)))
    winners = [r for r in results if r.won]
    assert len(winners) == 1
    owner = winners[0].owner_id
    assert all(r.owner_id == owner for r in results), "every loser learns who won"
    assert store.ticket(ticket_id=ticket.id).claimed_by == owner
    assert sum(c.won for c in store.claims(ticket_id=ticket.id)) == 1
    assert len(store.claims(ticket_id=ticket.id)) == 20


def test_release_only_by_owner_then_claim_again(store):
    ticket = open_ticket(store)
    assert store.claim(ticket_id=ticket.id, agent_id="A", agent_name="Ann").won
    assert store.release(ticket_id=ticket.id, agent_id="B") is False
    assert store.release(ticket_id=ticket.id, agent_id="A") is True
    result = store.claim(ticket_id=ticket.id, agent_id="B", agent_name="Bob")
    assert result.won and result.owner_name == "Bob"


def test_resolve_once_and_resolved_cannot_be_claimed(store):
    ticket = open_ticket(store)
    assert store.resolve(ticket_id=ticket.id, agent_id="A") is True
    assert store.resolve(ticket_id=ticket.id, agent_id="A") is False
    assert store.claim(ticket_id=ticket.id, agent_id="B", agent_name="Bob").won is False
    assert store.active_ticket(conversation_id=ticket.conversation_id) is None


def test_history_is_oldest_first_without_deleted(store):
    ref = ConversationRef(platform="test", channel="C1", thread="t2")
    store.upsert_conversation(ref=ref, author=None)
    for n in range(3):
        store.add_message(conversation_id=ref.key, role=Role.CUSTOMER, text=f"m{n}", platform_message_id=f"p{n}")
    store.edit_message(platform_message_id="p1", text=None, deleted=True)
    store.edit_message(platform_message_id="p2", text="m2 edited")
    assert [t.text for t in store.history(conversation_id=ref.key)] == ["m0", "m2 edited"]


def test_a_customer_message_is_stored_with_the_history_before_it_and_the_open_ticket(store):
    ref = ConversationRef(platform="test", channel="C9", thread="t9")
    ann = Person(platform_id="U9", display_name="Ann", organisation="Acme")
    first = store.record_customer_message(ref=ref, author=ann, tier="vip", text="hello", platform_message_id="m1", at=None)
    assert first.conversation.id == ref.key and first.conversation.customer_name == "Ann" and first.conversation.tier == "vip"
    assert first.history == [] and first.open_ticket is None
    store.add_message(conversation_id=ref.key, role=Role.BOT, text="hi Ann")
    ticket = store.create_ticket(ticket=TicketRow(id=new_ticket_id(), conversation_id=ref.key, original_message="hello"))
    second = store.record_customer_message(ref=ref, author=ann, tier=None, text="still there?", platform_message_id="m2", at=None)
    assert [turn.text for turn in second.history] == ["hello", "hi Ann"]  # before this message, oldest first
    assert second.open_ticket is not None and second.open_ticket.id == ticket.id
    assert second.conversation.tier == "vip"  # kept when the turn knows no tier
    assert [m.text for m in store.messages(conversation_id=ref.key)] == ["hello", "hi Ann", "still there?"]


def test_a_recovered_turn_reuses_the_customer_message_its_first_attempt_stored(store):
    ref = ConversationRef(platform="test", channel="C9", thread="t9")
    ann = Person(platform_id="U9", display_name="Ann")
    first = store.record_customer_message(ref=ref, author=ann, tier=None, text="hello", platform_message_id="m1", at=None)
    again = store.record_customer_message(ref=ref, author=ann, tier=None, text="hello", platform_message_id="m1", at=None, reuse_stored=True)
    assert again.message.id == first.message.id and again.history == []
    fresh = store.record_customer_message(ref=ref, author=ann, tier=None, text="hello", platform_message_id="m2", at=None, reuse_stored=True)
    assert fresh.message.id != first.message.id  # nothing to reuse: a new row
    assert len(store.messages(conversation_id=ref.key)) == 2


def test_a_queue_channel_change_is_seen_at_once_here_and_within_the_cache_time_elsewhere(store, monkeypatch):
    other_replica = Store(engine=store.engine)
    store.save_channel_ref(platform="slack", name="billing", channel="C1", native={})
    assert other_replica.channel_ref(platform="slack", name="billing").channel == "C1"
    store.save_channel_ref(platform="slack", name="billing", channel="C2", native={})
    assert store.channel_ref(platform="slack", name="billing").channel == "C2"  # its own change: at once
    assert other_replica.channel_ref(platform="slack", name="billing").channel == "C1"  # read from memory
    clock = time.monotonic() + repo.CHANNEL_REF_SECONDS + 1
    monkeypatch.setattr(repo.time, "monotonic", lambda: clock)
    assert other_replica.channel_ref(platform="slack", name="billing").channel == "C2"  # once the cache time passed
