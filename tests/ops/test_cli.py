"""The operations commands through a parser built the way bot/cli.py will build it."""

from __future__ import annotations

import argparse
import json

import pytest

from bot.ops.cli import add_ops_commands
from tests.ops.fixtures import seed_store


def run(*argv: str) -> int:
    root = argparse.ArgumentParser(prog="baton")
    add_ops_commands(root.add_subparsers(dest="command", required=True))
    args = root.parse_args(list(argv))
    return args.func(args)


@pytest.fixture
def home(tmp_path, monkeypatch, store, db_url):
    monkeypatch.setenv("BATON_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("BATON_DATABASE_URL", db_url)
    seed_store(store)
    return tmp_path / "home"


def test_report_prints_tables_and_writes_html(home, capsys):
    assert run("report", "--since", "2026-11-01", "--until", "2026-11-10") == 0
    out = capsys.readouterr().out
    assert "Escalation precision" in out and "67%" in out and "HTML report with charts:" in out
    [html] = list((home / "reports").glob("*.html"))
    assert 'data-chart="headline"' in html.read_text()


def test_report_json_and_bad_period(home, capsys):
    assert run("report", "--since", "2026-11-01", "--json") == 0
    assert json.loads(capsys.readouterr().out)["kpis"]["answers"] == 5
    from bot.cli import CliError

    with pytest.raises(CliError, match="not a period"):
        run("report", "--since", "last week")


def test_gaps_lists_open_then_all(home, capsys):
    assert run("gaps") == 0
    out = capsys.readouterr().out
    assert "question 3" in out and "question 1" not in out
    run("gaps", "--all")
    assert "closed after" in capsys.readouterr().out


def test_import_history_missing_file_is_a_clear_error(home, tmp_path):
    from bot.cli import CliError

    with pytest.raises(CliError, match="no such file"):
        run("import-history", str(tmp_path / "nope.csv"))
