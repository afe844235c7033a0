"""Decision quality on every evaluation suite, as a Markdown table beside the targets.

Runs the offline engine (same code, default settings) on each suite of ``../shared/eval``
in-process, exactly as ``baton eval SUITE --json`` does, and writes the table to stdout and
to ``--out`` (default ``benchmarks/quality.md``). Suites that are absent are skipped.

    .venv/bin/python benchmarks/quality.py [--eval-dir DIR] [--out FILE] [--suite NAME ...]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bot.evaluation import evaluate  # noqa: E402
from knowledge.embedding import load_encoder  # noqa: E402

RUNS = (  # (label, suite, with_train, figures: (key, target) ...)
    ("clinc150", "clinc150", False, (("in_scope_accuracy", 0.95), ("oos_recall", 0.80))),
    ("banking77 (10-shot)", "banking77", False, (("escalation_recall", 0.97), ("escalation_precision", 0.95), ("in_scope_accuracy", 0.88))),
    ("banking77 --with-train", "banking77", True, (("decision_accuracy", 0.985),)),
    ("banking77_oos", "banking77_oos", False, (("oos_recall", 0.80), ("in_scope_accuracy", 0.85))),
    ("stackfaq", "stackfaq", False, (("source_accuracy", 0.90), ("unanswerable_recall", 0.85), ("answer_rate_answerable", 0.85))),
    ("airline_sentiment", "airline_sentiment", False, (("emotional_precision", 0.85), ("emotional_recall", 0.85))),
)


def value(result: dict, key: str) -> float | None:
    if key.startswith("emotional_"):
        return (result["reasons"].get("emotional") or {}).get(key.split("_", 1)[1])
    return result.get(key)


def row(label: str, result: dict, wanted: tuple) -> str:
    cells = []
    for key, target in wanted:
        got = value(result, key)
        mark = "n/a" if got is None else f"{got:.3f} {'✅' if got >= target else '❌'}"
        cells.append(f"{key.replace('_', ' ')} {mark} (target {target:.2f})")
    latency = result["latency_ms"]
    return f"| {label} | {'; '.join(cells)} | {result['escalation_precision'] or 0:.3f} / {result['escalation_recall'] or 0:.3f} | {latency['p50']:.1f} / {latency['p95']:.1f} |"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eval-dir", type=Path, default=REPO.parent / "shared" / "eval")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "quality.md")
    parser.add_argument("--cache-dir", type=Path, default=REPO / ".baton" / "cache")
    parser.add_argument("--suite", action="append", help="only these suites (by name)")
    args = parser.parse_args()
    encoder = load_encoder()
    lines = ["| suite | figures against targets | escalation precision / recall | latency p50 / p95 ms |", "|---|---|---|---|"]
    raw = {}
    for label, name, with_train, wanted in RUNS:
        if args.suite and name not in args.suite:
            continue
        folder = args.eval_dir / name
        if not folder.is_dir():
            print(f"skipped {name}: {folder} is absent", file=sys.stderr)
            continue
        started = time.perf_counter()
        result = evaluate(path=folder, with_train=with_train, encoder=encoder, cache_dir=args.cache_dir, progress=False)
        print(f"{label}: done in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        raw[label] = result
        lines.append(row(label, result, wanted))
    table = "\n".join(lines)
    print(table)
    args.out.write_text(table + "\n\n<!-- raw figures -->\n```json\n" + json.dumps(raw, indent=1) + "\n```\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
