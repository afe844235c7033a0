"""Blocking calls off the event loop: bounded pools of threads, awaited.

Two kinds of blocking work run in a customer turn, each on a pool of its own:

* **store calls** (SQLAlchemy sessions). Called on an event loop, every query and commit holds up
  everything else on that loop. With PostgreSQL a round trip away (2.6 ms in
  ``benchmarks/load.py --database-rtt-ms 1``) one process decided 5.2 turns a second with its
  store calls on the loop and 17.7 with them on 4 store threads. On SQLite or a server on the same
  host a round trip is a tenth of a millisecond: a thread hop costs more than it frees, and the
  extra threads slow the acks down, so store calls run inline there
  (``Settings.effective_store_threads``; docs/reliability.md has the figures).
* **decisions** (the engine: an embedding, the category model, the search). They wait for the
  encoder's shared forward passes, so they get a pool sized for the turns decided at once (8)
  rather than the loop's default pool (6 threads on 2 cores), which other blocking calls share.

One conversation's calls stay in order: each is awaited before the next. ``Threads(threads=0)``
runs calls inline, on the caller's thread: for components built on their own (tests, tools).
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


class Threads:
    """Runs blocking calls on at most ``threads`` threads named ``name`` (0: inline)."""

    def __init__(self, *, threads: int, name: str = "baton-store") -> None:
        if threads < 0:
            raise ValueError("threads must be 0 (inline) or more")
        self.threads = threads
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix=name) if threads else None

    async def run(self, call: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """``call(*args, **kwargs)`` on one of the threads; the caller's context (log fields) goes along."""
        if self._pool is None:
            return call(*args, **kwargs)
        context = contextvars.copy_context()
        return await asyncio.get_running_loop().run_in_executor(self._pool, functools.partial(context.run, call, *args, **kwargs))

    def close(self) -> None:
        """Let running calls finish; no new ones start."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)


INLINE = Threads(threads=0)
