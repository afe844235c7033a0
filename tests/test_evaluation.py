"""`baton eval` arithmetic and suite validation, on hand-made suites."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.evaluation import Case, Suite, SuiteError, figures, load_suite, percentile, suite_rules
from bot.types import Action, CategoryGuess, Decision, Reason, Source, Trigger


def decision(*, escalate: bool, category: str | None = None, reasons: tuple[Reason, ...] = (), source: str | None = None) -> Decision:
    d = Decision(action=Action.ESCALATE if escalate else Action.ANSWER, category=CategoryGuess(category, 0.9))
    d.triggers = [Trigger(r, "x") for r in reasons]
    d.sources = [Source(source, source, "", None, 1.0)] if source else []
    return d


def case(*, escalate: bool, category: str | None = None, reasons: tuple[str, ...] = (), source: str | None = None) -> Case:
    return Case("c", "text", (), escalate, reasons, category, source)


def test_routing_figures_by_hand():
    cases = [
        case(escalate=True, category="lost_card", reasons=("policy_risk",)),   # TP, right category
        case(escalate=True, category=None, reasons=("low_confidence",)),       # TP, oos caught
        case(escalate=True, category="refund", reasons=("high_value",)),       # FN (answered)
        case(escalate=False, category="balance"),                              # FP (escalated, wrong reason)
        case(escalate=False, category="balance"),                              # TN
        case(escalate=False, category="fees"),                                 # TN, wrong category
    ]
    decisions = [
        decision(escalate=True, category="lost_card", reasons=(Reason.POLICY_RISK,)),
        decision(escalate=True, category=None, reasons=(Reason.LOW_CONFIDENCE,)),
        decision(escalate=False, category="balance"),
        decision(escalate=True, category="balance", reasons=(Reason.POLICY_RISK,)),
        decision(escalate=False, category="balance"),
        decision(escalate=False, category="balance"),
    ]
    suite = Suite("s", "routing", Path("."), cases)
    result = figures(suite=suite, decisions=decisions, latencies=[1.0, 2.0, 3.0, 4.0, 5.0, 100.0])
    assert result["escalation_precision"] == round(2 / 3, 4)
    assert result["escalation_recall"] == round(2 / 3, 4)
    assert result["missed_escalation_rate"] == round(1 / 3, 4)   # 1 FN among 3 answered
    assert result["decision_accuracy"] == round(4 / 6, 4)
    assert result["mcc"] == round((2 * 2 - 1 * 1) / ((3 * 3 * 3 * 3) ** 0.5), 4)
    assert result["in_scope_accuracy"] == round(3 / 5, 4)
    assert result["oos_recall"] == 1.0
    assert result["reasons"]["policy_risk"] == {"precision": 0.5, "recall": 1.0}
    assert result["reasons"]["high_value"] == {"precision": None, "recall": 0.0}
    assert result["latency_ms"] == {"p50": 3.0, "p95": 100.0}
    assert result["source_accuracy"] is None


def test_knowledge_figures_by_hand():
    cases = [case(escalate=False, source="d1"), case(escalate=False, source="d2"), case(escalate=False, source="d3"), case(escalate=True, reasons=("low_confidence",))]
    decisions = [decision(escalate=False, source="d1"), decision(escalate=False, source="dX"), decision(escalate=True, reasons=(Reason.LOW_CONFIDENCE,)), decision(escalate=True, reasons=(Reason.LOW_CONFIDENCE,))]
    result = figures(suite=Suite("k", "knowledge", Path("."), cases), decisions=decisions, latencies=[1.0] * 4)
    assert result["source_accuracy"] == 0.5
    assert result["answer_rate_answerable"] == round(2 / 3, 4)
    assert result["unanswerable_recall"] == 1.0
    assert result["in_scope_accuracy"] is None


def test_empty_suite_has_no_division_by_zero():
    result = figures(suite=Suite("e", "signals", Path("."), []), decisions=[], latencies=[])
    assert result["escalation_precision"] is None and result["latency_ms"] == {"p50": 0.0, "p95": 0.0}


def test_percentile_nearest_rank():
    assert percentile([5.0], 95) == 5.0
    assert percentile(list(map(float, range(1, 101))), 95) == 95.0


def write_suite(folder: Path, *, mode: str = "routing", cases: list[dict] | None = None, categories: list[dict] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "suite.json").write_text(json.dumps({"name": folder.name, "mode": mode}))
    (folder / "cases.jsonl").write_text("\n".join(json.dumps(c) for c in (cases or [])))
    if categories is not None:
        (folder / "categories.jsonl").write_text("\n".join(json.dumps(c) for c in categories))
    return folder


def test_suite_validation_messages(tmp_path):
    with pytest.raises(SuiteError, match="suite.json"):
        load_suite(path=tmp_path)
    bad_mode = write_suite(tmp_path / "a", mode="vibes")
    with pytest.raises(SuiteError, match="mode"):
        load_suite(path=bad_mode)
    no_categories = write_suite(tmp_path / "b", cases=[{"text": "hi", "expect": {"escalate": False}}])
    with pytest.raises(SuiteError, match="categories.jsonl"):
        load_suite(path=no_categories)
    broken = write_suite(tmp_path / "c", cases=[{"text": "hi"}], categories=[])
    with pytest.raises(SuiteError, match=r"cases.jsonl:1"):
        load_suite(path=broken)
    (tmp_path / "c" / "cases.jsonl").write_text("{not json")
    with pytest.raises(SuiteError, match="not valid JSON"):
        load_suite(path=tmp_path / "c")


def test_suite_categories_become_rules(tmp_path):
    folder = write_suite(tmp_path / "r", cases=[{"id": "1", "text": "lost my card", "history": [{"role": "customer", "text": "hello"}], "expect": {"escalate": True, "reasons": ["policy_risk"], "category": "lost", "source": None}}],
                         categories=[{"name": "lost", "description": "Lost card", "automation": "human_only", "reason": "policy_risk", "risk": "security", "examples": ["I lost my card"]},
                                     {"name": "fees", "description": "Fees", "automation": "ai_answer", "reason": None, "risk": None, "examples": ["what are the fees"]}])
    (folder / "train.jsonl").write_text(json.dumps({"text": "card gone", "category": "lost"}))
    suite = load_suite(path=folder)
    assert suite.cases[0].history[0].text == "hello"
    rules = suite_rules(suite=suite, with_train=True)
    lost = rules.category("lost")
    assert lost.escalation_reason == Reason.POLICY_RISK and lost.examples == ["I lost my card", "card gone"]
    assert suite_rules(suite=suite, with_train=False).category("lost").examples == ["I lost my card"]
