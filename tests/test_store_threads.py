"""Store calls off the event loop: where they run, what they carry, and turns decided with them."""

from __future__ import annotations

import asyncio
import contextvars
import threading

import pytest

from bot.app import build_core
from bot.outbox import OutboxRouter
from bot.settings import Settings
from bot.threads import INLINE, Threads
from bot.types import ConversationRef, InboundMessage, Person

REQUEST = contextvars.ContextVar("request", default="none")
QUESTIONS = [
    "where do I add our VAT number so it shows on invoices",
    "you charged my card twice on the 3rd",
    "is there a zapier integration?",
    "can I talk to a real person please",
]


async def test_pooled_calls_run_on_store_threads_with_the_callers_context():
    threads = Threads(threads=2)
    REQUEST.set("turn-7")
    try:
        name, seen = await threads.run(lambda: (threading.current_thread().name, REQUEST.get()))
        assert name.startswith("baton-store") and seen == "turn-7"
        with pytest.raises(ZeroDivisionError):  # a failing call fails its awaiter
            await threads.run(lambda: 1 / 0)
        loop_thread = threading.current_thread().name
        assert await INLINE.run(lambda: threading.current_thread().name) == loop_thread
    finally:
        threads.close()
    with pytest.raises(ValueError):
        Threads(threads=-1)


async def test_while_one_call_blocks_the_loop_goes_on():
    threads = Threads(threads=2)
    release = threading.Event()
    try:
        blocked = asyncio.ensure_future(threads.run(release.wait, 5))
        ticks = 0
        while ticks < 5:  # the loop keeps running other work meanwhile
            await asyncio.sleep(0.01)
            ticks += 1
        assert not blocked.done()
        release.set()
        assert await blocked is True
    finally:
        threads.close()


def test_store_threads_default_to_where_the_database_is(tmp_path):
    assert Settings(_env_file=None, home=tmp_path).effective_store_threads == 0
    assert Settings(_env_file=None, home=tmp_path, database_url="postgresql+psycopg://u:p@db.internal:5432/baton").effective_store_threads == 4
    for local in ("postgresql+psycopg://u:p@127.0.0.1:5432/baton", "postgresql+psycopg://u:p@localhost/baton", "postgresql+psycopg:///baton"):
        assert Settings(_env_file=None, home=tmp_path, database_url=local).effective_store_threads == 0
    assert Settings(_env_file=None, home=tmp_path, store_threads=3).effective_store_threads == 3


def _message(n: int, *, text: str, conversation: int | None = None) -> InboundMessage:
    thread = f"{conversation if conversation is not None else n}.0"
    return InboundMessage(event_id=f"E{n}", ref=ConversationRef(platform="test", channel="C-threads", thread=thread),
                          author=Person(platform_id=f"U{n % 3}", display_name="Ann", external=True), text=text, message_id=f"{n}.5")


async def test_concurrent_turns_on_store_threads_decide_as_inline_ones(make_settings, recording):
    """Twelve conversations at once on four store threads: the same outcomes as one at a time on
    the loop, one ticket per escalated conversation, every message and reply kept."""
    outcomes = {}
    for threads in (0, 4):
        core = build_core(settings=make_settings(store_threads=threads), outboxes=OutboxRouter(outboxes=[recording]))
        assert core.dialogue.threads.threads == threads
        messages = [_message(n + 100 * threads, text=QUESTIONS[n % len(QUESTIONS)], conversation=n + 100 * threads) for n in range(12)]
        results = await asyncio.gather(*(core.dialogue.handle(message=m) for m in messages))
        outcomes[threads] = [r.status for r in results]
        escalated = [m.ref.key for m, r in zip(messages, results) if r.status == "escalated"]
        tickets = [t for t in core.store.tickets() if t.conversation_id in {m.ref.key for m in messages}]
        assert sorted(t.conversation_id for t in tickets) == sorted(escalated)
        assert all(t.card_refs for t in tickets)
        for message in messages:
            roles = [turn.role.value for turn in core.store.history(conversation_id=message.ref.key)]
            assert roles[0] == "customer" and len(roles) == 2  # the message, then the answer or holding reply
        core.dialogue.threads.close()
    assert outcomes[0] == outcomes[4]
    assert {"answered", "escalated"} <= set(outcomes[4])


async def test_one_conversations_turns_stay_in_order_on_store_threads(make_settings, recording):
    core = build_core(settings=make_settings(store_threads=4), outboxes=OutboxRouter(outboxes=[recording]))
    first = await core.dialogue.handle(message=_message(1, text=QUESTIONS[0], conversation=9))
    second = await core.dialogue.handle(message=_message(2, text="and can I change it later?", conversation=9))
    assert first.status == "answered" and second.status in ("answered", "escalated")
    history = core.store.history(conversation_id=_message(1, text="", conversation=9).ref.key)
    assert [turn.text for turn in history if turn.role.value == "customer"] == [QUESTIONS[0], "and can I change it later?"]
    core.dialogue.threads.close()
