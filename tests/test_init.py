"""`baton init`: the team's own rules and settings, none of the fictional sample, validated."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys

from bot.rules import load_rules

SUPPORT, BILLING = "C0ACMESUP1", "C0ACMEBIL1"


def baton(*args: str, cwd, env_extra: dict | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BATON_", "SLACK_", "MICROSOFT_", "OPENAI_"))}
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def init(tmp_path, *extra: str) -> subprocess.CompletedProcess:
    return baton("init", "--product", "Acme Books", "--dir", str(tmp_path), "--slack-queue", f"support={SUPPORT}", "--slack-queue", f"billing={BILLING}",
                 "--vip-domain", "bigco.example", "--sla", "urgent=30m/2h", *extra, cwd=tmp_path)


def test_init_writes_the_teams_own_rules_and_a_private_env(tmp_path):
    done = init(tmp_path)
    assert done.returncode == 0, done.stderr
    rules_text = (tmp_path / "baton-rules.yaml").read_text()
    assert "Ledgerly" not in rules_text and "Globex" not in rules_text and "thread.tacv2" not in rules_text
    rules = load_rules(path=tmp_path / "baton-rules.yaml")
    assert rules.queues["support"].slack == SUPPORT and rules.queues["billing"].slack == BILLING and rules.default_queue == "support"
    assert rules.sla["urgent"].first_response == 30 and rules.sla["urgent"].resolution == 120
    assert any(org.email_domains == ["bigco.example"] and org.tier == "vip" for org in rules.customers.organisations)
    assert {c.name for c in rules.categories} >= {"how_to", "billing", "refund_or_cancel", "account_access", "security_report", "talk_to_person"}
    env = tmp_path / ".env"
    assert stat.S_IMODE(env.stat().st_mode) == 0o600
    settings = dict(line.split("=", 1) for line in env.read_text().splitlines() if line and not line.startswith("#"))
    assert settings["BATON_RULES"] == str(tmp_path / "baton-rules.yaml") and (tmp_path / "knowledge").is_dir()
    assert len(settings["BATON_ADMIN_TOKEN"]) >= 40 and len(settings["BATON_SESSION_SECRET"]) >= 40


def test_init_refuses_to_overwrite_and_checks_channel_ids(tmp_path):
    assert init(tmp_path).returncode == 0
    again = init(tmp_path)
    assert again.returncode == 2 and "already exist" in again.stderr and "--force" in again.stderr
    assert init(tmp_path, "--force").returncode == 0
    wrong = baton("init", "--product", "X", "--dir", str(tmp_path / "other"), "--slack-queue", "support=#support", cwd=tmp_path)
    assert wrong.returncode == 2 and "'#support' is not a Slack channel id" in wrong.stderr
    bad_sla = baton("init", "--product", "X", "--dir", str(tmp_path / "other"), "--sla", "urgent=soon", cwd=tmp_path)
    assert bad_sla.returncode == 2 and "PRIORITY=FIRST/RESOLUTION" in bad_sla.stderr


def test_the_initialised_deployment_decides_with_its_own_queues(tmp_path, shared_home):
    assert init(tmp_path).returncode == 0
    (tmp_path / "knowledge" / "export.md").write_text("# Exporting your books\n\nTo export your books, open Reports, choose Export and pick CSV or PDF. The file downloads at once.\n")
    done = baton("ask", "--json", "I was charged twice this month and I want my money back", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    decision = json.loads(done.stdout)
    assert decision["action"] == "escalate" and decision["queue"] == "billing"
    assert "Ledgerly" not in done.stdout
