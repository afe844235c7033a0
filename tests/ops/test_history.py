"""`baton import-history`: reading, grouping (labels or real-encoder clustering), proposals, drafts."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from bot.ops.history_cluster import choose_k, kmeans
from bot.ops.history_import import HistoryError, read_history
from bot.ops.history_write import run_import
from bot.rules import load_rules
from bot.types import Automation

THEMES = {
    "refunds": ["I want my money back for last month", "please refund the extra seats you billed us for", "we cancelled but you still charged us, refund it",
                "requesting a full refund of my annual plan", "give me my money back, we never used it", "I demand a refund for the double charge",
                "can I get a refund for the months the sync was broken", "refund my last payment please"],
    "lockouts": ["I lost my phone and can't get past the 2FA screen", "locked out of my account after too many attempts", "I can't log in, the reset email never arrives",
                 "my two-factor device is gone and I'm locked out", "someone hacked my account and changed the password", "account suspended and I can't sign in",
                 "I forgot my password and the recovery codes are lost", "locked out of the admin account"],
    "exports": ["how do I export my expenses to a spreadsheet", "can I download all invoices as CSV", "where is the export button for reports",
                "how to export transactions to Excel", "is there a way to export our data for the accountant", "export customer list to csv",
                "how can I get a PDF export of my reports", "export expenses for last quarter"],
    "branding": ["how do I add our logo to invoices", "can I change the invoice colour to match our brand", "put my company logo on the invoice template",
                 "how to customise the invoice template fonts", "change the brand colour on invoices", "add a footer with bank details to invoice template",
                 "upload a logo for invoice emails", "can invoices show our brand colours"],
}


def rows() -> list[dict]:
    items = []
    for theme, texts in THEMES.items():
        for n, text in enumerate(texts):
            items.append({"text": text, "category": theme, "created_at": f"2026-10-0{1 + n % 7}T09:00:00Z",
                          "resolved_at": f"2026-10-0{1 + n % 7}T{10 + n % 3}:00:00Z", "resolution": f"handled {theme}"})
    return items


def write_csv(path, items):
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(items[0]))
        writer.writeheader()
        writer.writerows(items)
    return path


def test_kmeans_separates_clear_groups():
    rng = np.random.default_rng(1)
    centres = np.eye(3, 8)
    vectors = np.concatenate([c + 0.05 * rng.standard_normal((10, 8)) for c in centres])
    labels, _ = kmeans(vectors, k=3, seed=0)
    assert [len(set(labels[i * 10:(i + 1) * 10])) for i in range(3)] == [1, 1, 1]
    assert len(set(labels)) == 3
    assert choose_k(2) == 1 and choose_k(32) == 4 and choose_k(10_000) == 12


def test_labelled_history_gives_rules_that_load_and_a_routing_suite(tmp_path):
    source = write_csv(tmp_path / "past.csv", rows())
    text = run_import(path=source, out_dir=tmp_path / "out", encoder=object())
    rules = load_rules(path=tmp_path / "out" / "rules.draft.yaml")
    automation = {c.name: c.automation for c in rules.categories}
    assert automation["refunds"] == Automation.HUMAN_ONLY and automation["lockouts"] == Automation.HUMAN_ONLY
    assert automation["exports"] == Automation.AI_ANSWER and automation["branding"] == Automation.AI_ANSWER
    assert rules.category("lockouts").queue == "security" and rules.category("refunds").queue == "billing"
    assert "refunds" in text and "e.g." in text and "policy_risk:account_access" in text and "2.0 h" in text
    from bot.evaluation import load_suite

    suite = load_suite(path=tmp_path / "out" / "suite")
    assert suite.mode == "routing" and len(suite.categories) == 4 and len(suite.cases) == 0  # 8 each: all became examples


def test_history_suite_runs_through_baton_eval(tmp_path, encoder):
    items = rows() + [dict(r, text=r["text"] + " asap") for r in rows()]
    source = write_csv(tmp_path / "past.csv", items)
    run_import(path=source, out_dir=tmp_path / "out", encoder=encoder)
    from bot.evaluation import evaluate

    result = evaluate(path=tmp_path / "out" / "suite", with_train=False, encoder=encoder, cache_dir=tmp_path / "cache", progress=False)
    assert result["n_cases"] == 32 and result["decision_accuracy"] is not None


def test_unlabelled_history_is_clustered_with_the_real_encoder(tmp_path, encoder):
    source = tmp_path / "past.jsonl"
    source.write_text("".join(json.dumps({"message": r["text"]}) + "\n" for r in rows()), encoding="utf-8")
    text = run_import(path=source, out_dir=tmp_path / "out", encoder=encoder, k=4)
    rules = load_rules(path=tmp_path / "out" / "rules.draft.yaml")
    assert len(rules.categories) == 4 and "clustering into 4 groups" in text
    by_text = {e: c.name for c in rules.categories for e in c.examples}
    for theme in ("refunds", "exports"):
        names = [by_text[t] for t in THEMES[theme] if t in by_text]
        assert max(names.count(n) for n in set(names)) >= 0.75 * len(names), (theme, names)
    assert not (tmp_path / "out" / "suite").exists()


def test_bad_history_files_name_the_line(tmp_path):
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"text": "fine"}\nnot json\n', encoding="utf-8")
    with pytest.raises(HistoryError, match="broken.jsonl:2"):
        read_history(path=broken)
    empty = write_csv(tmp_path / "empty.csv", [{"subjectx": "nothing"}])
    with pytest.raises(HistoryError, match="no rows with a 'text' column"):
        read_history(path=empty)
    dated = write_csv(tmp_path / "dated.csv", [{"text": "hi", "created_at": "last tuesday"}])
    with pytest.raises(HistoryError, match="dated.csv:2"):
        read_history(path=dated)
