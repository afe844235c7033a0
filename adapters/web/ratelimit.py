"""A per-client sliding-window limit (customer chat, admin-token attempts), kept in memory.

Each process keeps its own windows: with N replicas a client gets at most N times the limit,
which still bounds what one client can cost. Idle clients are forgotten.
"""

from __future__ import annotations

import math
import time
from collections import deque


class SlidingWindowLimiter:
    """At most ``limit`` events per ``window_seconds`` per key."""

    def __init__(self, *, limit: int, window_seconds: float = 60.0, clock=time.monotonic, max_keys: int = 10_000) -> None:
        self.limit = limit
        self.window = window_seconds
        self._clock = clock
        self._max_keys = max_keys
        self._events: dict[str, deque[float]] = {}

    def allow(self, *, key: str) -> tuple[bool, int]:
        """(allowed, seconds to wait before the next event is allowed)."""
        now = self._clock()
        events = self._events.setdefault(key, deque())
        while events and events[0] <= now - self.window:
            events.popleft()
        if len(events) >= self.limit:
            return False, max(1, math.ceil(events[0] + self.window - now))
        events.append(now)
        if len(self._events) > self._max_keys:
            self._forget_idle(now=now)
        return True, 0

    def _forget_idle(self, *, now: float) -> None:
        for key in [k for k, events in self._events.items() if not events or events[-1] <= now - self.window]:
            del self._events[key]
