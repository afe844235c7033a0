"""`baton eval --llm`: the same suite decided through the LLM path, tokens counted."""

from __future__ import annotations

import json
from pathlib import Path

from bot.evaluation import evaluate
from bot.settings import Settings
from .model_replies import grounded

from .conftest import MODEL


def write_knowledge_suite(folder: Path) -> Path:
    (folder / "knowledge").mkdir(parents=True)
    (folder / "knowledge" / "exports.md").write_text("# Exporting invoices\n\n## CSV export\n\nOpen Reports > Export and choose CSV to download every invoice of the period.\n")
    (folder / "knowledge" / "logo.md").write_text("# Adding your logo\n\n## Branding\n\nGo to Settings > Invoice templates and click Upload logo; PNG or SVG up to 2 MB.\n")
    (folder / "suite.json").write_text(json.dumps({"name": "tiny", "mode": "knowledge"}))
    cases = [
        {"id": "1", "text": "How can I download my invoices as CSV?", "history": [], "expect": {"escalate": False, "reasons": [], "category": None, "source": "exports"}},
        {"id": "2", "text": "Where do I upload our company logo?", "history": [], "expect": {"escalate": False, "reasons": [], "category": None, "source": "logo"}},
    ]
    (folder / "cases.jsonl").write_text("\n".join(json.dumps(c) for c in cases))
    return folder


def test_eval_runs_through_the_llm_and_reports_tokens(llm, encoder, tmp_path):
    llm.set_responder(lambda body: grounded(body))
    settings = Settings(_env_file=None, home=tmp_path, openai_base_url=llm.base_url, openai_api_key="sk-test-secret", llm_model=MODEL)
    suite = write_knowledge_suite(tmp_path / "suite")
    offline = evaluate(path=suite, with_train=False, encoder=encoder, cache_dir=None, progress=False)
    through_llm = evaluate(path=suite, with_train=False, encoder=encoder, cache_dir=None, progress=False, llm_settings=settings)
    assert offline["engine"] == "offline" and offline["tokens"] == 0
    assert through_llm["engine"] == "llm" and through_llm["tokens"] > 0
    assert len(llm.chat_requests) <= 2
    assert through_llm["n_cases"] == 2 and through_llm["source_accuracy"] in (None, 1.0)
