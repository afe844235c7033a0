"""Inline SVG charts of the KPIs: no JavaScript, no CDN, so the report works offline and in email.

``kpi_charts_svg`` is shared by the HTML report and the sandbox dashboard. Charts work on the
KPIs' plain-dict form (``Kpis.to_dict()``), so a dashboard can also chart KPIs it got as JSON.
Every chart is an ``<svg class="baton-chart" data-chart="...">`` with a ``<title>`` for screen
readers; a figure that was not measured is drawn as 'n/a', never as zero.
"""

from __future__ import annotations

from html import escape
from typing import Any

from bot.ops.fmt import duration, pct

COLOURS = {"bar": "#3867d6", "alt": "#a5b1c2", "answers": "#20bf6b", "escalations": "#eb3b5a", "text": "#2d3436", "grid": "#dfe4ea"}
LABEL_W, BAR_W, ROW_H = 210, 300, 26


def _svg(*, name: str, title: str, width: int, height: int, body: list[str]) -> str:
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" class="baton-chart" data-chart="{name}" role="img" '
            f'aria-label="{escape(title)}" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
            f'font-family="system-ui, sans-serif" font-size="12">')
    caption = f'<title>{escape(title)}</title><text x="0" y="16" font-size="14" font-weight="600" fill="{COLOURS["text"]}">{escape(title)}</text>'
    return "".join([head, caption, *body, "</svg>"])


def _bar_row(*, y: int, label: str, value: float | None, top: float, text: str, colour: str) -> list[str]:
    parts = [f'<text x="0" y="{y + 15}" fill="{COLOURS["text"]}">{escape(label[:32])}</text>',
             f'<rect x="{LABEL_W}" y="{y + 3}" width="{BAR_W}" height="{ROW_H - 8}" fill="{COLOURS["grid"]}"/>']
    if value is not None and top > 0:
        width = max(1.0, BAR_W * min(value, top) / top)
        parts.append(f'<rect class="bar" x="{LABEL_W}" y="{y + 3}" width="{width:.1f}" height="{ROW_H - 8}" fill="{colour}"/>')
    parts.append(f'<text x="{LABEL_W + BAR_W + 8}" y="{y + 15}" fill="{COLOURS["text"]}">{escape(text)}</text>')
    return parts


def hbar_chart(*, name: str, title: str, bars: list[tuple[str, float | None, str]], top: float = 1.0, colour: str = COLOURS["bar"]) -> str:
    """Horizontal bars: (label, value or None, value text), scaled to ``top``."""
    body: list[str] = []
    for i, (label, value, text) in enumerate(bars or [("no data in this period", None, "n/a")]):
        body += _bar_row(y=28 + i * ROW_H, label=label, value=value, top=top, text=text, colour=colour)
    return _svg(name=name, title=title, width=LABEL_W + BAR_W + 110, height=36 + max(1, len(bars)) * ROW_H, body=body)


def headline_chart(kpis: dict[str, Any]) -> str:
    """The five KPIs' rates side by side (lower is better for missed escalations)."""
    rates = [
        ("Escalation precision", kpis["precision"]["precision"]),
        ("Missed escalations (flagged)", kpis["missed"]["rate"]),
        ("Missed escalations (reviewed)", kpis["missed"]["review_rate"]),
        ("Cards complete (7 fields)", kpis["completeness"]["auto_rate"]),
        ("Cards complete (agents)", kpis["completeness"]["agent_rate"]),
        ("First-response SLA met", kpis["resolution"]["first_response_rate"]),
        ("Gaps opened and closed", kpis["gaps"]["closure_rate"]),
    ]
    return hbar_chart(name="headline", title="The KPIs at a glance", bars=[(label, v, pct(v)) for label, v in rates])


def precision_chart(kpis: dict[str, Any], *, dimension: str = "category") -> str:
    """Escalation precision per category (or queue, or reason), with how many handoffs were rated."""
    rows = kpis["precision"]["breakdown"].get(dimension, {})
    bars = [(key, r["value"], f"{pct(r['value'])} ({r['hits']}/{r['total']})") for key, r in rows.items()]
    return hbar_chart(name=f"precision-by-{dimension}", title=f"Escalation precision by {dimension}", bars=bars)


def resolution_chart(kpis: dict[str, Any]) -> str:
    """Median and p90 resolution time after handoff, per queue."""
    spreads = kpis["resolution"]["by_queue"]
    top = max([s["p90"] or 0 for s in spreads.values()] + [1])
    bars = []
    for queue, s in spreads.items():
        bars += [(f"{queue} median", s["median"], duration(s["median"])), (f"{queue} p90", s["p90"], f"{duration(s['p90'])} (n={s['n']})")]
    return hbar_chart(name="resolution-by-queue", title="Resolution time after handoff, by queue", bars=bars, top=top)


def volume_chart(kpis: dict[str, Any]) -> str:
    """Answers and escalations per day, stacked columns."""
    days = kpis["daily"] or [{"day": "-", "answers": 0, "escalations": 0}]
    top = max([d["answers"] + d["escalations"] for d in days] + [1])
    step, height = max(8, min(48, 560 // len(days))), 160
    body = [f'<text x="380" y="16" fill="{COLOURS["answers"]}">■ answers</text>', f'<text x="470" y="16" fill="{COLOURS["escalations"]}">■ escalations</text>']
    for i, day in enumerate(days):
        x, base = 10 + i * step, 30 + height
        answered, escalated = height * day["answers"] / top, height * day["escalations"] / top
        body.append(f'<rect class="bar" x="{x}" y="{base - answered:.1f}" width="{step - 3}" height="{answered:.1f}" fill="{COLOURS["answers"]}"><title>{day["day"]}: {day["answers"]} answers</title></rect>')
        body.append(f'<rect class="bar" x="{x}" y="{base - answered - escalated:.1f}" width="{step - 3}" height="{escalated:.1f}" fill="{COLOURS["escalations"]}"><title>{day["day"]}: {day["escalations"]} escalations</title></rect>')
        if len(days) <= 16 or i % 7 == 0:
            body.append(f'<text x="{x}" y="{base + 14}" font-size="10" fill="{COLOURS["text"]}">{escape(day["day"][5:])}</text>')
    return _svg(name="daily-volume", title=f"Answers and escalations per day (max {top})", width=600, height=height + 52, body=body)


def kpi_charts_svg(kpis: Any) -> str:
    """Every KPI chart as inline SVG in one ``<div class="baton-charts">`` (a Kpis or its dict)."""
    data = kpis.to_dict() if hasattr(kpis, "to_dict") else kpis
    charts = [headline_chart(data), volume_chart(data), precision_chart(data), precision_chart(data, dimension="reason"), resolution_chart(data)]
    return '<div class="baton-charts">' + "".join(f'<figure class="chart">{c}</figure>' for c in charts) + "</div>"
