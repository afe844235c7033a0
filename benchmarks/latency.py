"""Decision latency and memory on the sample deployment (sample rules + sample knowledge base).

Builds the real core in-process, decides a set of varied messages (answers, handoffs, follow-ups)
after a short warm-up, and prints p50 / p95 decision latency and the resident memory with every
model loaded. Run on a quiet machine: the figures are wall-clock.

    .venv/bin/python benchmarks/latency.py [--rounds N]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.app import build_core  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.types import Conversation, Role, Turn  # noqa: E402

MESSAGES = [
    "How do I add my company logo to invoices?",
    "Can I export my expenses to CSV?",
    "How do I connect Slack?",
    "What currencies are supported?",
    "I was charged twice and I want my money back",
    "Someone hacked our account and changed the bank details",
    "Do you sponsor amateur curling tournaments in Manitoba?",
    "This is the third time the bank feed stopped syncing. I'm really fed up with Ledgerly.",
    "Can I talk to a real person please?",
    "How often does the bank feed update?",
]


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--home", default=None, help="state folder (default: a temporary one)")
    args = parser.parse_args()
    home = args.home or tempfile.mkdtemp(prefix="baton-latency-")
    started = time.perf_counter()
    core = build_core(settings=Settings(_env_file=None, home=Path(home)))
    print(f"core built in {time.perf_counter() - started:.1f} s (includes indexing on a fresh home)")
    history = (Turn(Role.CUSTOMER, "My invoices are not sending"), Turn(Role.BOT, "Here is how to check..."))
    for text in MESSAGES:
        core.engine.decide(Conversation(text=text))
    timings = []
    for n in range(args.rounds):
        for i, text in enumerate(MESSAGES):
            conversation = Conversation(text=f"{text} ({n})", history=history if i % 3 == 0 else ())
            begun = time.perf_counter()
            core.engine.decide(conversation)
            timings.append((time.perf_counter() - begun) * 1000)
    timings.sort()
    pick = lambda q: timings[min(len(timings) - 1, int(q * len(timings)))]  # noqa: E731
    print(f"{len(timings)} decisions: p50 {pick(0.50):.1f} ms, p95 {pick(0.95):.1f} ms, max {timings[-1]:.1f} ms")
    print(f"resident memory with the models loaded: {rss_mb():.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
