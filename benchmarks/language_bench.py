"""Benchmark of the language check (bot/language.py): needless handoffs and missed languages.

What it prints, and why:

* **English suites** (every case text and earlier turn of the suites in ``../shared/eval``, all
  English): how many a knowledge base written in English would hand off for their language.
  Each one is a needless escalation, so this must stay at or near zero.
* **Other languages** (``benchmarks/data/languages.jsonl``: 142 short support messages in 18
  languages that we wrote for this check, 2 to 12 words each, the length customers write): how
  many are caught, and how many get the right language code (the code goes on the card and picks
  the holding message).
* The same two figures at a few other confidence bars, to show the margin around the shipped
  one (``FOREIGN_CONFIDENCE``), and the check's latency per message.

Usage: ``python benchmarks/language_bench.py [--eval-dir ../shared/eval] [--show N]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import bot.language as language  # noqa: E402

OTHER_LANGUAGES = ROOT / "benchmarks" / "data" / "languages.jsonl"
BARS = (0.9, 0.95, 0.98, 0.99)


def english_texts(eval_dir: Path) -> list[str]:
    texts = []
    for path in sorted(eval_dir.glob("*/cases.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            case = json.loads(line)
            texts.append(case["text"])
            texts += [turn["text"] for turn in case.get("history") or [] if isinstance(turn, dict) and turn.get("text")]
    return texts


def flagged(detector: language.LanguageDetector, texts: list[str]) -> list[tuple[str, language.LanguageGuess]]:
    found = []
    for text in texts:
        guess = detector.foreign(text)
        if guess is not None:
            found.append((text, guess))
    return found


def report(*, english: list[str], others: list[dict], show: int) -> None:
    detector = language.LanguageDetector(known=["en"])
    shipped = language.FOREIGN_CONFIDENCE
    print(f"{'bar':>5}  {'English handed off':>22}  {'other languages caught':>24}  {'right code':>10}")
    for bar in sorted({*BARS, shipped}):
        language.FOREIGN_CONFIDENCE = bar
        needless = flagged(detector, english)
        caught = {row["text"]: guess for row in others if (guess := detector.foreign(row["text"])) is not None}
        right = sum(1 for row in others if row["text"] in caught and caught[row["text"]].code == row["language"])
        mark = "  <- shipped" if bar == shipped else ""
        print(f"{bar:>5.2f}  {len(needless):>6} / {len(english):<6} ({len(needless) / len(english):.4f})  "
              f"{len(caught):>6} / {len(others):<6} ({len(caught) / len(others):.3f})  {right:>4} / {len(caught):<4}{mark}")
        if bar == shipped:
            shown_english, missed = needless[:show], [row for row in others if row["text"] not in caught][:show]
            wrong = [(row, caught[row["text"]].code) for row in others if row["text"] in caught and caught[row["text"]].code != row["language"]][:show]
    language.FOREIGN_CONFIDENCE = shipped
    for text, guess in shown_english:
        print(f"  English handed off: {text!r} as {guess.code} {guess.confidence:.3f}")
    for row in missed:
        print(f"  missed ({row['language']}): {row['text']!r}")
    for row, code in wrong:
        print(f"  caught with another code ({row['language']} as {code}): {row['text']!r}")
    timings = []
    for text in english[:3000] + [row["text"] for row in others]:
        started = time.perf_counter()
        detector.foreign(text)
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    print(f"latency per message: p50 {statistics.median(timings):.3f} ms, p95 {timings[int(0.95 * len(timings))]:.3f} ms ({len(timings)} messages)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eval-dir", type=Path, default=ROOT.parent / "shared" / "eval")
    parser.add_argument("--show", type=int, default=5, help="examples of each kind of mistake to print")
    args = parser.parse_args()
    english = english_texts(args.eval_dir)
    others = [json.loads(line) for line in OTHER_LANGUAGES.read_text(encoding="utf-8").splitlines() if line.strip()]
    languages = sorted({row["language"] for row in others})
    print(f"{len(english)} English texts from {args.eval_dir}; {len(others)} messages in {len(languages)} other languages ({', '.join(languages)})")
    report(english=english, others=others, show=args.show)


if __name__ == "__main__":
    main()
