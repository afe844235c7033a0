"""Formatting of KPI figures for people: percentages, durations, 'n/a' for nothing measured."""

from __future__ import annotations


def pct(value: float | None, *, digits: int = 0) -> str:
    """0.8333 -> '83%'; None -> 'n/a'."""
    return "n/a" if value is None else f"{value * 100:.{digits}f}%"


def duration(minutes: float | None) -> str:
    """Minutes as '42 min', '3.1 h' or '2.5 d'; None -> 'n/a'."""
    if minutes is None:
        return "n/a"
    if minutes < 90:
        return f"{minutes:.0f} min"
    if minutes < 48 * 60:
        return f"{minutes / 60:.1f} h"
    return f"{minutes / 1440:.1f} d"


def fraction(hits: int, total: int) -> str:
    """'3/4'."""
    return f"{hits}/{total}"


def table(*, headers: list[str], rows: list[list[str]], left: tuple[int, ...] = (0,)) -> str:
    """A plain-text table with aligned columns (those in ``left`` left-aligned, the rest right)."""
    widths = [max(len(str(c)) for c in column) for column in zip(headers, *rows)]

    def line(cells: list[str]) -> str:
        return "  ".join(str(c).ljust(w) if i in left else str(c).rjust(w) for i, (c, w) in enumerate(zip(cells, widths))).rstrip()
    return "\n".join([line(headers), "  ".join("-" * w for w in widths), *[line(r) for r in rows]])
