"""Benchmark of Slack's acknowledgement path: signed events over loopback into a real server.

What it does, and why: Slack retries any event not acknowledged within 3 seconds, and each
retry costs a redelivery to deduplicate. Baton acks before deciding, so the ack should stay fast
even while decisions run. This script starts the Slack stand-in (Web API on 127.0.0.1) in this
process, and Baton in a child process, as in production: the real core and the real aiohttp app
(``bot.server.build_web_app``) on a TCP port. It then posts N signed ``message`` events (each
a different customer's question, spread over 40 channels) with C requests in flight, and prints:

* throughput: acknowledged requests per second over the whole run;
* ack latency p50 / p95 / p99 / max in milliseconds (request sent -> HTTP 200 received);
* how many turns the bot finished (answers or holding replies posted) and how long that took;
* the longest garbage-collection pause in Baton's process: a full collection walks every object
  of the loaded encoder and index and stops all threads, acks included. ``--gc-freeze`` calls
  ``gc.freeze()`` once Baton has started, which takes the start-up heap out of those walks.

Decisions run concurrently with the acks (debounce 0 and no pacing by default: the harshest
case for the event loop). Target: ack p95 <= 100 ms.

Usage: ``python benchmarks/slack_ack.py [--events 500] [--concurrency 50] [--debounce 0] [--gc-freeze]``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import os
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import QUESTIONS, SECRET, SlackStandIn, free_port, percentile, sign  # noqa: E402

import aiohttp  # noqa: E402
from aiohttp import web  # noqa: E402


# --- the child: Baton's server ----------------------------------------------------------------


class GcPauses:
    """Records how long each garbage collection stops the process."""

    def __init__(self) -> None:
        self.count, self.worst_ms, self._started = 0, 0.0, 0.0
        gc.callbacks.append(self._observe)

    def _observe(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.count += 1
            self.worst_ms = max(self.worst_ms, (time.perf_counter() - self._started) * 1000)


async def serve(*, port: int, api_url: str, home: Path, database: Path, freeze: bool) -> None:
    """The real core and web app on 127.0.0.1:port, until the parent terminates this process."""
    from bot.app import build_core
    from bot.server import build_web_app
    from bot.settings import Settings

    settings = Settings(_env_file=None, home=home, database_url=f"sqlite:///{database}", slack_bot_token="xoxb-test", slack_signing_secret=SECRET, slack_api_url=api_url, admin_token="bench-admin-token")
    app = build_web_app(core=build_core(settings=settings), settings=settings)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    if freeze:
        gc.freeze()
    pauses = GcPauses()
    stopped = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stopped.set)
    print("READY", flush=True)
    await stopped.wait()
    print(f"GC {pauses.count} {pauses.worst_ms:.1f}", flush=True)
    os._exit(0)  # skip the graceful drain of the turns still queued


async def start_child(*, port: int, api_url: str, home: Path, debounce: float, freeze: bool) -> asyncio.subprocess.Process:
    """Start Baton in a child process and wait until it listens."""
    database = Path(tempfile.mkdtemp(prefix="baton-bench-db-")) / "bench.db"  # fresh: event ids repeat per run
    env = os.environ | {"BATON_SLACK_DEBOUNCE_SECONDS": str(debounce), "BATON_SLACK_POST_INTERVAL_SECONDS": "0"}
    args = [__file__, "--serve", str(port), "--api-url", api_url, "--home", str(home), "--database", str(database)] + (["--gc-freeze"] if freeze else [])
    child = await asyncio.create_subprocess_exec(sys.executable, *args, env=env, stdout=asyncio.subprocess.PIPE)
    line = await asyncio.wait_for(child.stdout.readline(), timeout=600)
    if line.strip() != b"READY":
        raise RuntimeError(f"Baton did not start: {line!r}")
    return child


# --- the parent: Slack's side -----------------------------------------------------------------


async def drive(*, url: str, bodies: list[str], concurrency: int) -> tuple[list[float], float, int]:
    """Post every body with ``concurrency`` in flight; return latencies (ms), wall time, failures."""
    gate = asyncio.Semaphore(concurrency)
    latencies: list[float] = []
    failures = 0
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:

        async def one(body: str) -> None:
            nonlocal failures
            async with gate:
                started = time.perf_counter()
                async with session.post(url, data=body.encode(), headers=sign(body)) as response:
                    await response.read()
                    latencies.append((time.perf_counter() - started) * 1000)
                    failures += response.status != 200

        began = time.perf_counter()
        await asyncio.gather(*(one(b) for b in bodies))
        return latencies, time.perf_counter() - began, failures


def customer_replies(standin: SlackStandIn) -> int:
    """Threads the bot has replied in (answers or holding replies), one per turn."""
    return len({(c.args.get("channel"), c.args.get("thread_ts")) for c in standin.calls_to("chat.postMessage") if c.ok and str(c.args.get("channel", "")).startswith("C0BENCH") and c.args.get("thread_ts")})


async def finished_turns(*, standin: SlackStandIn, expected: int, wait: float) -> int:
    """Turns finished so far, waiting up to ``wait`` seconds for all of them."""
    deadline = time.monotonic() + wait
    while (done := customer_replies(standin)) < expected and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    return done


async def stop_child(child: asyncio.subprocess.Process) -> str:
    """Terminate Baton and return its GC report line."""
    child.terminate()
    out, _ = await child.communicate()
    return next((line for line in out.decode().splitlines() if line.startswith("GC ")), "GC ? ?")


async def main(*, events: int, concurrency: int, debounce: float, wait: float, freeze: bool) -> None:
    logging.basicConfig(level=logging.WARNING)
    home = Path(os.environ.get("BATON_BENCH_HOME") or tempfile.mkdtemp(prefix="baton-bench-"))
    users = {f"U0C{i:05d}": {"name": f"customer{i}"} for i in range(events + 20)}
    async with SlackStandIn(users=users) as standin:
        port = free_port()
        child = await start_child(port=port, api_url=standin.base_url, home=home, debounce=debounce, freeze=freeze)
        try:
            url = f"http://127.0.0.1:{port}/slack/events"
            bodies = [json.dumps(standin.event_callback(standin.message_event(channel=f"C0BENCH{i % 40:02d}", user=f"U0C{i:05d}", text=QUESTIONS[i % len(QUESTIONS)]))) for i in range(events + 20)]
            await drive(url=url, bodies=bodies[:20], concurrency=concurrency)  # warm-up: auth.test, first turns
            latencies, elapsed, failures = await drive(url=url, bodies=bodies[20:], concurrency=concurrency)
            acked_at = time.perf_counter()
            done = await finished_turns(standin=standin, expected=events + 20, wait=wait)
            drain = time.perf_counter() - acked_at
        finally:
            gc_line = await stop_child(child)
        report(latencies=latencies, elapsed=elapsed, failures=failures, concurrency=concurrency, done=done, drain=drain, events=events + 20)
        _, count, worst = gc_line.split()
        print(f"  gc pauses    {count} collections in Baton, longest {worst} ms{' (gc.freeze() after start-up)' if freeze else ''}")


def report(*, latencies: list[float], elapsed: float, failures: int, concurrency: int, done: int, drain: float, events: int) -> None:
    n = len(latencies)
    print(f"slack ack benchmark: {n} signed events (+20 warm-up), {concurrency} in flight, loopback, Baton in its own process")
    print(f"  throughput   {n / elapsed:8.1f} acks/s  ({elapsed:.2f} s, {failures} non-200)")
    print(f"  ack latency  p50 {statistics.median(latencies):6.1f} ms   p95 {percentile(latencies, 0.95):6.1f} ms   p99 {percentile(latencies, 0.99):6.1f} ms   max {max(latencies):6.1f} ms")
    print(f"  turns done   {done}/{events} threads replied to, {drain:.2f} s after the last ack")
    print(f"  target       ack p95 <= 100 ms: {'met' if percentile(latencies, 0.95) <= 100 else 'NOT met'}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--debounce", type=float, default=0.0, help="seconds of per-conversation debounce (production: 1.5)")
    parser.add_argument("--wait", type=float, default=180.0, help="seconds to wait for the turns to finish")
    parser.add_argument("--gc-freeze", action="store_true", help="gc.freeze() in Baton's process once started")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--api-url", help=argparse.SUPPRESS)
    parser.add_argument("--home", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--database", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        logging.basicConfig(level=logging.WARNING)
        asyncio.run(serve(port=args.serve, api_url=args.api_url, home=args.home, database=args.database, freeze=args.gc_freeze))
    else:
        asyncio.run(main(events=args.events, concurrency=args.concurrency, debounce=args.debounce, wait=args.wait, freeze=args.gc_freeze))
