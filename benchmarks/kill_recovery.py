"""kill -9 while events flow: after restart, every event has exactly one reply; 0 lost (issue 9).

Baton runs as a real `python -m bot serve` process against the Slack stand-in. While 500 signed
events arrive (each retried until acked, as Slack redelivers), the process is killed with
SIGKILL at random moments and started again under the same instance name, which takes back
the events it had acked but not finished. At the end every event's thread must hold exactly
one bot post (the answer or the holding reply), every conversation at most one ticket and
every ticket exactly one card.

    python benchmarks/kill_recovery.py                 # SQLite, 500 events, 4 kills
    python benchmarks/kill_recovery.py --postgres URL  # the same on PostgreSQL
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import tempfile
import time
from pathlib import Path

from harness import (
    BotProcess, Delivery, SlackStandIn, bot_env, customers, deliver_all, free_port, make_events,
    outcome, percentile, print_outcome, wait_for_replies,
)


async def killer(*, bot: BotProcess, kills: int, rng: random.Random, spacing: tuple[float, float], log: list[str]) -> None:
    """Kill the process ``kills`` times at random moments, restarting it each time."""
    for _ in range(kills):
        await asyncio.sleep(rng.uniform(*spacing))
        began = time.monotonic()
        bot.kill()
        await bot.process.wait()
        await bot.start()
        log.append(f"killed at +{began - log_start[0]:.1f} s, ready again after {time.monotonic() - began:.1f} s")


log_start = [0.0]


async def main(*, events: int, kills: int, rate: float, database_url: str | None, seed: int) -> int:
    logging.basicConfig(level=logging.WARNING)
    home = Path(tempfile.mkdtemp(prefix="baton-kill-"))
    database_url = database_url or f"sqlite:///{home / 'baton.db'}"
    rng = random.Random(seed)
    async with SlackStandIn(users=customers(events)) as standin:
        bot = BotProcess(port=free_port(), env=bot_env(standin=standin, home=home, database_url=database_url), name="bench-replica-1", log_path=home / "baton.log")
        await bot.start()
        batch = make_events(standin, count=events, seed=seed)
        delivery, kill_log = Delivery(), []
        log_start[0] = time.monotonic()
        expected_seconds = events / rate
        murder = asyncio.create_task(killer(bot=bot, kills=kills, rng=rng, spacing=(0.3, max(0.6, expected_seconds / (kills + 1))), log=kill_log))
        sent = await deliver_all(urls=[bot.url], events=batch, rate=rate, delivery=delivery)
        await murder
        waited = await wait_for_replies(standin=standin, events=batch, timeout=180)
        await asyncio.sleep(2)  # let any straggling duplicate show itself
        await bot.stop()
        result = outcome(standin=standin, events=batch, database_url=database_url)
    print(f"kill -9 recovery on {'PostgreSQL' if database_url.startswith('postgresql') else 'SQLite'}: {events} events offered at {rate:.0f}/s, {kills} kills, {bot.starts} starts")
    for line in kill_log:
        print(f"  {line}")
    print(f"  delivery     {len(delivery.acked)} acked after {delivery.attempts} attempts in {sent:.1f} s; refused: {dict(delivery.refused) or 'none'}")
    print(f"  ack latency  p50 {percentile(delivery.ack_ms, 0.5):.1f} ms, p95 {percentile(delivery.ack_ms, 0.95):.1f} ms")
    print(f"  all replied  {waited:.1f} s after the last ack")
    print_outcome(result, label="  outcome")
    bad = result.lost + result.duplicate_replies + result.duplicate_tickets + result.duplicate_cards + (events - len(delivery.acked))
    print("PASS" if bad == 0 else "FAIL")
    return 0 if bad == 0 else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=500)
    parser.add_argument("--kills", type=int, default=4)
    parser.add_argument("--rate", type=float, default=40.0, help="events offered per second")
    parser.add_argument("--postgres", metavar="URL", help="a PostgreSQL URL (its tables are used as they are)")
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    raise SystemExit(asyncio.run(main(events=args.events, kills=args.kills, rate=args.rate, database_url=args.postgres, seed=args.seed)))
