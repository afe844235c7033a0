"""The `baton` command as a user runs it: clear results, clear errors, never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def baton(*args: str, home: Path, env: dict | None = None, stdin: str | None = None) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("BATON_", "SLACK_", "OPENAI_", "MICROSOFT_"))}
    environment.update({"BATON_HOME": str(home)}, **(env or {}))
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=home, env=environment, capture_output=True, text=True, timeout=300, input=stdin)


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cli-home")


def test_ask_json_refund_dispute_escalates(home):
    result = baton("ask", "--json", "I was charged twice and I want my money back", home=home)
    assert result.returncode == 0, result.stderr
    decision = json.loads(result.stdout)
    assert decision["action"] == "escalate"
    assert {"policy_risk", "high_value"} & set(decision["reasons"])


def test_ask_json_answerable_question_cites_the_right_document(home):
    decision = json.loads(baton("ask", "--json", "Can I export my expenses to CSV?", home=home).stdout)
    assert decision["action"] == "answer"
    top = decision["sources"][0]
    assert top["doc_id"] == "exports" or "export" in top["title"].lower()


def test_ask_unknown_topic_is_low_confidence_with_missing_knowledge(home):
    decision = json.loads(baton("ask", "--json", "Do you sponsor amateur curling tournaments in Manitoba?", home=home).stdout)
    assert decision["action"] == "escalate" and "low_confidence" in decision["reasons"]
    assert decision["missing_knowledge"] is True


def test_ask_readable_output(home):
    result = baton("ask", "How do I connect Slack?", home=home)
    assert result.returncode == 0 and "Action: ANSWER" in result.stdout and "Source" in result.stdout


def test_empty_message_is_a_clear_error(home):
    result = baton("ask", "  ", home=home)
    assert result.returncode == 2 and "empty" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("content, expected", [(None, "file not found"), ("categories: [1,\n", "not valid YAML"), ("categories:\n  - name: x\n    examples: []\n", "line 3")])
def test_bad_rules_file_is_a_clear_error(home, tmp_path, content, expected):
    rules = tmp_path / "rules.yaml"
    if content is not None:
        rules.write_text(content)
    result = baton("ask", "hello", home=home, env={"BATON_RULES": str(rules)})
    assert result.returncode == 2 and expected in result.stderr and "Traceback" not in result.stderr


def test_unreadable_knowledge_file_is_skipped_with_a_warning(home, tmp_path):
    kb = tmp_path / "kb"
    kb.mkdir()
    (kb / "good.md").write_text("# Exporting\n\n## CSV\n\nUse Reports > Export to download a CSV file of your invoices.\n")
    (kb / "broken.md").write_bytes(b"\xff\xfe\x00bad bytes \x81\x82")
    (tmp_path / "h").mkdir()
    result = baton("ingest", str(kb), home=tmp_path / "h")
    assert result.returncode == 0, result.stderr
    assert "broken.md" in result.stderr and "1 added" in result.stdout


def test_suite_folder_that_does_not_follow_the_format(home, tmp_path):
    (tmp_path / "suite").mkdir()
    result = baton("eval", str(tmp_path / "suite"), home=home)
    assert result.returncode == 2 and "FORMAT.md" in result.stderr and "Traceback" not in result.stderr


def test_chat_answers_and_hands_off_with_agent_commands(home):
    script = "How do I connect Slack?\nSomeone hacked our account and changed the bank details\nclaim\nreply We locked the account, calling you now.\nresolve\nquit\n"
    result = baton("chat", home=home, stdin=script)
    assert result.returncode == 0, result.stderr
    assert "Source:" in result.stdout
    assert "handoff card" in result.stdout and "Policy risk" in result.stdout
    assert "You claimed" in result.stdout and "We locked the account" in result.stdout and "resolved" in result.stdout


def test_settings_never_print_secrets(home):
    result = baton("settings", home=home, env={"SLACK_BOT_TOKEN": "xoxb-very-secret", "OPENAI_API_KEY": "sk-also-secret"})
    assert result.returncode == 0 and "xoxb-very-secret" not in result.stdout and "sk-also-secret" not in result.stdout
    assert "slack_bot_token = ********" in result.stdout
