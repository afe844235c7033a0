"""Durations as the rules and the ops settings write them: 15m, 4h, 2d (a bare number is minutes)."""

from __future__ import annotations

import re

_DURATION = re.compile(r"^\s*(\d+)\s*([mhd])\s*$")


def parse_duration(text: str | int) -> int:
    """Minutes in a duration written as 15m, 4h or 2d (a bare number is minutes)."""
    if isinstance(text, int):
        return text
    match = _DURATION.match(str(text))
    if not match:
        raise ValueError(f"'{text}' is not a duration like 15m, 4h or 2d")
    number, unit = int(match.group(1)), match.group(2)
    return number * {"m": 1, "h": 60, "d": 1440}[unit]
