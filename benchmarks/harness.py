"""Shared parts of the reliability benchmarks: real `baton serve` processes and Slack's side.

Each benchmark starts the Slack stand-in (tests/standins) in its own process, runs Baton as
separate `python -m bot serve` processes pointed at it (so they can be killed with SIGKILL and
restarted), delivers signed Events API bodies the way Slack does (retrying what was not
acked), and then counts, per delivered event, the bot's posts in the event's thread, the
tickets of its conversation and the cards of each ticket.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import random
import signal
import socket
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import aiohttp  # noqa: E402

from standins.slack_api import SlackStandIn  # noqa: E402

SECRET = "benchmark-signing-secret"
QUESTIONS = (
    "How do I export my expenses to a spreadsheet for my accountant?",
    "where do I add our VAT number so it shows on invoices",
    "is there a zapier integration?",
    "you charged my card twice on the 3rd",
    "can I talk to a real person please",
    "the PDF download button just spins and nothing happens",
)
CUSTOMER_CHANNELS = 40


def sign(body: str) -> dict[str, str]:
    """Slack's v0 signature headers for ``body``."""
    ts = str(int(time.time()))
    digest = hmac.new(SECRET.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}", "Content-Type": "application/json"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def customers(count: int) -> dict[str, dict]:
    """Stand-in users, one per event, so no two events join one debounced turn."""
    return {f"U0C{i:05d}": {"name": f"customer{i}"} for i in range(count)}


def make_events(standin: SlackStandIn, *, count: int, seed: int = 7) -> list[dict]:
    """``count`` customer questions, each a new top-level post of its own customer."""
    rng = random.Random(seed)
    return [
        standin.event_callback(standin.message_event(channel=f"C0BENCH{i % CUSTOMER_CHANNELS:02d}", user=f"U0C{i:05d}", text=rng.choice(QUESTIONS)))
        for i in range(count)
    ]


@dataclass
class BotProcess:
    """One `python -m bot serve` process (a replica), which can be killed and started again."""

    port: int
    env: dict[str, str]
    name: str
    process: asyncio.subprocess.Process | None = None
    starts: int = 0
    log_path: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/slack/events"

    async def start(self, *, timeout: float = 600) -> None:
        """Start the process and wait until /readyz answers 200."""
        env = os.environ | self.env | {"BATON_INSTANCE": self.name}
        log = open(self.log_path, "ab") if self.log_path else asyncio.subprocess.DEVNULL
        self.process = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(self.port), env=env, cwd=str(ROOT), stdout=log, stderr=log)
        self.starts += 1
        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession() as session:
            while time.monotonic() < deadline:
                if self.process.returncode is not None:
                    raise RuntimeError(f"{self.name} exited with {self.process.returncode} (log: {self.log_path})")
                try:
                    async with session.get(f"http://127.0.0.1:{self.port}/readyz") as response:
                        if response.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.2)
        raise TimeoutError(f"{self.name} did not become ready")

    def kill(self) -> None:
        """SIGKILL: no drain, no cleanup, exactly like a crashed or OOM-killed process."""
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), timeout=20)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()


