"""1,000 Slack events, each delivered four times: 0 duplicate replies, tickets or cards (issue 9).

Slack redelivers an event it thinks was not acked (X-Slack-Retry-Num 1 to 3). Here every event
is delivered once and redelivered three times: two redeliveries race the first delivery
(concurrently), the third comes later, while or after the turn runs. With ``--replicas 3``
(PostgreSQL only) each delivery of one event goes to a different replica, as behind a load
balancer.

    python benchmarks/redelivery.py                          # SQLite, one process
    python benchmarks/redelivery.py --postgres URL --replicas 3
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import random
import tempfile
import time
from pathlib import Path

import aiohttp

from harness import (
    BotProcess, SlackStandIn, bot_env, customers, free_port, make_events, outcome, percentile,
    print_outcome, sign, wait_for_replies,
)


async def post(session: aiohttp.ClientSession, url: str, body: str, retry: int) -> tuple[int, float]:
    headers = sign(body) | ({"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"} if retry else {})
    started = time.perf_counter()
    async with session.post(url, data=body.encode(), headers=headers) as response:
        await response.read()
        return response.status, (time.perf_counter() - started) * 1000


async def deliver_four_times(session, *, urls: list[str], event: dict, rng: random.Random, statuses: list[int], acks: list[float]) -> None:
    body = json.dumps(event)
    racing = [post(session, urls[n % len(urls)], body, n) for n in range(3)]  # the first delivery and two racing redeliveries
    for status, ms in await asyncio.gather(*racing):
        statuses.append(status)
        acks.append(ms)
    await asyncio.sleep(rng.uniform(0.0, 3.0))
    status, ms = await post(session, urls[3 % len(urls)], body, 3)
    statuses.append(status)
    acks.append(ms)


async def main(*, events: int, rate: float, database_url: str | None, replicas: int, seed: int) -> int:
    logging.basicConfig(level=logging.WARNING)
    home = Path(tempfile.mkdtemp(prefix="baton-redelivery-"))
    database_url = database_url or f"sqlite:///{home / 'baton.db'}"
    rng = random.Random(seed)
    async with SlackStandIn(users=customers(events)) as standin:
        env = bot_env(standin=standin, home=home, database_url=database_url)
        bots = [BotProcess(port=free_port(), env=env, name=f"bench-replica-{n + 1}", log_path=home / f"baton-{n + 1}.log") for n in range(replicas)]
        for bot in bots:  # one after the other: the first one migrates the database
            await bot.start()
        batch = make_events(standin, count=events, seed=seed)
        statuses: list[int] = []
        acks: list[float] = []
        began = time.perf_counter()
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=200)) as session:

            async def one(index: int, event: dict) -> None:
                await asyncio.sleep(index / rate)
                await deliver_four_times(session, urls=[b.url for b in bots], event=event, rng=rng, statuses=statuses, acks=acks)

            await asyncio.gather(*(one(i, e) for i, e in enumerate(batch)))
        sent = time.perf_counter() - began
        waited = await wait_for_replies(standin=standin, events=batch, timeout=300)
        await asyncio.sleep(3)  # a late duplicate would show up here
        for bot in bots:
            await bot.stop()
        result = outcome(standin=standin, events=batch, database_url=database_url)
    where = "PostgreSQL" if database_url.startswith("postgresql") else "SQLite"
    print(f"redelivery on {where}, {replicas} process(es): {events} events x 4 deliveries (2 racing the first, 1 later) in {sent:.1f} s")
    print(f"  acks         {statuses.count(200)} of {len(statuses)} answered 200; ack p50 {percentile(acks, 0.5):.1f} ms, p95 {percentile(acks, 0.95):.1f} ms")
    print(f"  all replied  {waited:.1f} s after the last delivery")
    print_outcome(result, label="  outcome")
    bad = result.lost + result.duplicate_replies + result.duplicate_tickets + result.duplicate_cards
    print("PASS" if bad == 0 else "FAIL")
    return 0 if bad == 0 else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=50.0, help="new events per second")
    parser.add_argument("--postgres", metavar="URL")
    parser.add_argument("--replicas", type=int, default=1)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    if args.replicas > 1 and not args.postgres:
        parser.error("replicas share a database: use --postgres")
    raise SystemExit(asyncio.run(main(events=args.events, rate=args.rate, database_url=args.postgres, replicas=args.replicas, seed=args.seed)))
