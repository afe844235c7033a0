"""The background loop the web server runs: SLA timers and weekly jobs every ~30 seconds.

Each pass is wrapped in an error boundary, so a failing platform call or a database hiccup is
logged and retried on the next pass rather than stopping the loop. Every process may run it:
timers and weekly jobs are claimed in the database, so nothing fires twice.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from bot.ops.config import ops_config
from bot.ops.digest import WeeklyJobs
from bot.ops.sla import SlaScheduler

log = logging.getLogger(__name__)


def ops_jobs(*, core: Any) -> tuple[SlaScheduler, WeeklyJobs]:
    """The SLA scheduler and weekly jobs for a built core (same store, rules, outboxes and clock)."""
    config = ops_config(rules=core.rules)
    clock = core.desk.clock
    sla = SlaScheduler(store=core.store, rules=core.rules, outboxes=core.outboxes, config=config, clock=clock)
    weekly = WeeklyJobs(store=core.store, rules=core.rules, outboxes=core.outboxes, config=config, clock=clock, once=core.desk.once)
    return sla, weekly


async def ops_pass(*, sla: SlaScheduler, weekly: WeeklyJobs) -> None:
    """One pass; errors are logged, never raised."""
    for name, job in (("sla", sla), ("weekly", weekly)):
        try:
            await job.tick()
        except Exception:
            log.exception("operations pass (%s) failed; retrying on the next pass", name)


async def run_ops(*, core: Any, interval_seconds: float = 30.0, stop: asyncio.Event | None = None) -> None:
    """Tick until ``stop`` is set (or the task is cancelled)."""
    sla, weekly = ops_jobs(core=core)
    stop = stop or asyncio.Event()
    while not stop.is_set():
        await ops_pass(sla=sla, weekly=weekly)
        try:
            await asyncio.wait_for(stop.wait(), timeout=interval_seconds)
        except asyncio.TimeoutError:
            pass
