"""Speed of the NumPy encoder and quality/speed of the intent matcher on the routing suites.

Run from the repository root::

    .venv/bin/python benchmarks/intent_bench.py               # encoder + every routing suite
    .venv/bin/python benchmarks/intent_bench.py --encoder-only
    .venv/bin/python benchmarks/intent_bench.py --suite clinc150

Suites are read from ``../shared/eval`` relative to the repository (override with
``--eval-dir``); a missing folder or suite is skipped with a note.  Figures are in-scope
category accuracy and out-of-scope recall over ``cases.jsonl`` (never ``val_cases.jsonl``),
and per-case predict latency including encoding, measured in-process.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from knowledge.embedding import Encoder, load_encoder  # noqa: E402

DEFAULT_EVAL_DIR = REPO.parent / "shared" / "eval"
DEFAULT_CACHE_DIR = REPO / ".baton" / "cache" / "embeddings"
LATENCY_SAMPLE = 300
SENTENCES = [
    "How do I reset my password?",
    "I was charged twice for the same order, can you refund one of them?",
    "cancel my plan",
    "Where can I download last month's invoice as a PDF for our accounting team?",
    "my card has not arrived yet",
]


def rss_mb() -> float:
    """Resident memory of this process now, in MB (Linux; NaN elsewhere)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def percentiles_ms(samples: Sequence[float]) -> tuple[float, float]:
    """p50 and p95 of durations given in seconds, in milliseconds."""
    arr = np.asarray(samples) * 1e3
    return float(np.percentile(arr, 50)), float(np.percentile(arr, 95))


def time_each(fn: Callable[[str], object], texts: Sequence[str], *, warmup: int = 10) -> list[float]:
    """Call ``fn`` once per text and return the wall time of each call."""
    for text in texts[:warmup]:
        fn(text)
    times = []
    for text in texts:
        start = time.perf_counter()
        fn(text)
        times.append(time.perf_counter() - start)
    return times


def bench_encoder(*, texts: Sequence[str]) -> Encoder:
    """Print load time, memory, single-sentence latency and batch throughput."""
    before = rss_mb()
    start = time.perf_counter()
    encoder = load_encoder()
    load_s = time.perf_counter() - start
    encoder.encode(["warm up"])
    print(f"encoder: load {load_s * 1e3:.0f} ms, RSS {rss_mb():.0f} MB after load (+{rss_mb() - before:.0f} MB)")
    sample = list(texts[:LATENCY_SAMPLE]) or SENTENCES * 40
    p50, p95 = percentiles_ms(time_each(lambda t: encoder.encode([t]), sample))
    print(f"encoder: single sentence p50 {p50:.2f} ms, p95 {p95:.2f} ms (n={len(sample)})")
    batch = list(texts[:2000]) or SENTENCES * 200
    start = time.perf_counter()
    encoder.encode(batch)
    elapsed = time.perf_counter() - start
    print(f"encoder: batch of {len(batch)}: {len(batch) / elapsed:.0f} sentences/s, RSS {rss_mb():.0f} MB")
    return encoder


# --------------------------------------------------------------------------- suites


def read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def suite_examples(folder: Path, *, use_train: bool) -> dict[str, list[str]]:
    """Category name -> example utterances (plus ``train.jsonl`` when asked)."""
    examples = {row["name"]: list(row["examples"]) for row in read_jsonl(folder / "categories.jsonl")}
    if use_train:
        for row in read_jsonl(folder / "train.jsonl"):
            examples.setdefault(row["category"], []).append(row["text"])
    return examples


def routing_suites(eval_dir: Path) -> list[tuple[str, Path, bool]]:
    """(label, folder, use_train) for every routing suite present, train variants included."""
    found = []
    if not eval_dir.is_dir():
        return found
    for folder in sorted(p for p in eval_dir.iterdir() if (p / "suite.json").is_file()):
        if json.loads((folder / "suite.json").read_text()).get("mode") != "routing":
            continue
        found.append((folder.name, folder, False))
        if (folder / "train.jsonl").is_file():
            found.append((f"{folder.name}+train", folder, True))
    return found


def bench_suite(*, label: str, folder: Path, use_train: bool, encoder: Encoder, cache_dir: Path) -> dict:
    """Fit on the suite's categories, score ``cases.jsonl``, print and return the figures."""
    from bot.intent import IntentModel

    examples = suite_examples(folder, use_train=use_train)
    start = time.perf_counter()
    model = IntentModel.fit(examples=examples, encoder=encoder, cache_dir=cache_dir)
    fit_s = time.perf_counter() - start
    cases = read_jsonl(folder / "cases.jsonl")
    texts = [case["text"] for case in cases]
    gold = [case["expect"]["category"] for case in cases]
    start = time.perf_counter()
    preds = model.predict_many(texts)
    batch_s = time.perf_counter() - start
    figures = score(gold=gold, predicted=[p.name if p.in_scope else None for p in preds])
    p50, p95 = percentiles_ms(time_each(model.predict, texts[:: max(1, len(texts) // LATENCY_SAMPLE)]))
    figures.update(suite=label, fit_s=round(fit_s, 1), threshold=round(model.threshold, 4),
                   predict_p50_ms=round(p50, 2), predict_p95_ms=round(p95, 2),
                   batch_ms_per_case=round(batch_s / max(1, len(texts)) * 1e3, 2))
    print(json.dumps(figures))
    return figures


def score(*, gold: Sequence[str | None], predicted: Sequence[str | None]) -> dict:
    """In-scope accuracy (cases with a category) and out-of-scope recall."""
    in_scope = [(g, p) for g, p in zip(gold, predicted) if g is not None]
    oos = [p for g, p in zip(gold, predicted) if g is None]
    return {
        "n_cases": len(gold),
        "in_scope_accuracy": round(sum(g == p for g, p in in_scope) / len(in_scope), 4) if in_scope else None,
        "oos_recall": round(sum(p is None for p in oos) / len(oos), 4) if oos else None,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL_DIR)
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE_DIR)
    parser.add_argument("--suite", action="append", help="only these suite labels (e.g. clinc150, banking77+train)")
    parser.add_argument("--encoder-only", action="store_true")
    args = parser.parse_args(argv)

    suites = routing_suites(args.eval_dir)
    sample_texts = [c["text"] for _, folder, _ in suites[:1] for c in read_jsonl(folder / "cases.jsonl")]
    encoder = bench_encoder(texts=sample_texts)
    if args.encoder_only:
        return 0
    if not suites:
        print(f"no routing suites under {args.eval_dir}; skipping intent figures")
        return 0
    for label, folder, use_train in suites:
        if args.suite and label not in args.suite:
            continue
        bench_suite(label=label, folder=folder, use_train=use_train, encoder=encoder, cache_dir=args.cache_dir)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
