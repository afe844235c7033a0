"""Store calls off the event loop: a bounded pool of threads, awaited.

The store is synchronous (SQLAlchemy sessions). Called on an event loop, every query and commit
holds up everything else on that loop: under load the Slack worker's loop spent most of its time
blocked in SQLite calls, and on PostgreSQL in network round trips, while other turns waited to
post their replies. The customer-turn path (dialogue, ticket desk, cards, delivery log) awaits
its store calls here instead, so a loop keeps serving other conversations while one waits for the
database. One conversation's calls stay in order: each is awaited before the next.

``StoreThreads(threads=0)`` runs calls inline, on the caller's thread: for components built on
their own (tests, tools) where no loop is shared.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


class StoreThreads:
    """Runs blocking store calls on at most ``threads`` threads (0: inline)."""

    def __init__(self, *, threads: int) -> None:
        if threads < 0:
            raise ValueError("threads must be 0 (inline) or more")
        self.threads = threads
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="baton-store") if threads else None

    async def run(self, call: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """``call(*args, **kwargs)`` on a store thread; the caller's context (log fields) goes along."""
        if self._pool is None:
            return call(*args, **kwargs)
        context = contextvars.copy_context()
        return await asyncio.get_running_loop().run_in_executor(self._pool, functools.partial(context.run, call, *args, **kwargs))

    def close(self) -> None:
        """Let running calls finish; no new ones start."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)


INLINE = StoreThreads(threads=0)
