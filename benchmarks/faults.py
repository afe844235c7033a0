"""Faults while events flow: Slack 429 / 500 / timeouts, a PostgreSQL restart, the LLM down (issue 9).

Each scenario runs one real `python -m bot serve` process against the Slack stand-in, offers
``--events`` signed events at ``--rate`` per second (each retried until acked, as Slack
redelivers), injects its fault over the middle of the run, waits until nothing more can
happen (no pending or working inbox row, which is all the sweep retries; no delayed stand-in
answer in flight; no new post for 3 s), and counts what came out:

* **baseline**: no fault, for comparison (the offline engine is deterministic, so the fault
  scenarios should show the same replies and tickets unless the fault changed the outcome);
* **slack-429**: a share of chat.postMessage calls answer 429 with ``Retry-After``;
* **slack-500**: bursts in which every chat.postMessage answers HTTP 500 ``internal_error``;
* **slack-timeouts**: for a while chat.postMessage answers only after 35 s, beyond the
  Web API client's 30 s default timeout (Baton has no setting for it); Slack did post the
  message, it just answered too late (the case that can produce a second post);
* **database-restart** (PostgreSQL only): the server is stopped (``pg_ctl stop -m fast``),
  left down ``--pg-outage`` seconds, and started again mid-run;
* **llm-down**: the LLM is on (``OPENAI_BASE_URL`` at the OpenAI stand-in); the stand-in is
  stopped (connection refused) over the middle of the run, so the offline engine must decide.

Per scenario it prints: events in (acked), replies out (answers / holding / fallback), tickets
out, cards out, duplicate replies / tickets / cards, lost (an acked event with no bot post in
its thread), tickets without a card, and the time until everything was replied to. Details
(injected faults, refused deliveries, inbox states, notable log lines, and the lost or
duplicated events grouped by what happened to them: posts in their thread, inbox row, the
bot's log lines about them) come before the table; each scenario's bot log and the stand-in's
record of Slack calls (``slack_calls.jsonl``) are kept in its folder for investigation.

    python benchmarks/faults.py                                   # SQLite (database-restart skipped)
    eval "$(BATON_PG_DIR=/tmp/faults-pg bash .ci/postgres.sh)"
    python benchmarks/faults.py --scenarios slack-500,database-restart --events 100

With ``BATON_TEST_POSTGRES_URL`` (or ``--postgres URL``) every scenario runs on a fresh
database ``faults_bench_<scenario>`` of that server, and database-restart **restarts that
server**: point it at a throwaway cluster of your own (``BATON_PG_DIR`` above), not a shared one.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import pwd
import random
import re
import shlex
import shutil
import subprocess
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

from harness import (
    BotProcess, Delivery, Outcome, SlackStandIn, bot_env, customers, deliver_all, free_port,
    make_events, outcome, percentile,
)
from standins.openai_server import OpenAIStandIn

POST = "chat.postMessage"
CLIENT_TIMEOUT = 30.0  # slack_sdk AsyncWebClient's default; Baton does not change it
SCENARIOS = ("baseline", "slack-429", "slack-500", "slack-timeouts", "database-restart", "llm-down")


# --- Slack's side, with faults over time ----------------------------------------------------------


@dataclass
class FaultWindow:
    """From ``start`` to ``end`` (monotonic), a ``share`` of ``method`` calls misbehave."""

    method: str
    start: float
    end: float
    share: float
    status: int
    retry_after: int | None = None
    delay: float = 0.0


class FaultySlack(SlackStandIn):
    """The Slack stand-in with fault windows: each call in a window draws, and a hit queues one
    fault with the stand-in's own ``fail_next`` just before the call takes it."""

    def __init__(self, *, seed: int, **kwargs) -> None:
        super().__init__(**kwargs)
        self.windows: list[FaultWindow] = []
        self.injected: Counter = Counter()
        self.delayed_in_flight = 0
        self._draws = random.Random(seed)

    def _take_fault(self, method: str):
        now = time.monotonic()
        for window in self.windows:
            if window.method == method and window.start <= now < window.end and self._draws.random() < window.share:
                self.fail_next(method, status=window.status, retry_after=window.retry_after, delay=window.delay)
                label = f"HTTP {window.status}" + (f" after {window.delay:.0f} s" if window.delay else "") + (f", Retry-After {window.retry_after}" if window.retry_after else "")
                self.injected[f"{method}: {label}"] += 1
                break
        return super()._take_fault(method)

    async def _pause(self, delay: float) -> None:
        self.delayed_in_flight += 1
        try:
            await super()._pause(delay)
        finally:
            self.delayed_in_flight -= 1

    def successful_posts(self) -> int:
        return sum(1 for c in self.calls if c.method == POST and c.ok)


