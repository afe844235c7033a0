"""Time helpers shared by the operations modules: periods, UTC, percentiles, durations."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

_SINCE = re.compile(r"^\s*(\d+)\s*([mhdw])\s*$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def aware(value: datetime | None) -> datetime | None:
    """The same instant, timezone-aware; SQLite hands naive UTC datetimes back."""
    if value is None:
        return None
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


@dataclass(frozen=True, slots=True)
class Period:
    """A half-open interval [since, until) in UTC."""

    since: datetime
    until: datetime

    def contains(self, moment: datetime | None) -> bool:
        moment = aware(moment)
        return moment is not None and self.since <= moment < self.until

    @property
    def label(self) -> str:
        return f"{self.since:%Y-%m-%d %H:%M} to {self.until:%Y-%m-%d %H:%M} UTC"


def parse_since(*, text: str, now: datetime) -> datetime:
    """'7d', '24h', '2w', '90m' before now, or an ISO date/time such as 2026-11-01."""
    match = _SINCE.match(text)
    if match:
        return aware(now) - timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    try:
        return aware(datetime.fromisoformat(text.strip()))
    except ValueError:
        raise ValueError(f"'{text}' is not a period like 7d, 24h, 2w or a date like 2026-11-01") from None


def period_for(*, since: str | datetime, now: datetime, until: datetime | None = None) -> Period:
    """A Period from a CLI-style 'since' (text or datetime) up to ``until`` (default now)."""
    start = parse_since(text=since, now=now) if isinstance(since, str) else aware(since)
    return Period(since=start, until=aware(until or now))


def minutes_between(start: datetime | None, end: datetime | None) -> float | None:
    """Minutes from start to end, or None when either is missing."""
    if start is None or end is None:
        return None
    return (aware(end) - aware(start)).total_seconds() / 60


def percentile(values: list[float], q: float) -> float | None:
    """Linearly interpolated percentile (as numpy's default); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def ratio(numerator: int, denominator: int) -> float | None:
    """numerator / denominator, or None when nothing was counted."""
    return numerator / denominator if denominator else None


def iso_week(moment: datetime) -> str:
    """The ISO week of an instant, as '2026-W48' (the key of weekly jobs)."""
    year, week, _ = aware(moment).isocalendar()
    return f"{year}-W{week:02d}"
