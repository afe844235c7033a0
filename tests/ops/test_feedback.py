"""One-click feedback, the weekly review sample, weekly jobs once per week, and time saved."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from bot.ops.config import TimeSavedBaseline, ops_config
from bot.ops.data import PeriodData
from bot.ops.digest import WeeklyJobs
from bot.ops.feedback import (
    FeedbackError, parse_review_action, post_review_sample, record_customer_feedback, record_review, review_sample,
)
from bot.ops.period import Period
from bot.ops.time_saved import time_saved
from bot.ops.weekly import runs, week_due
from bot.outbox import OutboxRouter, RecordingOutbox
from bot.store.db import make_engine
from bot.store.repo import Store
from tests.ops.fixtures import T0, answer_feedback, four_tickets, seed_store, six_decisions

WEEK = Period(since=T0, until=T0 + timedelta(days=7))
CONFIG = ops_config(data={"digest": {"platform": "test", "channel": "C-leads", "weekday": "monday", "hour": 9},
                          "review": {"platform": "test", "channel": "C-review", "weekday": "monday", "hour": 10, "sample_size": 3}})


def test_customer_and_reviewer_feedback_is_validated(store):
    seed_store(store)
    assert record_customer_feedback(store=store, decision_id=2, kind="talk_to_person", by="U1").kind == "talk_to_person"
    with pytest.raises(FeedbackError, match="unknown customer feedback"):
        record_customer_feedback(store=store, decision_id=2, kind="meh", by="U1")
    with pytest.raises(FeedbackError, match="not an answer"):
        record_review(store=store, decision_id=7, verdict="review_fine", by="R1")
    assert record_review(store=store, decision_id=1, verdict="review_should_escalate", by="R1").decision_id == 1
    assert parse_review_action("review_fine:42") == ("review_fine", 42) and parse_review_action("claim") is None


def test_review_sample_is_deterministic_and_skips_reviewed_answers(store):
    seed_store(store)  # answers 1, 2, 3, 4, 6; 2, 3 and 6 already reviewed
    first = [d.id for d in review_sample(store=store, period=WEEK, size=5, seed="2026-W45")]
    assert first == [1, 4]
    assert [d.id for d in review_sample(store=store, period=WEEK, size=1, seed="2026-W45")] == [d.id for d in review_sample(store=store, period=WEEK, size=1, seed="2026-W45")]


async def test_review_sample_is_posted_with_verdict_buttons(store):
    seed_store(store)
    outbox = RecordingOutbox(platform="test")
    posted = await post_review_sample(store=store, outbox=outbox, channel="C-review", period=WEEK, size=5, seed="w")
    replies = outbox.replies()
    assert posted == [1, 4] and [r.kind for r in replies] == ["review", "review"]
    assert [b.action for b in replies[0].buttons] == ["review_should_escalate:1", "review_fine:1"]
    assert replies[0].ref.channel == "C-review" and "Should this have gone to a person?" in replies[0].text


def test_week_due_after_the_configured_weekday_and_hour():
    assert week_due(now=T0 - timedelta(minutes=1), schedule=CONFIG.digest) is None  # Monday 08:59
    assert week_due(now=T0, schedule=CONFIG.digest) == "2026-W45"
    assert week_due(now=T0 + timedelta(days=6), schedule=CONFIG.digest) == "2026-W45"


async def test_weekly_jobs_post_once_a_week(store):
    seed_store(store)
    outbox = RecordingOutbox(platform="test")
    jobs = WeeklyJobs(store=store, rules=None, outboxes=OutboxRouter(outboxes=[outbox]), config=CONFIG)
    assert await jobs.tick(T0 - timedelta(hours=1)) == []
    assert await jobs.tick(T0 + timedelta(minutes=30)) == ["digest"]
    assert await jobs.tick(T0 + timedelta(hours=2)) == ["review"]
    assert await jobs.tick(T0 + timedelta(days=1)) == []
    assert await jobs.tick(T0 + timedelta(days=7, hours=1)) == ["digest", "review"]
    kinds = [r.kind for r in outbox.replies()]
    assert kinds.count("digest") == 2 and outbox.replies()[0].text.startswith("*Baton weekly digest*")
    assert [(r.job, r.period, r.status) for r in runs(store=store)][:2] == [("digest", "2026-W45", "done"), ("review", "2026-W45", "done")]


def test_two_processes_post_the_digest_once(store, db_url):
    outboxes = [RecordingOutbox(platform="test") for _ in range(2)]
    jobs = [WeeklyJobs(store=Store(engine=make_engine(url=db_url)), rules=None, outboxes=OutboxRouter(outboxes=[o]), config=CONFIG, worker=f"w{i}") for i, o in enumerate(outboxes)]
    barrier = threading.Barrier(2)

    def run(job: WeeklyJobs) -> list[str]:
        barrier.wait()
        return asyncio.run(job.tick(T0 + timedelta(hours=3)))

    with ThreadPoolExecutor(max_workers=2) as pool:
        done = [j for result in pool.map(run, jobs) for j in result]
    assert sorted(done) == ["digest", "review"]
    assert sum(len([r for r in o.replies() if r.kind == "digest"]) for o in outboxes) == 1


class BrokenOutbox(RecordingOutbox):
    async def send_reply(self, reply):
        raise ConnectionError("down")


async def test_a_failed_digest_is_retried_after_the_lease(store):
    jobs = WeeklyJobs(store=store, rules=None, outboxes=OutboxRouter(outboxes=[BrokenOutbox(platform="test")]), config=ops_config(data={"digest": CONFIG.digest.model_dump()}))
    assert await jobs.tick(T0) == []
    good = RecordingOutbox(platform="test")
    jobs.outboxes = OutboxRouter(outboxes=[good])
    assert await jobs.tick(T0 + timedelta(minutes=5)) == []  # within the lease
    assert await jobs.tick(T0 + timedelta(minutes=11)) == ["digest"] and len(good.replies()) == 1


def test_time_saved_with_its_assumptions():
    data = PeriodData(period=WEEK, tickets=four_tickets(), decisions=six_decisions(), feedback=answer_feedback())
    saved = time_saved(data=data, baseline=TimeSavedBaseline(handle_minutes=8, triage_minutes=6))
    assert saved.conversations_without_person == 2  # c2 and c3: clean answers, no handoff
    assert saved.answer_minutes == 16 and saved.handoffs_measured == 3 and saved.triage_minutes == 6
    assert saved.median_minutes_to_reply_after_claim == 10
    assert saved.total_hours == pytest.approx(22 / 60)
    assert any("8 min" in a for a in saved.assumptions) and any("6 min" in a for a in saved.assumptions)
    empty = time_saved(data=PeriodData(period=WEEK), baseline=TimeSavedBaseline())
    assert (empty.total_hours, empty.median_minutes_to_reply_after_claim) == (0, None)


async def test_a_review_sample_retried_after_a_failed_post_posts_each_answer_once(store):
    """Through the delivery log, the retry of a half-posted week skips what already went out."""
    from bot.delivery import OnceOnly
    from bot.store.durable import Deliveries

    seed_store(store)

    class FailsOnce(RecordingOutbox):
        failed = False

        async def send_reply(self, reply):
            if len(self.sent) == 1 and not self.failed:
                self.failed = True
                raise ConnectionError("the platform went away")
            return await super().send_reply(reply)

    outbox, once = FailsOnce(platform="test"), OnceOnly(deliveries=Deliveries(engine=store.engine))
    with pytest.raises(ConnectionError):
        await post_review_sample(store=store, outbox=outbox, channel="C-review", period=WEEK, size=5, seed="w", once=once)
    assert await post_review_sample(store=store, outbox=outbox, channel="C-review", period=WEEK, size=5, seed="w", once=once) == [1, 4]
    assert [r.idempotency_key for r in outbox.replies()] == ["review:w:1", "review:w:4"]