class RestartableLLM(OpenAIStandIn):
    """The OpenAI stand-in, restarted on the same port (its first start picks a free one)."""

    port = 0

    async def start(self) -> None:
        self._stopping = asyncio.Event()
        self._runner = web.AppRunner(self._build_app(), shutdown_timeout=1.0, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self._host, self.port).start()
        self.port = self._runner.addresses[0][1]
        self.base_url = f"http://{self._host}:{self.port}/v1"


# --- databases ------------------------------------------------------------------------------------


def fresh_postgres(url: str, name: str) -> str:
    """A new, empty database ``name`` on the server of ``url``; returns its URL."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    base = make_url(url)
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


class PostgresServer:
    """Stop and start the server behind a URL with pg_ctl (found from its postmaster.opts)."""

    def __init__(self, url: str) -> None:
        from sqlalchemy import create_engine, text

        engine = create_engine(url)
        with engine.connect() as connection:
            self.data = Path(connection.execute(text("SHOW data_directory")).scalar_one())
        engine.dispose()
        words = shlex.split((self.data / "postmaster.opts").read_text())
        self.pg_ctl = str(Path(words[0]).parent / "pg_ctl")
        options, skip = [], False
        for word in words[1:]:
            if skip:
                skip = False
            elif word == "-D":
                skip = True
            else:
                options.append(word)
        self.options = shlex.join(options)
        self.owner = pwd.getpwuid(self.data.stat().st_uid).pw_name

    def _run(self, *args: str) -> None:
        command = [self.pg_ctl, "-D", str(self.data), *args]
        if os.getuid() == 0 and self.owner != "root":
            command = ["runuser", "-u", self.owner, "--", *command]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    async def stop(self) -> None:
        await asyncio.to_thread(self._run, "stop", "-m", "fast", "-w")

    async def start(self) -> None:
        await asyncio.to_thread(self._run, "start", "-w", "-t", "60", "-l", str(self.data.parent / "server.log"), "-o", self.options)


# --- measuring ----------------------------------------------------------------------------------


class ReplyWatch:
    """Notes when each event's thread first shows a bot post (polls the stand-in's store)."""

    def __init__(self, *, standin: SlackStandIn, events: list[dict]) -> None:
        self.standin = standin
        self.pending = {e["event"]["ts"]: e["event"]["channel"] for e in events}
        self.first: dict[str, float] = {}
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.ensure_future(self._poll())

    async def _poll(self) -> None:
        while True:
            self.scan()
            await asyncio.sleep(0.25)

    def scan(self) -> None:
        now = time.monotonic()
        for channel in {c for c in self.pending.values()}:
            for message in self.standin._messages.get(channel, []):
                parent = message.get("thread_ts")
                if message.get("bot_id") and parent in self.pending and parent != message["ts"]:
                    self.first.setdefault(parent, now)
        for ts in list(self.first):
            self.pending.pop(ts, None)

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
        self.scan()


def inbox_states(database_url: str) -> dict[str, int]:
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return {s: int(n) for s, n in connection.execute(text("SELECT status, COUNT(*) FROM inbox GROUP BY status")).all()}
    finally:
        engine.dispose()


def inbox_rows(database_url: str, keys: list[str]) -> dict[str, dict]:
    from sqlalchemy import bindparam, create_engine, text

    if not keys:
        return {}
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            query = text("SELECT key, status, attempts, error FROM inbox WHERE key IN :keys").bindparams(bindparam("keys", expanding=True))
            return {k: {"status": s, "attempts": a, "error": e} for k, s, a, e in connection.execute(query, {"keys": keys}).all()}
    finally:
        engine.dispose()


def store_figures(database_url: str) -> dict:
    """Tickets without a card, and the engines that made the decisions."""
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            tickets = connection.execute(text("SELECT card_refs, decision_id FROM tickets")).all()
            refs = [r if isinstance(r, dict) else json.loads(r or "{}") for r, _ in tickets]
            engines = Counter({e: int(n) for e, n in connection.execute(text("SELECT engine, COUNT(*) FROM decisions GROUP BY engine")).all()})
            twins = connection.execute(text(
                "SELECT conversation_id, decision_id IS NULL, intent FROM tickets WHERE conversation_id IN "
                "(SELECT conversation_id FROM tickets GROUP BY conversation_id HAVING COUNT(*) > 1) ORDER BY conversation_id, created_at")).all()
    finally:
        engine.dispose()
    pairs: dict[str, list[str]] = {}
    for conversation, fail_safe, intent in twins:
        pairs.setdefault(conversation, []).append("fail-safe ticket (no decision)" if fail_safe else f"ticket of decision ({(intent or '').split(':')[0]})")
    return {"cardless": sum(1 for r in refs if not r), "fail_safe": sum(1 for _, d in tickets if d is None), "engines": engines, "twins": Counter(" + ".join(p) for p in pairs.values())}


async def settle(*, standin: FaultySlack, database_url: str, timeout: float, quiet: float = 3.0) -> tuple[float, dict[str, int]]:
    """Wait until nothing more can happen: the inbox has no pending or working row (the sweep
    only retries those), no delayed Slack answer is in flight, and no new post appeared for
    ``quiet`` seconds (a late duplicate would show up here). Lost events do not hold it up."""
    began = time.monotonic()
    posts, still = standin.successful_posts(), time.monotonic()
    states: dict[str, int] = {}
    while time.monotonic() - began < timeout:
        try:
            states = await asyncio.to_thread(inbox_states, database_url)
        except Exception:  # the database may still be coming back
            states = {"unreadable": 1}
        if standin.successful_posts() != posts:
            posts, still = standin.successful_posts(), time.monotonic()
        busy = states.get("pending", 0) + states.get("working", 0) + states.get("unreadable", 0) + standin.delayed_in_flight
        if not busy and time.monotonic() - still >= quiet:
            break
        await asyncio.sleep(0.5)
    return time.monotonic() - began, states


def reply_kinds(standin: SlackStandIn, events: list[dict]) -> Counter:
    """Bot posts in the events' threads by the prefix of their idempotency key."""
    kinds = Counter()
    threads = {(e["event"]["channel"], e["event"]["ts"]) for e in events}
    for channel in {c for c, _ in threads}:
        for message in standin._messages.get(channel, []):
            if message.get("bot_id") and (channel, message.get("thread_ts")) in threads and message.get("thread_ts") != message["ts"]:
                key = ((message.get("metadata") or {}).get("event_payload") or {}).get("key") or "untagged:"
                kinds[key.split(":", 1)[0]] += 1
    return kinds


