"""The daily token budget: after it is spent, the bot decides offline until midnight UTC.

Usage is kept per UTC day without a table of its own. At the first use of each day the total
is seeded from the store (the sum of ``decisions.tokens`` saved since midnight UTC, so a restart
does not reset the count) and afterwards counted in memory as calls return. Without a store it
is in memory only, so a restart starts the day at zero. Several processes sharing a database
each seed from it at the start of the day but count their own calls in memory afterwards, so
together they may overspend by what the others used that day; run one worker or lower the
budget accordingly.

A budget of 0 allows no calls at all. A call that is already running when the budget runs out
is still counted, so the day can end slightly above the budget (by at most one call per worker
thread).
"""

from __future__ import annotations

import logging
import threading
from datetime import date, datetime, time, timezone
from typing import Any, Callable

from bot.types import utcnow

log = logging.getLogger(__name__)

__all__ = ["DailyBudget"]


class DailyBudget:
    """Tokens spent today (UTC) against a daily limit; thread-safe."""

    def __init__(self, *, limit: int, store: Any = None, clock: Callable[[], datetime] = utcnow) -> None:
        self.limit = max(0, int(limit))
        self.store = store
        self.clock = clock
        self._day: date | None = None
        self._used = 0
        self._lock = threading.Lock()

    @property
    def used(self) -> int:
        """Tokens spent so far today."""
        with self._lock:
            self._roll()
            return self._used

    def allows(self) -> bool:
        """True while today's spend is below the limit."""
        return self.used < self.limit

    def spend(self, tokens: int) -> None:
        """Count tokens a call used (failed attempts included)."""
        if tokens <= 0:
            return
        with self._lock:
            self._roll()
            self._used += tokens
            if self._used >= self.limit:
                log.warning("daily LLM token budget reached (%d of %d); deciding offline until midnight UTC", self._used, self.limit)

    def _roll(self) -> None:
        """Start a new day: seed today's spend from the store (caller holds the lock)."""
        today = self.clock().astimezone(timezone.utc).date()
        if today != self._day:
            self._day, self._used = today, self._seed(today)

    def _seed(self, today: date) -> int:
        if self.store is None:
            return 0
        midnight = datetime.combine(today, time.min, tzinfo=timezone.utc)
        try:
            return sum(int(row.tokens or 0) for row in self.store.decisions(since=midnight))
        except Exception:  # a store problem must not stop the bot: count from zero
            log.exception("could not read today's token use from the store")
            return 0
