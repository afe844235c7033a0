"""Rules files: valid ones load, broken ones fail at start-up naming the line and the problem."""

from __future__ import annotations

import pytest

from bot.rules import RulesError, load_rules, parse_duration, parse_rules
from bot.settings import SAMPLE_RULES
from bot.types import Automation, Reason


def problems_of(text: str) -> list[str]:
    with pytest.raises(RulesError) as info:
        parse_rules(text=text)
    return info.value.problems


def test_sample_rules_load_with_categories_queues_and_tiers():
    rules = load_rules(path=SAMPLE_RULES)
    assert len(rules.categories) >= 8
    assert {"support", "billing", "security"} <= set(rules.queues)
    assert any(c.automation == Automation.HUMAN_ONLY for c in rules.categories)
    assert any(t.escalate for t in rules.customers.tiers.values())


def test_empty_file_is_a_knowledge_base_only_deployment():
    rules = parse_rules(text="")
    assert rules.categories == [] and rules.default_queue in rules.queues
    assert set(rules.sla) == {"urgent", "high", "normal", "low"}


def test_unknown_policy_names_its_line():
    text = "categories:\n  - name: refunds\n    examples: [give me my money back]\n    policy: refundz\n"
    [problem] = problems_of(text)
    assert problem.startswith("line 4:") and "refundz" in problem


def test_bad_duration_and_empty_examples_both_reported_with_lines():
    text = "categories:\n  - name: a\n    examples: []\nsla:\n  high: {first_response: soon, resolution: 2h}\n"
    found = problems_of(text)
    assert any(p.startswith("line 3:") and "examples" in p for p in found)
    assert any(p.startswith("line 5:") and "duration" in p for p in found)


def test_unknown_queue_and_duplicate_category():
    assert "unknown queue" in problems_of("categories:\n  - {name: a, examples: [x], queue: nowhere}\n")[0]
    assert "unique" in problems_of("categories:\n  - {name: a, examples: [x]}\n  - {name: a, examples: [y]}\n")[0]


def test_invalid_yaml_and_wrong_shape():
    assert problems_of("categories: [1,\n  2")[0].startswith("line ")
    assert "mapping" in problems_of("- just\n- a list\n")[0]


def test_unknown_key_is_rejected():
    assert "categoriez" in problems_of("categoriez: []\n")[0]


def test_missing_file(tmp_path):
    with pytest.raises(RulesError) as info:
        load_rules(path=tmp_path / "nope.yaml")
    assert "not found" in info.value.problems[0]


def test_category_reasons_follow_policy_types():
    rules = parse_rules(text="categories:\n  - {name: r, examples: [x], policy: refund_dispute, automation: human_only}\n  - {name: s, examples: [x], policy: security}\n  - {name: h, examples: [x], reason: human_requested}\n")
    assert [c.escalation_reason for c in rules.categories] == [Reason.HIGH_VALUE, Reason.POLICY_RISK, Reason.HUMAN_REQUESTED]


def test_durations():
    assert parse_duration("15m") == 15 and parse_duration("4h") == 240 and parse_duration("2d") == 2880
    with pytest.raises(ValueError):
        parse_duration("4 weeks")