def bot_env(*, standin: SlackStandIn, home: Path, database_url: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a benchmark replica: Slack through the stand-in, no debounce or pacing."""
    env = {
        "BATON_HOME": str(home), "BATON_DATABASE_URL": database_url, "BATON_LOG_LEVEL": "WARNING",
        "SLACK_BOT_TOKEN": standin.bot_token, "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": standin.base_url, "BATON_ADMIN_TOKEN": "bench-admin-token",
        "BATON_SLACK_DEBOUNCE_SECONDS": "0", "BATON_SLACK_POST_INTERVAL_SECONDS": "0",
    }
    return env | (extra or {})


@dataclass
class Delivery:
    """Slack's side of delivering events: retried (like Slack's redeliveries) until acked."""

    acked: set[str] = field(default_factory=set)
    ack_ms: list[float] = field(default_factory=list)
    attempts: int = 0
    refused: Counter = field(default_factory=Counter)

    async def deliver(self, session: aiohttp.ClientSession, *, urls: list[str], event: dict, retry_delay: float = 0.5, give_up: float = 300) -> None:
        body = json.dumps(event)
        deadline = time.monotonic() + give_up
        retry = 0
        while time.monotonic() < deadline:
            url = urls[(hash(event["event_id"]) + retry) % len(urls)]
            headers = sign(body) | ({"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_error"} if retry else {})
            self.attempts += 1
            started = time.perf_counter()
            try:
                async with session.post(url, data=body.encode(), headers=headers, timeout=aiohttp.ClientTimeout(total=3)) as response:
                    await response.read()
                    if response.status == 200:
                        self.ack_ms.append((time.perf_counter() - started) * 1000)
                        self.acked.add(event["event_id"])
                        return
                    self.refused[response.status] += 1
            except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                self.refused[type(exc).__name__] += 1
            retry += 1
            await asyncio.sleep(retry_delay)


async def deliver_all(*, urls: list[str], events: list[dict], rate: float, delivery: Delivery, concurrency: int = 64) -> float:
    """Send every event at about ``rate`` per second (each retried until acked); returns seconds."""
    gate = asyncio.Semaphore(concurrency)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:

        async def one(index: int, event: dict) -> None:
            await asyncio.sleep(index / rate if rate else 0)
            async with gate:
                await delivery.deliver(session, urls=urls, event=event)

        began = time.perf_counter()
        await asyncio.gather(*(one(i, e) for i, e in enumerate(events)))
        return time.perf_counter() - began


@dataclass
class Outcome:
    """Per event: how many bot posts its thread got; per ticket: how many cards."""

    events: int
    replies: Counter
    cards: Counter
    tickets_per_conversation: Counter

    @property
    def lost(self) -> int:
        return sum(1 for n in self.replies.values() if n == 0)

    @property
    def duplicate_replies(self) -> int:
        return sum(n - 1 for n in self.replies.values() if n > 1)

    @property
    def duplicate_cards(self) -> int:
        return sum(n - 1 for n in self.cards.values() if n > 1)

    @property
    def duplicate_tickets(self) -> int:
        return sum(n - 1 for n in self.tickets_per_conversation.values() if n > 1)


def outcome(*, standin: SlackStandIn, events: list[dict], database_url: str) -> Outcome:
    """Count what reached Slack and the store for each event."""
    from sqlalchemy import create_engine, text

    replies = Counter()
    for event in events:
        channel, ts = event["event"]["channel"], event["event"]["ts"]
        replies[ts] = sum(1 for m in standin.thread(channel, ts) if m.get("bot_id") and m["ts"] != ts)
    cards = Counter()
    for channel in list(standin._messages):
        if channel.startswith("C0BENCH"):
            continue
        for message in standin.messages(channel):
            key = ((message.get("metadata") or {}).get("event_payload") or {}).get("key", "")
            if message.get("bot_id") and key.startswith("card:"):
                cards[key] += 1
    engine = create_engine(database_url)
    with engine.connect() as connection:
        tickets = Counter(dict(connection.execute(text("SELECT conversation_id, COUNT(*) FROM tickets GROUP BY conversation_id")).all()))
    engine.dispose()
    return Outcome(events=len(events), replies=replies, cards=cards, tickets_per_conversation=tickets)


async def wait_for_replies(*, standin: SlackStandIn, events: list[dict], timeout: float) -> float:
    """Wait until every event's thread has a bot post (or ``timeout``); returns seconds waited."""
    began = time.monotonic()
    pending = {(e["event"]["channel"], e["event"]["ts"]) for e in events}
    while pending and time.monotonic() - began < timeout:
        pending = {(c, ts) for c, ts in pending if not any(m.get("bot_id") and m["ts"] != ts for m in standin.thread(c, ts))}
        if pending:
            await asyncio.sleep(0.5)
    return time.monotonic() - began


def print_outcome(result: Outcome, *, label: str) -> None:
    print(f"{label}: {result.events} events")
    print(f"  lost (no reply in the thread)   {result.lost}")
    print(f"  duplicate replies               {result.duplicate_replies}")
    print(f"  duplicate tickets               {result.duplicate_tickets}")
    print(f"  duplicate cards                 {result.duplicate_cards}")
    print(f"  tickets / cards                 {sum(result.tickets_per_conversation.values())} / {sum(result.cards.values())}")
