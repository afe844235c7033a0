"""Turn scheduling: join quick successive messages, decide one turn at a time per conversation.

Customers often send a question in two or three quick messages. Each (group, author) gets a
short quiet window (the debounce); when it passes, the buffered posts are handed over together.
The caller picks the group (a thread, or a channel's top-level posts) and holds ``lock`` of the
conversation it decides, so one conversation's turns run one at a time and answers arrive in
order. At most ``limit`` turns run at once: a burst of customers queues up instead of starving
everything else of the CPU (each running turn computes embeddings and writes to the store).
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger(__name__)


class TurnQueue:
    """Debounces posts per (group, author); bounds how many turns run; keeps per-conversation locks."""

    def __init__(self, *, delay: float, handle: Callable[[list[Any]], Awaitable[None]], limit: int = 2) -> None:
        self.delay = delay
        self.limit = limit
        self._handle = handle
        self._slots: asyncio.Semaphore | None = None
        self._pending: dict[tuple[str, str], list[Any]] = {}
        self._arrived: dict[tuple[str, str], float] = {}
        self._runners: dict[tuple[str, str], asyncio.Task] = {}
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
        self._tasks: set[asyncio.Task] = set()

    def lock(self, conversation: str) -> asyncio.Lock:
        """The lock that keeps one conversation's turns in order."""
        lock = self._locks.get(conversation)
        if lock is None:
            lock = self._locks[conversation] = asyncio.Lock()
        return lock

    def add(self, *, group: str, author: str, item: Any) -> None:
        """Buffer one post; a runner hands the batch over once the author has been quiet."""
        key = (group, author)
        self._pending.setdefault(key, []).append(item)
        self._arrived[key] = asyncio.get_running_loop().time()
        if key not in self._runners:
            self._runners[key] = self.spawn(self._run(key))

    def revise(self, change: Callable[[Any], Any | None]) -> int:
        """Apply ``change`` to every buffered item (an edit; None drops it, a deletion).

        Returns how many items changed, so the caller knows whether the store must be told.
        """
        changed = 0
        for key, items in list(self._pending.items()):
            revised = [change(item) for item in items]
            changed += sum(1 for old, new in zip(items, revised) if new is not old)
            kept = [item for item in revised if item is not None]
            if kept:
                self._pending[key] = kept
            else:
                del self._pending[key]
        return changed

    def spawn(self, coroutine: Awaitable[None]) -> asyncio.Task:
        """Run work in the background, keeping a reference until it ends (for drain)."""
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _run(self, key: tuple[str, str]) -> None:
        try:
            while self._pending.get(key):
                await self._quiet(key)
                batch = self._pending.pop(key, [])
                if not batch:
                    continue  # everything buffered was deleted meanwhile
                async with self._running():
                    await self._safely(batch)
        finally:
            self._runners.pop(key, None)
            self._arrived.pop(key, None)

    def _running(self) -> asyncio.Semaphore:
        """The semaphore bounding concurrent turns (made on first use, on the loop that runs them)."""
        if self._slots is None:
            self._slots = asyncio.Semaphore(max(1, self.limit))
        return self._slots

    async def _quiet(self, key: tuple[str, str]) -> None:
        """Sleep until ``delay`` seconds passed since the author's last post."""
        loop = asyncio.get_running_loop()
        while (remaining := self._arrived.get(key, 0.0) + self.delay - loop.time()) > 0:
            await asyncio.sleep(remaining)

    async def _safely(self, batch: list[Any]) -> None:
        """The error boundary of a batch: log and carry on with the next one."""
        try:
            await self._handle(batch)
        except Exception:
            log.exception("slack turn failed")

    async def drain(self, *, timeout: float) -> None:
        """Wait for buffered and running turns (on shutdown), then cancel what is left."""
        pending = list(self._tasks)
        if not pending:
            return
        done, late = await asyncio.wait(pending, timeout=timeout)
        for task in late:
            task.cancel()
