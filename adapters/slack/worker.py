"""A background event loop for everything that happens after Slack's ack.

The core's store calls are synchronous. Run on the HTTP server's event loop, every database
write of a decision would hold up the acks of all other requests in flight; under a burst that
turned a 5 ms ack into seconds (benchmarks/slack_ack.py). Here the HTTP loop only verifies, acks
and hands over; turns, card actions and their Web API calls run on this loop, in its thread.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections.abc import Coroutine
from typing import Any

log = logging.getLogger(__name__)


class Worker:
    """One event loop in one daemon thread; ``submit`` hands it a coroutine from any thread."""

    def __init__(self, *, name: str = "baton-slack-worker") -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._inflight: set[concurrent.futures.Future] = set()

    def start(self) -> None:
        if not self._thread.is_alive():
            self._thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()
        self.loop.run_until_complete(self.loop.shutdown_asyncgens())
        self.loop.close()

    def submit(self, coroutine: Coroutine[Any, Any, Any]) -> concurrent.futures.Future:
        """Schedule ``coroutine`` on the worker loop; failures are logged, never lost."""
        future = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        self._inflight.add(future)
        future.add_done_callback(self._finished)
        return future

    def _finished(self, future: concurrent.futures.Future) -> None:
        self._inflight.discard(future)
        if not future.cancelled() and future.exception() is not None:
            log.error("slack background work failed", exc_info=future.exception())

    async def call(self, coroutine: Coroutine[Any, Any, Any]) -> Any:
        """Run ``coroutine`` on the worker loop and await its result from the caller's loop."""
        return await asyncio.wrap_future(self.submit(coroutine))

    async def idle(self, *, timeout: float) -> None:
        """Wait until the work submitted so far has finished (tests, shutdown)."""
        pending = [asyncio.wrap_future(f) for f in list(self._inflight)]
        if pending:
            await asyncio.wait(pending, timeout=timeout)

    async def stop(self) -> None:
        """Stop the loop and join the thread."""
        if self._thread.is_alive():
            self.loop.call_soon_threadsafe(self.loop.stop)
            await asyncio.to_thread(self._thread.join, 5.0)
