"""`baton report --since 7d`: the five KPIs and time saved, as terminal tables and an HTML page.

The HTML report is one self-contained file (inline CSS and SVG charts, no script, no CDN), so it
opens offline, from a shared drive or as an email attachment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from html import escape
from pathlib import Path
from string import Template

from bot.ops.charts import kpi_charts_svg
from bot.ops.config import TimeSavedBaseline
from bot.ops.data import load_period
from bot.ops.fmt import duration, fraction, pct, table
from bot.ops.kpis import Kpis, kpis_from
from bot.ops.period import Period
from bot.ops.time_saved import TimeSaved, time_saved
from bot.store.repo import Store
from bot.types import utcnow

TEMPLATE = Path(__file__).with_name("report_template.html")


@dataclass
class Report:
    """One period's KPIs and time-saved estimate."""

    period: Period
    kpis: Kpis
    saved: TimeSaved
    generated_at: datetime


def build_report(*, store: Store, period: Period, baseline: TimeSavedBaseline | None = None) -> Report:
    data = load_period(store=store, period=period)
    return Report(period, kpis_from(data), time_saved(data=data, baseline=baseline or TimeSavedBaseline()), utcnow())


def headline_rows(kpis: Kpis) -> list[list[str]]:
    """[KPI, value, based on] for the five KPIs."""
    p, m, c, r, g = kpis.precision, kpis.missed, kpis.completeness, kpis.resolution, kpis.gaps
    return [
        ["Escalation precision", pct(p.precision), f"{fraction(p.needed, p.rated)} rated handoffs needed a person; {pct(p.feedback_coverage)} of {p.escalations} handoffs rated"],
        ["Missed escalations (flagged)", pct(m.rate, digits=1), f"{fraction(m.flagged, m.answers)} answers flagged later (a lower bound)"],
        ["Missed escalations (reviewed)", pct(m.review_rate, digits=1), f"{fraction(m.review_flagged, m.reviewed)} reviewed answers should have been escalated"],
        ["Handoff completeness (7 fields)", pct(c.auto_rate), f"{fraction(c.complete, c.handoffs)} cards had all seven fields"],
        ["Handoff completeness (agents)", pct(c.agent_rate), f"{fraction(c.rated_complete, c.rated)} agents said the card had what they needed"],
        ["Resolution after handoff", duration(r.resolution.median), f"median; p90 {duration(r.resolution.p90)}; {r.resolved} resolved, {r.unresolved} open"],
        ["Time to claim", duration(r.to_claim.median), f"median; p90 {duration(r.to_claim.p90)}; first reply median {duration(r.to_first_reply.median)}"],
        ["First-response SLA met", pct(r.first_response_rate), fraction(r.first_response_met, r.first_response_judged)],
        ["Knowledge gaps closed", pct(g.closure_rate), f"{g.opened} opened, {g.closed} closed, {g.open_at_end} open; median {_hours(g.median_hours_to_close)} to close"],
    ]


def _hours(value: float | None) -> str:
    return duration(None if value is None else value * 60)


def breakdown_rows(kpis: Kpis, *, dimension: str) -> list[list[str]]:
    """Per category / queue / reason: handoffs, precision, card completeness, answers and missed."""
    precision = kpis.precision.breakdown.get(dimension, {})
    complete = kpis.completeness.breakdown.get(dimension, {})
    missed = kpis.missed.breakdown.get(dimension, {})
    rows = []
    for key in sorted(set(precision) | set(complete) | set(missed)):
        p, c, m = precision.get(key), complete.get(key), missed.get(key)
        rows.append([key, str(c.total if c else 0), f"{pct(p.value)} ({fraction(p.hits, p.total)})" if p else "n/a",
                     pct(c.value) if c else "n/a", str(m.total) if m else "-", f"{pct(m.value)} ({fraction(m.hits, m.total)})" if m else "-"])
    return rows


BREAKDOWN_HEADERS = ["", "handoffs", "precision", "cards complete", "answers", "missed (flagged)"]


def report_text(report: Report) -> str:
    """Terminal tables: headline KPIs, breakdowns, open gaps and time saved with assumptions."""
    k, s = report.kpis, report.saved
    parts = [f"Baton report, {report.period.label}", f"{k.conversations} conversations: {k.answers} answers, {k.escalations} escalations", "",
             table(headers=["KPI", "value", "based on"], rows=headline_rows(k), left=(0, 2))]
    for dimension in ("category", "queue", "reason"):
        rows = breakdown_rows(k, dimension=dimension)
        parts += ["", f"By {dimension}", table(headers=[dimension, *BREAKDOWN_HEADERS[1:]], rows=rows) if rows else "  (nothing in this period)"]
    if k.gaps.top_open:
        parts += ["", "Open knowledge gaps (most asked)", *[f"  #{g['id']} asked {g['count']}x: {g['question']}" for g in k.gaps.top_open]]
    parts += ["", f"Human time saved: about {s.total_hours:.1f} h ({s.conversations_without_person} conversations without a person, "
              f"{s.triage_minutes:.0f} min of triage on {s.handoffs_measured} handoffs)", *[f"  assumption: {a}" for a in s.assumptions],
              "", f"How missed escalations are estimated: {k.missed.method}"]
    return "\n".join(parts)


def _html_table(*, headers: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body or '<tr><td colspan=9>Nothing in this period.</td></tr>'}</tbody></table>"


def _breakdowns_html(kpis: Kpis) -> str:
    return "".join(f"<h3>By {d}</h3>" + _html_table(headers=[d, *BREAKDOWN_HEADERS[1:]], rows=breakdown_rows(kpis, dimension=d)) for d in ("category", "queue", "reason"))


def report_html(report: Report) -> str:
    """The whole report as one self-contained HTML page."""
    k, s = report.kpis, report.saved
    gaps = [[f"#{g['id']}", str(g["count"]), g["question"]] for g in k.gaps.top_open]
    return Template(TEMPLATE.read_text(encoding="utf-8")).substitute(
        period=escape(report.period.label), generated=f"{report.generated_at:%Y-%m-%d %H:%M} UTC",
        volume=escape(f"{k.conversations} conversations: {k.answers} answers, {k.escalations} escalations"),
        headline=_html_table(headers=["KPI", "value", "based on"], rows=headline_rows(k)),
        charts=kpi_charts_svg(k), breakdowns=_breakdowns_html(k),
        gaps=_html_table(headers=["gap", "asked", "question"], rows=gaps),
        saved=escape(f"About {s.total_hours:.1f} hours: {s.conversations_without_person} conversations without a person "
                     f"({s.answer_minutes:.0f} min) and {s.triage_minutes:.0f} min of triage on {s.handoffs_measured} handoffs."),
        assumptions="".join(f"<li>{escape(a)}</li>" for a in s.assumptions), method=escape(k.missed.method),
    )


def write_report(*, report: Report, path: Path) -> Path:
    """Write the HTML report (creating its folder) and return its path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(report_html(report), encoding="utf-8")
    return path
