"""Load over loopback: ack and reply latency, and throughput, on SQLite and PostgreSQL (issue 9).

Real `baton serve` processes (one, or several sharing PostgreSQL) receive signed Events API
bodies at a fixed offered rate; Slack's side is the stand-in. Printed: the ack throughput and
p50 / p95 ack latency (Slack's 3-second deadline is what matters; the target is p95 <= 50 ms
at >= 200 events/s per process), and the reply latency from the event's delivery to the bot's
post in its thread, with how many turns per second the replicas finished.

    python benchmarks/load.py                                    # SQLite, one process
    python benchmarks/load.py --postgres URL --replicas 3        # three processes on PostgreSQL
    python benchmarks/load.py --postgres URL --database-rtt-ms 1 # PostgreSQL a network hop away

``--database-rtt-ms`` puts benchmarks/latency_proxy.py between the bot and PostgreSQL, as a
managed database in another zone would be; the round trip it measured is printed. The proxy
listens on 127.0.0.1, so the bot is given the store threads a server on another host gets by
default (``BATON_STORE_THREADS=4``) unless the variable is set.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp

from harness import BotProcess, SlackStandIn, bot_env, customers, free_port, make_events, outcome, percentile, sign


async def offer(*, urls: list[str], events: list[dict], rate: float) -> tuple[dict[str, float], list[float], int, float]:
    """Post each event once at ``rate`` per second, round-robin over ``urls``.

    Returns when each event was acked (monotonic), ack latencies (ms), non-200 count, wall time.
    """
    acked_at: dict[str, float] = {}
    latencies: list[float] = []
    failures = 0
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=500)) as session:

        async def one(index: int, event: dict) -> None:
            nonlocal failures
            await asyncio.sleep(index / rate)
            body = json.dumps(event)
            started = time.perf_counter()
            try:
                async with session.post(urls[index % len(urls)], data=body.encode(), headers=sign(body)) as response:
                    await response.read()
                    ok = response.status == 200
            except aiohttp.ClientError:
                ok = False
            latencies.append((time.perf_counter() - started) * 1000)
            if ok:
                acked_at[event["event"]["ts"]] = time.monotonic()
            else:
                failures += 1

        began = time.perf_counter()
        await asyncio.gather(*(one(i, e) for i, e in enumerate(events)))
        return acked_at, latencies, failures, time.perf_counter() - began


def reply_times(standin: SlackStandIn) -> dict[str, float]:
    """When the first bot post arrived in each thread (the stand-in's monotonic clock)."""
    first: dict[str, float] = {}
    for call in standin.calls_to("chat.postMessage"):
        thread = call.args.get("thread_ts")
        if call.ok and thread and str(call.args.get("channel", "")).startswith("C0BENCH"):
            first.setdefault(str(thread), call.at)
    return first


async def wait_replied(standin: SlackStandIn, *, count: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while len(reply_times(standin)) < count and time.monotonic() < deadline:
        await asyncio.sleep(0.25)


@contextmanager
def delayed(database_url: str, *, rtt_ms: float):
    """The URL through a latency proxy adding about ``rtt_ms`` per round trip (0: the URL itself)."""
    if not rtt_ms:
        yield database_url
        return
    parts = urlsplit(database_url)
    port = free_port()
    proxy = subprocess.Popen([sys.executable, str(Path(__file__).with_name("latency_proxy.py")), "--listen", str(port),
                              "--target", f"{parts.hostname}:{parts.port or 5432}", "--one-way-ms", str(rtt_ms / 2)])
    try:
        time.sleep(0.5)
        user = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
        yield parts._replace(netloc=f"{user}127.0.0.1:{port}").geturl()
    finally:
        proxy.kill()
        proxy.wait()


def measured_rtt_ms(database_url: str) -> float:
    from sqlalchemy import create_engine

    engine = create_engine(database_url)
    with engine.connect() as connection:
        connection.exec_driver_sql("SELECT 1")
        started = time.perf_counter()
        for _ in range(50):
            connection.exec_driver_sql("SELECT 1")
        elapsed = time.perf_counter() - started
    engine.dispose()
    return elapsed / 50 * 1000


async def main(*, events: int, rate: float, database_url: str | None, replicas: int, warmup: int, rtt_ms: float = 0.0) -> None:
    logging.basicConfig(level=logging.WARNING)
    home = Path(tempfile.mkdtemp(prefix="baton-load-"))
    database_url = database_url or f"sqlite:///{home / 'baton.db'}"
    with delayed(database_url, rtt_ms=rtt_ms) as bot_database_url:
        if rtt_ms:
            print(f"database round trip through the latency proxy: {measured_rtt_ms(bot_database_url):.2f} ms (SELECT 1, mean of 50)")
        extra = {"BATON_STORE_THREADS": os.environ.get("BATON_STORE_THREADS", "4")} if rtt_ms else {}
        await _run(events=events, rate=rate, database_url=database_url, bot_database_url=bot_database_url, replicas=replicas, warmup=warmup, home=home, extra=extra)


async def _run(*, events: int, rate: float, database_url: str, bot_database_url: str, replicas: int, warmup: int, home: Path, extra: dict[str, str]) -> None:
    async with SlackStandIn(users=customers(events + warmup)) as standin:
        env = bot_env(standin=standin, home=home, database_url=bot_database_url, extra=extra)
        if "BATON_STORE_THREADS" in env or "BATON_STORE_THREADS" in os.environ:
            print(f"store threads: {env.get('BATON_STORE_THREADS', os.environ.get('BATON_STORE_THREADS'))}")
        bots = [BotProcess(port=free_port(), env=env, name=f"load-replica-{n + 1}", log_path=home / f"baton-{n + 1}.log") for n in range(replicas)]
        for bot in bots:
            await bot.start()
        urls = [b.url for b in bots]
        batch = make_events(standin, count=events + warmup)
        await offer(urls=urls, events=batch[:warmup], rate=50)
        await wait_replied(standin, count=warmup, timeout=120)
        acked_at, latencies, failures, elapsed = await offer(urls=urls, events=batch[warmup:], rate=rate)
        last_ack = time.monotonic()
        await wait_replied(standin, count=events + warmup, timeout=600)
        drained = time.monotonic() - last_ack
        replied = reply_times(standin)
        for bot in bots:
            await bot.stop()
        result = outcome(standin=standin, events=batch, database_url=database_url)
    measured = [e["event"]["ts"] for e in batch[warmup:]]
    reply_ms = [(replied[ts] - acked_at[ts]) * 1000 for ts in measured if ts in replied and ts in acked_at]
    first_ack = min(acked_at.values()) if acked_at else last_ack
    turns_per_second = len(reply_ms) / max(1e-9, max(replied[ts] for ts in measured if ts in replied) - first_ack) if reply_ms else 0.0
    where = "PostgreSQL" if database_url.startswith("postgresql") else "SQLite"
    print(f"load on {where}, {replicas} process(es): {events} events offered at {rate:.0f}/s (+{warmup} warm-up), loopback")
    print(f"  acks         {len(acked_at)} in {elapsed:.2f} s = {len(acked_at) / elapsed:.1f}/s ({len(acked_at) / elapsed / replicas:.1f}/s per process), {failures} failed")
    print(f"  ack latency  p50 {percentile(latencies, 0.5):.1f} ms, p95 {percentile(latencies, 0.95):.1f} ms, max {max(latencies):.1f} ms")
    print(f"  replies      {len(reply_ms)} of {events}; {turns_per_second:.1f} turns/s; backlog drained {drained:.1f} s after the last ack")
    print(f"  reply time   p50 {percentile(reply_ms, 0.5) / 1000:.2f} s, p95 {percentile(reply_ms, 0.95) / 1000:.2f} s after the ack")
    print(f"  integrity    lost {result.lost}, duplicate replies {result.duplicate_replies}, tickets {result.duplicate_tickets}, cards {result.duplicate_cards}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=200.0, help="events offered per second in total")
    parser.add_argument("--postgres", metavar="URL")
    parser.add_argument("--replicas", type=int, default=1)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--database-rtt-ms", type=float, default=0.0, help="PostgreSQL a network hop away: add about this much per round trip")
    args = parser.parse_args()
    if args.replicas > 1 and not args.postgres:
        parser.error("replicas share a database: use --postgres")
    if args.database_rtt_ms and not args.postgres:
        parser.error("--database-rtt-ms delays PostgreSQL: use --postgres")
    asyncio.run(main(events=args.events, rate=args.rate, database_url=args.postgres, replicas=args.replicas, warmup=args.warmup, rtt_ms=args.database_rtt_ms))
