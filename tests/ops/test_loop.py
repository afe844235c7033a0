"""The server's background loop: ticks both schedulers, survives their errors, stops when asked."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from bot.delivery import OnceOnly
from bot.ops.loop import ops_pass, run_ops
from bot.outbox import OutboxRouter, RecordingOutbox
from bot.rules import Rules
from tests.ops.conftest import add_ticket
from tests.ops.fixtures import T0


class Boom:
    def __init__(self) -> None:
        self.calls = 0

    async def tick(self):
        self.calls += 1
        raise RuntimeError("database hiccup")


async def test_a_failing_job_does_not_stop_the_other():
    failing, other = Boom(), Boom()
    await ops_pass(sla=failing, weekly=other)
    assert (failing.calls, other.calls) == (1, 1)


async def test_run_ops_ticks_with_the_core_clock_until_stopped(store):
    add_ticket(store, "T-L")
    outbox = RecordingOutbox(platform="test")
    from datetime import timedelta

    core = SimpleNamespace(store=store, rules=Rules(), outboxes=OutboxRouter(outboxes=[outbox]), desk=SimpleNamespace(clock=lambda: T0 + timedelta(minutes=13), once=OnceOnly(deliveries=None)))
    stop = asyncio.Event()
    task = asyncio.create_task(run_ops(core=core, interval_seconds=0.01, stop=stop))
    await asyncio.sleep(0.2)
    stop.set()
    await asyncio.wait_for(task, timeout=5)
    assert [s.payload.split(":")[0] for s in outbox.of_kind("card_thread")] == ["SLA reminder"]