def log_lines(path: Path) -> list[dict]:
    lines = []
    if path.exists():
        for raw in path.read_text(errors="replace").splitlines():
            try:
                lines.append(json.loads(raw))
            except ValueError:
                lines.append({"level": "RAW", "message": raw})
    return lines


def notable(lines: list[dict]) -> Counter:
    """Warnings and errors by message, with numbers and ids folded so alike lines count together."""
    counted = Counter()
    for line in lines:
        if line.get("level") in ("WARNING", "ERROR", "CRITICAL"):
            message = re.sub(r"(Ev\d+|slack:\S+|T-\S+|\d+(\.\d+)?)", "#", str(line.get("message", "")))[:110]
            exception = str(line.get("exception") or "").strip().splitlines()
            tail = f" [{exception[-1][:90]}]" if exception else ""
            counted[f"{line.get('level')} {message}{tail}"] += 1
    return counted


# --- scenarios ------------------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    events: int
    acked: int = 0
    outcome: Outcome | None = None
    kinds: Counter = field(default_factory=Counter)
    cardless: int = 0
    all_replied: float | None = None
    p50: float = float("nan")
    p95: float = float("nan")
    notes: list[str] = field(default_factory=list)
    skipped: str | None = None

    @property
    def problems(self) -> list[str]:
        """What failed the scenario: unacked or lost events, duplicates, tickets whose card is gone."""
        o = self.outcome
        if o is None:
            return []
        found = [(self.events - self.acked, "not acked"), (o.lost, "lost"), (o.duplicate_replies, "duplicate replies"), (o.duplicate_tickets, "duplicate tickets"),
                 (o.duplicate_cards, "duplicate cards"), (self.cardless, "tickets without a card")]
        return [f"{n} {what}" for n, what in found if n]

    @property
    def bad(self) -> int:
        return len(self.problems)


