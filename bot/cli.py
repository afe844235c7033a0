"""The `baton` command: init, ask, ingest, chat, eval, serve, gaps, report, import-history, settings.

Bad input gets a clear message and a non-zero exit, never a traceback: a bad rules file, a
missing model package, an empty message or a malformed suite all end in one line on stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pydantic import ValidationError

from bot.rules import RulesError
from bot.settings import Settings, unknown_variables
from bot.usage import CliError, load_settings

EXIT_USAGE = 2


def _core(settings: Settings, *, outboxes=None, progress: bool = False):
    from bot.app import build_core

    return build_core(settings=settings, outboxes=outboxes, progress=progress)


# --- commands ------------------------------------------------------------------------------


def cmd_ask(args: argparse.Namespace) -> int:
    """Decide one message and print the decision (readable, or JSON with --json)."""
    from bot.render_text import decision_text
    from bot.types import Conversation, Person

    text = " ".join(args.text).strip()
    if not text:
        raise CliError("the message is empty: give the text to decide, e.g. baton ask \"How do I export invoices?\"")
    core = _core(load_settings())
    author = Person(platform_id=args.user or "cli-user", display_name=args.user or "CLI user", email=args.email)
    decision = core.engine.decide(Conversation(text=text, author=author))
    print(json.dumps(decision.to_dict(), indent=2) if args.json else decision_text(decision))
    return 0


def cmd_ingest(args: argparse.Namespace) -> int:
    """Re-index the knowledge folder and the docs sites (only changed files and pages are embedded again).

    Sites come from ``--url`` (repeatable), else from BATON_KNOWLEDGE_URLS.  A site that cannot
    be crawled (unreachable, not a sitemap) is one line on stderr and exit 1, after whatever
    else could be ingested was; one failing page is a warning and the rest is ingested.
    """
    from knowledge.embedding import load_encoder
    from knowledge.sites import ingest_everything

    settings = load_settings()
    source = Path(args.path) if args.path else Path(settings.knowledge)
    urls = args.url or settings.knowledge_url_list
    if not source.is_dir() and (args.path or not urls):
        raise CliError(f"{source}: not a folder of knowledge files")
    folder = source if source.is_dir() else None
    sites, report = ingest_everything(folder=folder, urls=urls, home=settings.home, index_dir=settings.index_dir, encoder=load_encoder(),
                                      max_pages=settings.knowledge_max_pages, progress=sys.stderr.isatty())
    for site in sites.reports:
        for problem in site.problems:
            print(f"warning: {problem}", file=sys.stderr)
        print(f"crawled {site.summary()}")
    for problem in report.problems:
        print(f"warning: skipped {problem.path}: {problem.reason}", file=sys.stderr)
    print(f"ingested {' and '.join(filter(None, [str(folder or ''), 'docs sites' if urls else '']))}: {report.summary()}")
    from bot.ops.cli import after_ingest

    for line in after_ingest(settings=settings):
        print(line)
    for error in sites.errors.values():
        print(f"error: {error}", file=sys.stderr)
    return 1 if sites.errors else 0


def cmd_chat(args: argparse.Namespace) -> int:
    """A terminal conversation with the core; handoffs print as cards."""
    from bot.chat import run_chat

    settings = load_settings()
    return asyncio.run(run_chat(settings=settings, build=_core))


def cmd_eval(args: argparse.Namespace) -> int:
    """Run an evaluation suite (FORMAT.md) and print its figures."""
    from bot.evaluation import evaluate, format_figures
    from knowledge.embedding import load_encoder

    settings = load_settings()
    if args.sweep:
        from bot.sweep import run_sweep

        print(run_sweep(path=Path(args.suite), with_train=args.with_train, encoder=load_encoder(), cache_dir=settings.cache_dir, as_json=args.json))
        return 0
    if args.llm and not settings.llm_enabled:
        raise CliError("--llm needs OPENAI_API_KEY or OPENAI_BASE_URL (an OpenAI-compatible endpoint)")
    result = evaluate(path=Path(args.suite), with_train=args.with_train, encoder=load_encoder(), cache_dir=settings.cache_dir, progress=not args.json, limit=args.limit, llm_settings=settings if args.llm else None)
    print(json.dumps(result) if args.json else format_figures(result))
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve the web sandbox, and Slack / Teams endpoints when configured."""
    from bot.server import serve

    settings = load_settings()
    host = args.host or settings.host
    port = args.port or settings.port
    return serve(settings=settings, host=host, port=port)


