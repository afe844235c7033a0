"""The KPI arithmetic against hand-computed figures, including an empty period."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.ops.data import PeriodData
from bot.ops.kpis import Rate, escalation_precision, gap_closure, handoff_completeness, kpis_from, missed_escalations
from bot.ops.period import Period, percentile
from bot.ops.timing import Spread, resolution_times
from tests.ops.fixtures import T0, answer_feedback, five_gaps, four_tickets, six_decisions

WEEK = Period(since=T0, until=T0 + timedelta(days=7))


def test_percentile_is_linearly_interpolated():
    assert percentile([10, 20, 30, 40], 50) == 25
    assert percentile([5, 10, 30], 90) == pytest.approx(26)
    assert percentile([], 50) is None


def test_escalation_precision_counts_only_rated_handoffs():
    result = escalation_precision(tickets=four_tickets())
    assert (result.escalations, result.rated, result.needed) == (4, 3, 2)
    assert result.precision == pytest.approx(2 / 3)
    assert result.feedback_coverage == pytest.approx(3 / 4)
    assert result.breakdown["queue"] == {"billing": Rate(1, 1, 1.0), "support": Rate(1, 2, 0.5)}
    assert result.breakdown["reason"] == {"high_value": Rate(1, 1, 1.0), "low_confidence": Rate(1, 2, 0.5), "policy_risk": Rate(1, 1, 1.0)}
    assert result.breakdown["category"]["(none)"] == Rate(1, 1, 1.0)


def test_missed_escalations_from_feedback_reviews_and_follow_ups():
    result = missed_escalations(decisions=six_decisions(), feedback=answer_feedback())
    assert (result.answers, result.flagged) == (5, 3)  # d1 not helpful, d4 asked for a person next, d6 reviewed
    assert result.rate == pytest.approx(0.6)
    assert (result.reviewed, result.review_flagged) == (3, 1)  # d3's later 'fine' replaces its 'should escalate'
    assert result.review_rate == pytest.approx(1 / 3)
    assert result.signals == {"asked_for_person_after_answer": 1, "not_helpful": 1, "review_should_escalate": 1}
    assert result.breakdown["category"] == {"how_to": Rate(2, 2, 1.0), "integrations": Rate(1, 1, 1.0), "invoices": Rate(0, 2, 0.0)}
    assert "reviewer" in result.method


def test_handoff_completeness_checks_seven_fields_and_agent_ratings():
    result = handoff_completeness(tickets=four_tickets())
    assert (result.handoffs, result.complete, result.auto_rate) == (4, 3, 0.75)
    assert result.missing_fields == {"intent": 1, "recommendation": 1}
    assert (result.rated, result.rated_complete, result.agent_rate) == (2, 1, 0.5)
    assert result.agent_missing == {"sources": 1}
    assert result.breakdown["queue"]["security"] == Rate(0, 1, 0.0)


def test_resolution_times_median_p90_claim_and_first_response():
    result = resolution_times(tickets=four_tickets(), period=WEEK)
    assert (result.handoffs, result.resolved, result.unresolved) == (4, 3, 1)
    assert result.resolution == Spread(3, 120, pytest.approx(216))
    assert result.to_claim == Spread(3, 10, pytest.approx(26))
    assert result.to_first_reply == Spread(3, 20, pytest.approx(76))
    assert (result.first_response_met, result.first_response_judged, result.first_response_rate) == (2, 4, 0.5)
    assert result.by_queue == {"billing": Spread(1, 60, 60), "support": Spread(2, 180, pytest.approx(228))}


def test_first_response_still_pending_is_not_judged():
    result = resolution_times(tickets=four_tickets()[3:], period=Period(since=T0, until=T0 + timedelta(minutes=30)))
    assert result.first_response_judged == 0 and result.first_response_rate is None


def test_gap_closure_opened_closed_open_and_time_to_close():
    result = gap_closure(gaps=five_gaps(), period=WEEK)
    assert (result.opened, result.closed, result.open_at_end) == (3, 2, 3)
    assert result.closure_rate == pytest.approx(1 / 3)
    assert result.median_hours_to_close == pytest.approx(36)
    assert result.closed_by_doc == {"curling": 2}
    assert [g["id"] for g in result.top_open] == [3, 5, 4]


def test_empty_period_gives_zeros_and_none():
    kpis = kpis_from(PeriodData(period=WEEK))
    assert (kpis.answers, kpis.escalations, kpis.conversations) == (0, 0, 0)
    assert kpis.precision.precision is None and kpis.precision.breakdown == {"category": {}, "queue": {}, "reason": {}}
    assert kpis.missed.rate is None and kpis.missed.review_rate is None
    assert kpis.completeness.auto_rate is None and kpis.completeness.agent_rate is None
    assert kpis.resolution.resolution == Spread(0, None, None)
    assert kpis.gaps.closure_rate is None and kpis.gaps.median_hours_to_close is None
    assert len(kpis.daily) == 8 and all(d["answers"] == 0 for d in kpis.daily)
    assert kpis.to_dict()["precision"]["precision"] is None


def test_daily_volume_counts_by_day():
    kpis = kpis_from(PeriodData(period=WEEK, decisions=six_decisions()))
    assert kpis.daily[0] == {"day": "2026-11-02", "answers": 5, "escalations": 2}
    assert (kpis.conversations, kpis.answers, kpis.escalations) == (6, 5, 2)