async def run_scenario(name: str, *, home: Path, events: int, rate: float, postgres: str | None, seed: int, pg_outage: float, settle_timeout: float) -> Result:
    """One scenario; ``home`` (the knowledge index and model caches) is shared by all of them."""
    result = Result(name=name, events=events)
    if name == "database-restart" and not postgres:
        result.skipped = "PostgreSQL only: set BATON_TEST_POSTGRES_URL (or --postgres URL)"
        return result
    own = home / name
    if own.exists():  # a reused --home: start from an empty database and log
        shutil.rmtree(own)
    own.mkdir(parents=True)
    database_url = fresh_postgres(postgres, f"faults_bench_{name.replace('-', '_')}") if postgres else f"sqlite:///{own / 'baton.db'}"
    log_path = own / "baton.log"
    llm = None
    extra = {"BATON_LOG_FORMAT": "json"}
    if name == "llm-down":
        from llm.model_replies import simulated_model

        llm = RestartableLLM()
        llm.set_responder(simulated_model)
        await llm.start()
        extra |= {"OPENAI_BASE_URL": llm.base_url, "OPENAI_API_KEY": "sk-bench-not-a-real-key", "BATON_LLM_TIMEOUT_SECONDS": "10"}
    async with FaultySlack(seed=seed, users=customers(events)) as standin:
        bot = BotProcess(port=free_port(), env=bot_env(standin=standin, home=home, database_url=database_url, extra=extra), name=f"faults-{name}", log_path=log_path)
        ready = time.monotonic()
        await bot.start()
        result.notes.append(f"`baton serve` ready in {time.monotonic() - ready:.0f} s")
        batch = make_events(standin, count=events, seed=seed)
        span = events / rate  # seconds over which the events are offered
        delivery, timeline = Delivery(), []
        began = time.monotonic()
        at = lambda share: began + share * span  # noqa: E731
        fault_task = None
        if name == "slack-429":
            standin.windows.append(FaultWindow(POST, at(0.2), at(0.8), share=0.3, status=429, retry_after=2))
            timeline.append(f"30% of {POST} answer 429 (Retry-After 2 s) from +{0.2 * span:.0f} s to +{0.8 * span:.0f} s")
        elif name == "slack-500":
            for share in (0.25, 0.5, 0.75):
                standin.windows.append(FaultWindow(POST, at(share), at(share) + 2.0, share=1.0, status=500))
            timeline.append(f"every {POST} answers HTTP 500 internal_error for 2 s at +{0.25 * span:.0f} s, +{0.5 * span:.0f} s and +{0.75 * span:.0f} s")
        elif name == "slack-timeouts":
            standin.windows.append(FaultWindow(POST, at(0.4), at(0.4) + 10.0, share=1.0, status=200, delay=CLIENT_TIMEOUT + 5))
            timeline.append(f"every {POST} arriving from +{0.4 * span:.0f} s to +{0.4 * span + 10:.0f} s is posted but answered only after {CLIENT_TIMEOUT + 5:.0f} s (client timeout {CLIENT_TIMEOUT:.0f} s)")
        elif name == "database-restart":
            server = PostgresServer(postgres)

            async def restart() -> None:
                await asyncio.sleep(max(0.0, at(0.5) - time.monotonic()))
                down = time.monotonic()
                await server.stop()
                await asyncio.sleep(pg_outage)
                await server.start()
                timeline.append(f"PostgreSQL stopped (-m fast) at +{down - began:.1f} s, up again at +{time.monotonic() - began:.1f} s")

            fault_task = asyncio.ensure_future(restart())
        elif name == "llm-down":

            async def outage() -> None:
                await asyncio.sleep(max(0.0, at(0.3) - time.monotonic()))
                down = time.monotonic()
                await llm.stop()
                await asyncio.sleep(max(0.0, at(0.7) - time.monotonic()))
                await llm.start()
                timeline.append(f"LLM stand-in stopped (connection refused) from +{down - began:.1f} s to +{time.monotonic() - began:.1f} s")

            fault_task = asyncio.ensure_future(outage())
        watch = ReplyWatch(standin=standin, events=batch)
        watch.start()
        sent = await deliver_all(urls=[bot.url], events=batch, rate=rate, delivery=delivery)
        if fault_task is not None:
            await fault_task
        settled, states = await settle(standin=standin, database_url=database_url, timeout=settle_timeout)
        watch.stop()
        waited = time.monotonic() - began
        await bot.stop()
        result.outcome = outcome(standin=standin, events=batch, database_url=database_url)
        result.kinds = reply_kinds(standin, batch)
        figures = store_figures(database_url)
        result.cardless = figures["cardless"]
        result.acked = len(delivery.acked)
        offered = {e["event"]["ts"]: began + i / rate for i, e in enumerate(batch)}
        latencies = [watch.first[ts] - offered[ts] for ts in watch.first]
        result.p50, result.p95 = percentile(latencies, 0.5), percentile(latencies, 0.95)
        result.all_replied = (max(watch.first.values()) - began) if watch.first and not watch.pending else None
        notes = result.notes
        notes.extend(timeline)
        notes.append(f"delivery: {len(delivery.acked)} acked after {delivery.attempts} attempts in {sent:.1f} s; refused: {dict(delivery.refused) or 'none'}")
        in_windows = sum(1 for c in standin.calls_to(POST) if any(w.start <= c.at < w.end for w in standin.windows))
        notes.append(f"injected: {dict(standin.injected) or 'nothing'}" + (f" (of {in_windows} {POST} calls in the fault windows)" if standin.windows else "")
                     + f"; {POST} calls {len(standin.calls_to(POST))}, ok {standin.successful_posts()}")
        notes.append(f"inbox at the end: {states}; settled {settled:.1f} s after the last ack; run {waited:.1f} s")
        if name == "llm-down":
            notes.append(f"decisions by engine: {dict(figures['engines'])}; LLM chat requests {len(llm.chat_requests)}")
            await llm.stop()
        if figures["fail_safe"]:
            notes.append(f"fail-safe tickets (opened by the turn's error path, no decision): {figures['fail_safe']}")
        for pattern, count in figures["twins"].most_common(3):
            notes.append(f"duplicate tickets x{count}: {pattern}")
        lines = log_lines(log_path)
        for message, count in notable(lines).most_common(8):
            notes.append(f"log x{count}: {message}")
        notes.extend(trace_bad_events(result.outcome, standin=standin, batch=batch, database_url=database_url, lines=lines))
        with open(own / "slack_calls.jsonl", "w") as calls:  # what the stand-in saw, for investigation
            for call in standin.calls:
                key = ((call.args.get("metadata") or {}).get("event_payload") or {}).get("key") if isinstance(call.args.get("metadata"), dict) else None
                calls.write(json.dumps({"at": round(call.at - began, 3), "method": call.method, "status": call.status, "error": call.error, "channel": call.args.get("channel"), "thread_ts": call.args.get("thread_ts"), "key": key}) + "\n")
        notes.append(f"bot log: {log_path}; Slack calls: {own / 'slack_calls.jsonl'}")
    return result


