"""The operations commands of `baton`: report, gaps (with --reask), import-history.

``add_ops_commands(sub)`` registers them on the main parser's subcommands, so ``bot/cli.py``
needs one call to gain them. Problems the user can fix raise ``bot.usage.CliError`` (one line on
stderr, exit 2), as every other command does.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from bot.types import utcnow
from bot.usage import CliError, load_settings


def _settings_and_store() -> tuple[Any, Any]:
    from bot.store.db import make_engine, migrate
    from bot.store.repo import Store

    settings = load_settings()
    engine = make_engine(url=settings.effective_database_url)
    migrate(engine=engine)
    return settings, Store(engine=engine)


def _baseline(settings: Any) -> Any:
    """The time-saved baseline from the rules' operations section (defaults when absent)."""
    from bot.ops.config import ops_config
    from bot.rules import load_rules

    return ops_config(rules=load_rules(path=settings.rules)).time_saved


def _period(*, since: str, until: str | None, now: Any) -> Any:
    from bot.ops.period import parse_since, period_for

    try:
        end = parse_since(text=until, now=now) if until else None
        return period_for(since=since, now=now, until=end)
    except ValueError as exc:
        raise CliError(str(exc)) from None


def cmd_report(args: argparse.Namespace) -> int:
    """Print the KPI tables for a period and write the HTML report with its charts."""
    from bot.ops.report import build_report, report_text, write_report

    settings, store = _settings_and_store()
    now = utcnow()
    period = _period(since=args.since, until=args.until, now=now)
    report = build_report(store=store, period=period, baseline=_baseline(settings))
    if args.json:
        print(json.dumps({"kpis": report.kpis.to_dict(), "time_saved": report.saved.to_dict()}, indent=2, default=str))
        return 0
    path = Path(args.html) if args.html else settings.home / "reports" / f"baton-report-{now:%Y%m%d-%H%M}.html"
    print(report_text(report))
    print(f"\nHTML report with charts: {write_report(report=report, path=path)}")
    return 0


def cmd_gaps(args: argparse.Namespace) -> int:
    """List knowledge gaps, most asked first; --reask first re-asks open gaps against the current index."""
    from bot.app import reask_gaps_with_settings
    from bot.ops.gaps_reask import gaps_table

    settings, store = _settings_and_store()
    if args.reask:
        for closed in reask_gaps_with_settings(settings=settings, store=store):
            print(f"closed gap #{closed.gap_id}: now answered by {closed.title} [{closed.doc_id}]")
    print(gaps_table(gaps=store.gaps(status=None if args.all else "open"), now=utcnow()))
    return 0


def after_ingest(*, settings: Any) -> list[str]:
    """What `baton ingest` prints after re-indexing: the gaps the new knowledge closes."""
    from bot.app import reask_gaps_with_settings
    from bot.store.db import make_engine, migrate
    from bot.store.repo import Store

    engine = make_engine(url=settings.effective_database_url)
    migrate(engine=engine)
    closed = reask_gaps_with_settings(settings=settings, store=Store(engine=engine))
    return [f"closed knowledge gap #{c.gap_id} ({c.question}): now answered by {c.title} [{c.doc_id}]" for c in closed]


def cmd_import_history(args: argparse.Namespace) -> int:
    """Propose categories, triggers and automation levels from past tickets; write draft rules (and a suite)."""
    from bot.ops.history_import import HistoryError
    from bot.ops.history_write import run_import
    from bot.rules import RulesError

    source = Path(args.file)
    if not source.is_file():
        raise CliError(f"{source}: no such file (give a CSV or JSON-lines file of past tickets)")
    try:
        print(run_import(path=source, out_dir=Path(args.out), k=args.clusters))
    except HistoryError as exc:
        raise CliError(str(exc)) from None
    except RulesError as exc:
        raise CliError(f"the draft rules did not validate ({'; '.join(exc.problems)}); please report this") from None
    return 0


def add_ops_commands(sub: Any) -> None:
    """Register report, gaps and import-history on the main parser's subcommands."""
    report = sub.add_parser("report", help="KPI tables and an HTML report with charts")
    report.add_argument("--since", default="7d", help="period start: 7d, 24h, 2w or a date (default 7d)")
    report.add_argument("--until", help="period end, same forms as --since (default now)")
    report.add_argument("--html", help="where to write the HTML report (default BATON_HOME/reports/)")
    report.add_argument("--json", action="store_true", help="print the KPIs as JSON instead")
    report.set_defaults(func=cmd_report)
    gaps = sub.add_parser("gaps", help="list knowledge gaps")
    gaps.add_argument("--all", action="store_true", help="include closed gaps")
    gaps.add_argument("--reask", action="store_true", help="re-ask open gaps against the current knowledge index first")
    gaps.set_defaults(func=cmd_gaps)
    history = sub.add_parser("import-history", help="propose categories and rules from past tickets (CSV or JSON lines)")
    history.add_argument("file")
    history.add_argument("--out", default="baton-history", help="folder for rules.draft.yaml and suite/ (default ./baton-history)")
    history.add_argument("--clusters", type=int, default=None, help="number of groups when the file has no categories")
    history.set_defaults(func=cmd_import_history)
