"""SLA timers with a controllable clock: reminder, breach, ladder, restarts, exactly-once across workers."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from bot.ops.config import ops_config
from bot.ops.sla import SlaScheduler, plan_timers, reminder_time
from bot.ops.timers import timers_of
from bot.outbox import OutboxRouter, RecordingOutbox
from bot.rules import Queue, Rules
from bot.store.db import make_engine, migrate
from bot.store.repo import Store
from tests.ops.conftest import add_ticket
from tests.ops.fixtures import T0

CONFIG = ops_config(data={"sla": {"remind_at": "80%", "escalation": [{"after": "30m", "notify": "<@ULEAD>"}, {"after": "2h", "notify": "<@UHEAD>"}]}})
RULES = Rules(queues={"support": Queue(sandbox="support", on_call="<!subteam^SONCALL>")})


def minutes(n: float):
    return T0 + timedelta(minutes=n)


def scheduler(store: Store, outbox: RecordingOutbox, **kwargs) -> SlaScheduler:
    return SlaScheduler(store=store, rules=RULES, outboxes=OutboxRouter(outboxes=[outbox]), config=CONFIG, **kwargs)


def posts(outbox: RecordingOutbox) -> list[str]:
    return [s.payload for s in outbox.of_kind("card_thread")]


def test_plan_has_reminder_breach_and_ladder_per_clock(store):
    plans = plan_timers(ticket=add_ticket(store, "T-1"), alerts=CONFIG.sla)
    assert [(p.kind, p.step, p.due_at) for p in plans[:4]] == [
        ("first_response.reminder", 0, minutes(12)), ("first_response.breach", 0, minutes(15)),
        ("first_response.escalation", 1, minutes(45)), ("first_response.escalation", 2, minutes(135)),
    ]
    assert len(plans) == 8 and plans[4].due_at == minutes(192)


def test_a_queue_can_have_its_own_ladder(store):
    config = ops_config(data={"sla": {"escalation": [{"after": "1h", "notify": "lead"}], "queues": {"security": [{"after": "5m", "notify": "sec"}]}}})
    ladder = [p for p in plan_timers(ticket=add_ticket(store, "T-S", queue="security"), alerts=config.sla) if p.kind.endswith("escalation")]
    assert [(p.notify, p.due_at) for p in ladder] == [("sec", minutes(20)), ("sec", minutes(245))]


def test_reminder_lead_time_can_be_a_duration():
    assert reminder_time(start=T0, due=minutes(60), remind_at="10m") == minutes(50)
    assert reminder_time(start=T0, due=minutes(5), remind_at="10m") == T0


async def test_reminder_then_breach_then_ladder_each_once(store):
    add_ticket(store, "T-1")
    outbox = RecordingOutbox(platform="test")
    sla = scheduler(store, outbox)
    assert await sla.tick(minutes(5)) == [] and len(timers_of(store=store, ticket_id="T-1")) == 8
    [reminder] = await sla.tick(minutes(12))
    assert reminder.kind == "first_response.reminder"
    assert await sla.tick(minutes(12)) == [] and await sla.tick(minutes(14)) == []
    [breach] = await sla.tick(minutes(15))
    store.claim(ticket_id="T-1", agent_id="UDANA", agent_name="Dana", at=minutes(20))
    [step1] = await sla.tick(minutes(46))
    texts = posts(outbox)
    assert len(texts) == 3
    assert texts[0].startswith("<!subteam^SONCALL>: SLA reminder: first response for T-1") and "in 3 min" in texts[0]
    assert texts[1].startswith("<!subteam^SONCALL>: SLA breached") and "nobody has claimed it" in texts[1]
    assert texts[2].startswith("<@ULEAD> <!subteam^SONCALL>: SLA escalation step 1") and "claimed by Dana" in texts[2]
    assert outbox.of_kind("card_thread")[0].target["message_id"] == "card-T-1"


async def test_first_reply_and_resolve_cancel_pending_timers(store):
    add_ticket(store, "T-2")
    outbox = RecordingOutbox(platform="test")
    sla = scheduler(store, outbox)
    await sla.tick(minutes(1))
    store.mark_first_agent_reply(ticket_id="T-2", at=minutes(5))
    assert await sla.tick(minutes(100)) == []  # first-response timers cancelled
    [reminder] = await sla.tick(minutes(193))
    assert reminder.kind == "resolution.reminder"
    store.resolve(ticket_id="T-2", agent_id="UDANA", at=minutes(200))
    assert await sla.tick(minutes(1000)) == []
    statuses = {(t.kind, t.step): t.status for t in timers_of(store=store, ticket_id="T-2")}
    assert statuses[("first_response.breach", 0)] == "cancelled" and statuses[("resolution.breach", 0)] == "cancelled"
    assert statuses[("resolution.reminder", 0)] == "sent"


async def test_a_late_start_skips_the_stale_reminder(store):
    add_ticket(store, "T-3")
    outbox = RecordingOutbox(platform="test")
    fired = await scheduler(store, outbox).tick(minutes(16))
    assert [t.kind for t in fired] == ["first_response.breach"]
    assert {t.kind: t.status for t in timers_of(store=store, ticket_id="T-3")}["first_response.reminder"] == "superseded"


async def test_timers_overdue_for_a_day_expire_instead_of_flooding(store):
    add_ticket(store, "T-8")
    outbox = RecordingOutbox(platform="test")
    assert await scheduler(store, outbox).tick(minutes(240 + 135 + 25 * 60)) == []  # back after a day-long outage
    assert {t.status for t in timers_of(store=store, ticket_id="T-8")} == {"expired"} and posts(outbox) == []


async def test_timers_survive_a_restart(store, db_url):
    add_ticket(store, "T-4")
    first = RecordingOutbox(platform="test")
    await scheduler(store, first).tick(minutes(12))
    restarted = Store(engine=make_engine(url=db_url))
    second = RecordingOutbox(platform="test")
    fired = await scheduler(restarted, second, clock=lambda: minutes(15)).tick()
    assert len(posts(first)) == 1 and [t.kind for t in fired] == ["first_response.breach"] and len(posts(second)) == 1


async def test_ticket_without_card_is_recorded_not_posted(store):
    add_ticket(store, "T-5", card=False)
    outbox = RecordingOutbox(platform="test")
    [timer] = await scheduler(store, outbox).tick(minutes(12))
    assert timer.status == "no_card" and posts(outbox) == []


class FlakyOutbox(RecordingOutbox):
    async def post_in_card_thread(self, *, card_ref, text):
        raise ConnectionError("platform down")


async def test_failed_post_is_retried_then_given_up(store):
    add_ticket(store, "T-6")
    sla = scheduler(store, FlakyOutbox(platform="test"))
    for _ in range(4):
        assert await sla.tick(minutes(12)) == []
    reminder = next(t for t in timers_of(store=store, ticket_id="T-6") if t.kind == "first_response.reminder")
    assert (reminder.status, reminder.attempts) == ("failed", 3)


async def test_abandoned_claim_is_taken_over_after_the_lease(store):
    add_ticket(store, "T-7")
    from bot.ops.timers import claim_timer

    sla = scheduler(store, RecordingOutbox(platform="test"), lease=timedelta(minutes=1))
    sla.schedule(now=minutes(0))
    reminder = next(t for t in timers_of(store=store, ticket_id="T-7") if t.kind == "first_response.reminder")
    assert claim_timer(store=store, timer_id=reminder.id, worker="crashed", now=minutes(12), lease=sla.lease)
    assert await sla.tick(minutes(12.5)) == []
    [taken] = await sla.tick(minutes(13.5))
    assert taken.id == reminder.id


@pytest.mark.parametrize(("moment", "expected"), [(12, 12), (15, 12), (46, 24)])
def test_two_workers_sharing_a_database_fire_each_timer_once(db_url, store, moment, expected):
    for n in range(12):
        add_ticket(store, f"T-W{n}")
    outboxes = [RecordingOutbox(platform="test") for _ in range(2)]
    workers = [scheduler(Store(engine=make_engine(url=db_url)), outbox, worker=f"w{i}") for i, outbox in enumerate(outboxes)]
    barrier = threading.Barrier(2)

    def run(worker: SlaScheduler) -> int:
        barrier.wait()
        return len(asyncio.run(worker.tick(minutes(moment))))

    with ThreadPoolExecutor(max_workers=2) as pool:
        counts = list(pool.map(run, workers))
    texts = posts(outboxes[0]) + posts(outboxes[1])
    assert sum(counts) == len(texts) == expected
    assert len(set(texts)) == expected  # no alert posted twice
    with ThreadPoolExecutor(max_workers=2) as pool:
        assert sum(pool.map(lambda w: len(asyncio.run(w.tick(minutes(moment)))), workers)) == 0


def test_a_backlog_of_thousands_of_timers_is_inserted_in_batches(store):
    """One INSERT per 200 rows: 40,000 timers in one statement exceeded SQLite's variable limit (250,000 here)."""
    from bot.ops.models import SlaTimerRow
    from bot.ops.timers import insert_ignoring_duplicates

    for n in range(50):
        add_ticket(store, f"T-B{n:03d}", card=False)
    rows = [{"ticket_id": f"T-B{n % 50:03d}", "kind": "reminder", "step": n // 50, "due_at": T0, "created_at": T0, "text": "x" * 10} for n in range(40000)]
    insert_ignoring_duplicates(store=store, model=SlaTimerRow, rows=rows)
    insert_ignoring_duplicates(store=store, model=SlaTimerRow, rows=rows[:300])  # duplicates are skipped
    with store.session() as session:
        from sqlmodel import func, select

        assert session.exec(select(func.count()).select_from(SlaTimerRow)).one() == 40000