def trace_bad_events(result: Outcome, *, standin: SlackStandIn, batch: list[dict], database_url: str, lines: list[dict]) -> list[str]:
    """Lost and duplicated events, grouped by what happened to them: the posts in their thread
    (by idempotency key), their inbox row, and the sequence of warnings the bot logged about them."""
    bad = [e for e in batch if result.replies[e["event"]["ts"]] != 1]
    if not bad:
        return []
    rows = inbox_rows(database_url, [f"slack:{e['event_id']}" for e in bad])
    groups: dict[str, list[str]] = {}
    for event in bad:
        event_id = event["event_id"]
        posted = [(((m.get("metadata") or {}).get("event_payload") or {}).get("key") or "untagged").split(":")[0] for m in standin.thread(event["event"]["channel"], event["event"]["ts"]) if m.get("bot_id")]
        row = rows.get(f"slack:{event_id}") or {}
        said = [f"{line.get('message')}" + (f" [{str(line.get('exception')).strip().splitlines()[-1][:70]}]" if line.get("exception") else "")
                for line in lines if line.get("level") in ("WARNING", "ERROR") and re.search(re.escape(event_id) + r"(?!\d)", json.dumps(line))]
        what = "lost" if not posted else f"{len(posted)} replies"
        signature = f"{what}: thread {posted or 'empty'}; inbox {row.get('status')} after {row.get('attempts')} attempt(s); log: {' -> '.join(said) or 'nothing names it'}"
        groups.setdefault(signature, []).append(event_id)
    return [f"{len(ids)} x {signature} (e.g. {', '.join(ids[:3])})" for signature, ids in sorted(groups.items(), key=lambda kv: -len(kv[1]))]


