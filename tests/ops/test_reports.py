"""Reports: KPIs read back from a real store, terminal tables, the HTML page and its SVG charts."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest

from bot.ops.charts import kpi_charts_svg
from bot.ops.data import PeriodData
from bot.ops.digest import digest_text, stats_text
from bot.ops.kpis import compute_kpis, kpis_from
from bot.ops.period import Period, parse_since, period_for
from bot.ops.report import build_report, report_html, report_text, write_report
from tests.ops.fixtures import T0, answer_feedback, five_gaps, four_tickets, seed_store, six_decisions

WEEK = Period(since=T0, until=T0 + timedelta(days=7))
CHARTS = ("headline", "daily-volume", "precision-by-category", "precision-by-reason", "resolution-by-queue")
CHROMIUM = Path("/usr/bin/chromium")


def test_kpis_read_from_the_store_match_the_hand_computed_ones(store):
    seed_store(store)
    pure = kpis_from(PeriodData(period=WEEK, tickets=four_tickets(), decisions=six_decisions(), feedback=answer_feedback(), gaps=five_gaps()))
    assert compute_kpis(store=store, period=WEEK).to_dict() == pure.to_dict()
    assert compute_kpis(store=store, period=WEEK).precision.precision == pytest.approx(2 / 3)


def test_a_period_before_anything_happened_is_empty_not_an_error(store):
    seed_store(store)
    kpis = compute_kpis(store=store, period=Period(since=T0 - timedelta(days=30), until=T0 - timedelta(days=20)))
    assert (kpis.answers, kpis.precision.precision, kpis.gaps.opened, kpis.resolution.resolution.median) == (0, None, 0, None)


def test_since_accepts_durations_and_dates():
    assert parse_since(text="7d", now=T0) == T0 - timedelta(days=7)
    assert parse_since(text="36h", now=T0) == T0 - timedelta(hours=36)
    assert parse_since(text="2026-11-01", now=T0).isoformat() == "2026-11-01T00:00:00+00:00"
    assert period_for(since="2w", now=T0).since == T0 - timedelta(weeks=2)
    with pytest.raises(ValueError, match="not a period"):
        parse_since(text="last week", now=T0)


def test_terminal_report_has_tables_breakdowns_and_assumptions(store):
    seed_store(store)
    text = report_text(build_report(store=store, period=WEEK))
    assert "Escalation precision" in text and "67%" in text and "By category" in text and "By reason" in text
    assert "assumption:" in text and "How missed escalations are estimated" in text and "#3 asked 5x" in text


def test_html_report_is_self_contained_with_every_chart(store, tmp_path):
    seed_store(store)
    html = report_html(build_report(store=store, period=WEEK))
    assert all(f'data-chart="{name}"' in html for name in CHARTS)
    assert "<script" not in html and 'src="http' not in html and 'href="http' not in html
    empty = report_html(build_report(store=store, period=Period(since=T0 - timedelta(days=9), until=T0 - timedelta(days=8))))
    assert empty.count("<svg") == len(CHARTS) and "n/a" in empty


def test_charts_accept_kpis_or_their_json():
    kpis = kpis_from(PeriodData(period=WEEK, tickets=four_tickets(), decisions=six_decisions(), feedback=answer_feedback()))
    assert kpi_charts_svg(kpis) == kpi_charts_svg(json.loads(json.dumps(kpis.to_dict())))
    assert kpi_charts_svg(kpis).count('class="baton-chart"') == len(CHARTS)


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed (.ci/browser-deps.sh installs it)")
def test_html_report_opens_in_a_headless_browser_with_its_charts(store, tmp_path):
    seed_store(store)
    path = write_report(report=build_report(store=store, period=WEEK), path=tmp_path / "reports" / "week.html")
    command = [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", path.as_uri()]
    dom = subprocess.run(command, capture_output=True, text=True, timeout=120, check=True).stdout
    assert all(f'data-chart="{name}"' in dom for name in CHARTS)
    assert dom.count("<svg") == len(CHARTS) and 'class="bar"' in dom and "Baton report" in dom


def test_stats_text_for_the_slash_command(store):
    seed_store(store)
    text = stats_text(store=store, since="7d", now=T0 + timedelta(days=7))
    assert text.startswith("Baton, 2026-11-02 09:00 to 2026-11-09 09:00 UTC: 6 conversations, 5 answers, 2 handoffs")
    assert "Escalation precision: 67% (2/3" in text and "Knowledge gaps: 3 opened, 2 closed, 3 open" in text
    assert "n/a" in stats_text(store=store, since="1d", now=T0 - timedelta(days=10))


def test_digest_names_the_weakest_category_and_open_gaps(store):
    seed_store(store)
    text = digest_text(report=build_report(store=store, period=WEEK))
    assert text.startswith("*Baton weekly digest*")
    assert "Lowest escalation precision: how_to 0% (0/1)" in text and 'asked 5x: "question 3"' in text
    assert "most often missing: intent" in text
