"""Run the OpenAI stand-in on its own event loop in a background thread.

The LLM engine is synchronous (the core calls it in a worker thread), so its tests and the
token benchmark are plain synchronous code; the stand-in keeps serving from its own loop.
"""

from __future__ import annotations

import asyncio
import threading

from standins.openai_server import OpenAIStandIn


class ThreadedStandIn:
    """``with ThreadedStandIn(expected_model=...) as llm:`` gives a started :class:`OpenAIStandIn`."""

    def __init__(self, **options) -> None:
        self.standin = OpenAIStandIn(**options)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="openai-standin", daemon=True)

    def __enter__(self) -> OpenAIStandIn:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.standin.start(), self._loop).result(timeout=10)
        return self.standin

    def __exit__(self, *exc_info: object) -> None:
        asyncio.run_coroutine_threadsafe(self.standin.stop(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()