def print_table(results: list[Result]) -> None:
    header = ("scenario", "acked", "replies (ans/hold/fb)", "tickets", "cards", "no card", "dup r/t/c", "lost", "all replied", "p50/p95 s", "")
    rows = []
    for r in results:
        if r.skipped:
            rows.append((r.name, "-", "-", "-", "-", "-", "-", "-", "-", "-", f"skipped: {r.skipped}"))
            continue
        o = r.outcome
        replies = f"{sum(o.replies.values())} ({r.kinds['answer']}/{r.kinds['holding']}/{r.kinds['fallback']})"
        replied = f"{r.all_replied:.1f} s" if r.all_replied is not None else "never"
        rows.append((
            r.name, f"{r.acked}/{r.events}", replies, str(sum(o.tickets_per_conversation.values())), str(sum(o.cards.values())), str(r.cardless),
            f"{o.duplicate_replies}/{o.duplicate_tickets}/{o.duplicate_cards}", str(o.lost), replied, f"{r.p50:.1f}/{r.p95:.1f}", "PASS" if r.bad == 0 else "FAIL",
        ))
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip())


async def main(*, scenarios: list[str], events: int, rate: float, postgres: str | None, seed: int, pg_outage: float, home: Path | None, settle_timeout: float) -> int:
    logging.basicConfig(level=logging.WARNING)
    where = "PostgreSQL (a fresh database per scenario)" if postgres else "SQLite"
    print(f"faults: {events} events per scenario offered at {rate:.0f}/s, one `baton serve` process, {where}")
    results = []
    home = home or Path(tempfile.mkdtemp(prefix="baton-faults-"))
    for name in scenarios:
        began = time.monotonic()
        result = await run_scenario(name, home=home, events=events, rate=rate, postgres=postgres, seed=seed, pg_outage=pg_outage, settle_timeout=settle_timeout)
        results.append(result)
        print(f"\n[{name}] {'skipped: ' + result.skipped if result.skipped else f'{time.monotonic() - began:.0f} s'}", flush=True)
        for note in result.notes:
            print(f"  {note}", flush=True)
    print()
    print_table(results)
    print("\nreplies: bot posts in the events' threads (answer / holding reply / fallback after an error); no card: tickets")
    print("the store has no card for (its post failed or timed out); dup r/t/c: duplicate replies / tickets / cards; lost:")
    print("acked, but no bot post in its thread; all replied: from the first event offered to the last thread's first reply.")
    failed = [f"{r.name} ({', '.join(r.problems)})" for r in results if not r.skipped and r.bad]
    print("PASS" if not failed else f"FAIL: {'; '.join(failed)}")
    return 0 if not failed else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--rate", type=float, default=10.0, help="events offered per second")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS), help=f"comma-separated, from: {', '.join(SCENARIOS)}")
    parser.add_argument("--postgres", metavar="URL", default=os.environ.get("BATON_TEST_POSTGRES_URL"), help="a PostgreSQL server URL (default: $BATON_TEST_POSTGRES_URL); fresh databases are made on it")
    parser.add_argument("--pg-outage", type=float, default=3.0, help="seconds PostgreSQL stays down in database-restart")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--home", type=Path, help="BATON_HOME shared by the scenarios (its knowledge index is built on the first start; reuse one to skip that)")
    parser.add_argument("--settle-timeout", type=float, default=300.0, help="longest wait, after the last ack, for the inbox to settle")
    args = parser.parse_args()
    chosen = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    unknown = sorted(set(chosen) - set(SCENARIOS))
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(unknown)}")
    raise SystemExit(asyncio.run(main(scenarios=chosen, events=args.events, rate=args.rate, postgres=args.postgres, seed=args.seed, pg_outage=args.pg_outage, home=args.home, settle_timeout=args.settle_timeout)))
