"""Start-up says what it ignored: unknown BATON_* variables (typos) and a Teams that is not mounted."""

from __future__ import annotations

import logging
import os
import subprocess
import sys

from bot.settings import known_variables, unknown_variables


def test_a_typo_is_named_with_the_closest_setting():
    warnings = unknown_variables(environ={"BATON_TEAMS_LOCAL": "1", "BATON_PORT": "3978", "SLACK_BOT_TOKEN": "x", "PATH": "/bin"}, env_file=None)
    assert warnings == ["BATON_TEAMS_LOCAL is not a Baton setting and is ignored; did you mean BATON_TEAMS_LOCAL_MODE?"]


def test_known_names_include_the_platforms_own_variables():
    assert {"SLACK_BOT_TOKEN", "MICROSOFT_APP_ID", "OPENAI_API_KEY", "BATON_ADMIN_TOKEN", "BATON_SANDBOX"} <= known_variables()
    assert unknown_variables(environ={name: "1" for name in known_variables()}, env_file=None) == []


def test_the_env_file_is_checked_too(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("BATON_ADMN_TOKEN=abc\nBATON_LOG_LEVEL=INFO\nBATON_ZZZZZZZZZZZZZZZ=1\n")
    warnings = unknown_variables(environ={}, env_file=env_file)
    assert warnings[0].startswith("BATON_ADMN_TOKEN is not a Baton setting") and warnings[0].endswith("did you mean BATON_ADMIN_TOKEN?")
    assert "baton settings` lists the known ones" in warnings[1] and len(warnings) == 2


def test_the_cli_warns_at_start_up(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("BATON_")}
    env.update(BATON_HOME=str(tmp_path), BATON_TEAMS_LOCAL="1")
    done = subprocess.run([sys.executable, "-m", "bot", "settings"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0
    assert "BATON_TEAMS_LOCAL is not a Baton setting and is ignored; did you mean BATON_TEAMS_LOCAL_MODE?" in done.stderr


def test_serving_without_teams_settings_logs_why_teams_is_off(core, make_settings, caplog):
    from bot.server import build_web_app

    with caplog.at_level(logging.INFO, logger="adapters.teams"):
        app = build_web_app(core=core, settings=make_settings())
    assert any("Teams is not mounted: no MICROSOFT_APP_ID" in record.getMessage() for record in caplog.records)
    assert "/api/messages" not in {resource.canonical for resource in app.router.resources()}
