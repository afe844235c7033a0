"""Failures never lose a message: every fault ends in the offline decision, never an exception."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from bot.llm.budget import DailyBudget
from bot.types import Action, Conversation, Reason

from .model_replies import grounded

EXPORT_Q = "How do I export my expenses to a CSV file for my accountant?"
HUMAN_Q = "can I talk to a real person please"


def _ask(text: str = EXPORT_Q) -> Conversation:
    return Conversation(text=text)


def _settle(llm, requests: int) -> None:
    deadline = time.monotonic() + 5
    while len(llm.chat_requests) < requests and time.monotonic() < deadline:
        time.sleep(0.05)


def test_429_with_retry_after_is_waited_out(llm, make_engine, sleeps) -> None:
    llm.fail_next(status=429, retry_after=1)
    llm.set_responder(grounded)
    decision = make_engine().decide(_ask())
    assert decision.engine == "llm" and decision.action == Action.ANSWER and sleeps.waits == [1.0]


@pytest.mark.parametrize("fault", [
    {"status": 500, "times": 3},
    {"status": 503, "times": 3},
    {"status": 429, "retry_after": 120},
    {"malformed": True, "times": 3},
])
def test_persistent_faults_fall_back_to_the_offline_decision(llm, make_engine, fault) -> None:
    engine = make_engine()
    offline = engine.offline.decide(_ask())
    llm.fail_next(**fault)
    decision = engine.decide(_ask())
    assert decision.engine == "offline-fallback"
    assert decision.action == offline.action and decision.answer == offline.answer
    assert decision.tokens == llm.usage["total_tokens"], "malformed replies still cost tokens"


def test_timeouts_fall_back(llm, make_engine) -> None:
    llm.fail_next(delay=1.0, times=2)
    decision = make_engine(client_options={"timeout": 0.3, "max_attempts": 2}).decide(_ask())
    assert decision.engine == "offline-fallback" and decision.action == Action.ANSWER
    _settle(llm, 2)


def test_a_refusal_escalates(llm, make_engine) -> None:
    llm.queue_response(refusal="I can't help with that.")
    decision = make_engine().decide(_ask())
    assert decision.escalated and decision.engine == "offline-fallback"
    assert (Reason.LOW_CONFIDENCE, "llm_refusal") in {(t.reason, t.kind) for t in decision.triggers}
    assert len(llm.chat_requests) == 1


def test_an_unexpected_client_error_never_escapes(make_engine, monkeypatch) -> None:
    engine = make_engine()
    monkeypatch.setattr(engine.client, "complete", lambda **_: (_ for _ in ()).throw(RuntimeError("boom")))
    decision = engine.decide(_ask())
    assert decision.engine == "offline-fallback" and decision.action == Action.ANSWER


def test_even_a_broken_offline_engine_gives_an_escalation(make_engine, monkeypatch) -> None:
    engine = make_engine()
    monkeypatch.setattr(engine.offline, "decide", lambda conversation: 1 / 0)
    decision = engine.decide(_ask())
    assert decision.escalated and decision.triggers[0].kind == "error" and decision.queue == "support"


# --- budget ------------------------------------------------------------------------------------


def test_the_budget_stops_calls_for_the_rest_of_the_day(llm, make_engine) -> None:
    llm.set_responder(grounded)
    budget = DailyBudget(limit=1)
    engine = make_engine(budget=budget)
    first, second = engine.decide(_ask()), engine.decide(_ask())
    assert first.engine == "llm" and second.engine == "offline-fallback" and second.tokens == 0
    assert len(llm.chat_requests) == 1 and budget.used == first.tokens


def test_a_zero_budget_allows_no_calls(llm, make_engine) -> None:
    decision = make_engine(daily_token_budget=0).decide(_ask())
    assert llm.chat_requests == [] and decision.engine == "offline-fallback"


class _Rows:
    """A store stand-in whose decisions carry token counts."""

    def __init__(self, rows: list) -> None:
        self.rows, self.since = rows, None

    def decisions(self, *, since=None, conversation_id=None):
        self.since = since
        return [r for r in self.rows if r.created_at >= since]


def test_the_budget_is_seeded_from_todays_decisions_and_rolls_over() -> None:
    now = datetime(2025, 3, 1, 23, 59, tzinfo=timezone.utc)
    rows = [SimpleNamespace(tokens=700, created_at=now - timedelta(hours=1)), SimpleNamespace(tokens=900, created_at=now - timedelta(days=1))]
    clock = [now]
    budget = DailyBudget(limit=1000, store=_Rows(rows), clock=lambda: clock[0])
    assert budget.used == 700 and budget.allows()
    budget.spend(400)
    assert budget.used == 1100 and not budget.allows()
    clock[0] = now + timedelta(minutes=2)
    assert budget.used == 0 and budget.allows()


def test_tokens_are_added_to_the_conversation(llm, make_engine, database_url) -> None:
    from bot.store.db import make_engine as make_db, migrate
    from bot.store.repo import Store
    from bot.types import ConversationRef, Person

    store = Store(engine=make_db(url=database_url))
    try:
        migrate(engine=store.engine)
        ref = ConversationRef(platform="sandbox", channel="c1", thread="t1")
        store.upsert_conversation(ref=ref, author=Person(platform_id="u1"))
        llm.set_responder(grounded)
        decision = make_engine(store=store).decide(Conversation(text=EXPORT_Q, ref=ref))
        assert decision.tokens > 0 and store.conversation(conversation_id=ref.key).tokens == decision.tokens
    finally:
        store.engine.dispose()
