"""The background loop the web server runs: SLA timers and weekly jobs every ~30 seconds,
and, when docs sites are configured, a re-crawl of them every ``knowledge_refresh_hours``.

Each pass is wrapped in an error boundary, so a failing platform call or a database hiccup is
logged and retried on the next pass rather than stopping the loop. Every process may run it:
timers and weekly jobs are claimed in the database, so nothing fires twice.

The knowledge refresh crawls and embeds in a worker thread (the event loop keeps serving),
then swaps the new index into the running engine's knowledge searcher in one assignment: a
decision in flight finishes on the old index, the next one uses the new.  A failed refresh
is logged and the old index keeps serving.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from bot.app import KnowledgeSearcher, load_knowledge
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
    """Tick until ``stop`` is set (or the task is cancelled); refresh docs sites alongside."""
    sla, weekly = ops_jobs(core=core)
    stop = stop or asyncio.Event()
    every = refresh_interval_seconds(settings=getattr(core, "settings", None))
    refresher = asyncio.create_task(refresh_knowledge_forever(core=core, every_seconds=every, stop=stop)) if every else None
    try:
        while not stop.is_set():
            await ops_pass(sla=sla, weekly=weekly)
            if await _stopped(stop, timeout=interval_seconds):
                break
    finally:
        if refresher is not None:
            refresher.cancel()
            await asyncio.gather(refresher, return_exceptions=True)


async def _stopped(stop: asyncio.Event, *, timeout: float) -> bool:
    """Wait up to ``timeout`` seconds for ``stop``; whether it was set."""
    try:
        await asyncio.wait_for(stop.wait(), timeout=timeout)
    except asyncio.TimeoutError:
        return False
    return True


# --- knowledge refresh ------------------------------------------------------------------------


def refresh_interval_seconds(*, settings: Any) -> float | None:
    """Seconds between docs-site re-crawls, or None when there are no sites or refresh is off (0)."""
    hours = float(getattr(settings, "knowledge_refresh_hours", 0) or 0)
    return hours * 3600.0 if getattr(settings, "knowledge_url_list", None) and hours > 0 else None


async def refresh_knowledge_forever(*, core: Any, every_seconds: float, stop: asyncio.Event) -> None:
    """Re-crawl and re-index every ``every_seconds`` (the first one after the start-up ingest)."""
    while not await _stopped(stop, timeout=every_seconds):
        await refresh_knowledge(core=core)


async def refresh_knowledge(*, core: Any) -> bool:
    """One refresh: crawl changed pages, re-index (in a thread), swap the index in; never raises."""
    try:
        index = await asyncio.to_thread(load_knowledge, settings=core.settings, encoder=core.encoder)
    except Exception:
        log.exception("knowledge refresh failed; the previous index keeps serving")
        return False
    if index is None:
        return False
    swap_knowledge(core=core, index=index)
    log.info("knowledge refreshed: %d documents, %d passages", len(index.documents), len(index.passages))
    return True


def swap_knowledge(*, core: Any, index: Any) -> None:
    """Point the running engine's knowledge search at ``index`` (no restart, no rebuilt models).

    The offline engine holds a :class:`KnowledgeSearcher` (possibly inside the LLM engine's
    search memo, whose cached hits are then dropped); an engine that started without any
    knowledge gets a searcher at the rules' answer bar.
    """
    offline = getattr(core.engine, "offline", core.engine)
    current = getattr(offline, "knowledge", None)
    searcher = getattr(current, "search", current)  # SearchMemo wraps the searcher
    if isinstance(searcher, KnowledgeSearcher):
        searcher.index = index
        _clear_memo(current)
    elif current is None and len(index.passages):
        thresholds = core.rules.thresholds
        bar = thresholds.answer_confidence if thresholds.answer_confidence is not None else thresholds.caution
        offline.knowledge = KnowledgeSearcher(index=index, threshold=bar)
        if offline is not core.engine and getattr(core.engine, "search", None) is None:
            from bot.llm.retrieval import install_memo

            core.engine.search = install_memo(offline)
    else:
        log.warning("knowledge refresh: the engine's search is a %s; not swapped (restart to use the new index)", type(current).__name__)
        return
    core.knowledge = index


def _clear_memo(memo: Any) -> None:
    """Forget a search memo's cached results (they point at the old index's passages)."""
    cache, lock = getattr(memo, "_cache", None), getattr(memo, "_lock", None)
    if cache is not None and lock is not None:
        with lock:
            cache.clear()