def cmd_teams_package(args: argparse.Namespace) -> int:
    """Build the Teams app package (manifest.json with the app id, both icons) to upload."""
    from bot.server import teams_package

    try:
        path = teams_package(settings=load_settings(), out_dir=args.out, version=args.version, domains=args.domain or [])
    except Exception as exc:
        if type(exc).__name__ != "PackageError":
            raise
        raise CliError(str(exc)) from None
    print(f"Teams app package written to {path}")
    return 0


def cmd_settings(args: argparse.Namespace) -> int:
    """Print the effective settings with secrets masked."""
    for key, value in load_settings().describe().items():
        print(f"{key} = {value}")
    return 0


# --- parser --------------------------------------------------------------------------------


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="baton", description="Baton: a support bot that knows when not to answer.")
    root.add_argument("--verbose", action="store_true", help="log more")
    sub = root.add_subparsers(dest="command", required=True)
    ask = sub.add_parser("ask", help="decide one message")
    ask.add_argument("text", nargs="*")
    ask.add_argument("--json", action="store_true")
    ask.add_argument("--user", help="platform user id of the author (to test customer tiers)")
    ask.add_argument("--email", help="e-mail of the author (to test customer tiers)")
    ask.set_defaults(func=cmd_ask)
    ingest = sub.add_parser("ingest", help="index a knowledge folder and docs websites")
    ingest.add_argument("path", nargs="?")
    ingest.add_argument("--url", action="append", metavar="URL",
                        help="a docs site to crawl: its sitemap.xml or a start page (repeatable; default BATON_KNOWLEDGE_URLS)")
    ingest.set_defaults(func=cmd_ingest)
    sub.add_parser("chat", help="talk to the bot in the terminal").set_defaults(func=cmd_chat)
    evaluation = sub.add_parser("eval", help="run an evaluation suite")
    evaluation.add_argument("suite")
    evaluation.add_argument("--json", action="store_true")
    evaluation.add_argument("--with-train", action="store_true")
    evaluation.add_argument("--sweep", action="store_true", help="print the precision/recall curve across the dial")
    evaluation.add_argument("--limit", type=int, default=None, help="only the first N cases")
    evaluation.add_argument("--llm", action="store_true", help="decide through the configured LLM endpoint")
    evaluation.set_defaults(func=cmd_eval)
    serve = sub.add_parser("serve", help="serve the sandbox and platform endpoints")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.set_defaults(func=cmd_serve)
    from bot.ops.cli import add_ops_commands

    add_ops_commands(sub)
    sub.add_parser("settings", help="print settings, secrets masked").set_defaults(func=cmd_settings)
    from bot.init import add_parser as add_init_parser

    add_init_parser(sub)
    package = sub.add_parser("teams-package", help="build the Teams app package to upload")
    package.add_argument("--out", default="dist")
    package.add_argument("--version", default="1.0.0")
    package.add_argument("--domain", action="append", help="a valid domain of your bot (repeatable)")
    package.set_defaults(func=cmd_teams_package)
    return root


@contextmanager
def command_logging(args: argparse.Namespace) -> Iterator[None]:
    """Logs for one command: JSON lines at the settings' level for `serve`, readable text at
    WARNING (INFO with --verbose) for the others; BATON_LOG_FORMAT overrides the format."""
    from bot.logs import configure_logging, remove_logging

    try:
        settings = Settings()
    except ValidationError:  # the command reports the problem; log with the defaults meanwhile
        settings = Settings.model_construct()
    serving = args.command == "serve"
    level = logging.getLevelName(settings.log_level) if serving else logging.WARNING
    if args.verbose:
        level = min(level, logging.INFO)
    handler = configure_logging(settings=settings, default_format="json" if serving else "text", level=level)
    for warning in unknown_variables():
        logging.getLogger("bot.settings").warning(warning)
    try:
        yield
    finally:
        remove_logging(handler)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    with command_logging(args):
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    try:
        return args.func(args)
    except RulesError as exc:
        print(f"error: the rules file {exc.path} is not valid:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return EXIT_USAGE
    except CliError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # the last line of defence: a clear message, not a traceback
        from bot.errors import describe

        known = describe(exc)
        if known is None and args.verbose:
            raise
        print(f"error: {known or f'unexpected {type(exc).__name__}: {exc} (run with --verbose for details)'}", file=sys.stderr)
        return EXIT_USAGE if known else 1


if __name__ == "__main__":
    sys.exit(main())
