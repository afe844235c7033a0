"""Measure knowledge retrieval and answerability on the public knowledge suites.

Reads a knowledge-mode suite (default ``../shared/eval/stackfaq``, see ``FORMAT.md``),
builds an in-memory index from its ``knowledge/`` folder with the real encoder (the
answerability threshold is calibrated from that folder alone, never from the cases), runs
every case through :func:`knowledge.search.search` and prints:

* source accuracy: answered cases with a source whose first cited document is that source;
* unanswerable recall: cases with ``source: null`` that were flagged unanswerable;
* answer rate: cases with a source that were answered;
* retrieval top-1 (regardless of the decision), decision accuracy, MCC;
* search latency p50/p95 in ms, query embedding included, measured in-process.

Usage::

    .venv/bin/python benchmarks/knowledge_bench.py [--suite DIR] [--json] [--cache-dir DIR]

Exits 0 with a note when the suite folder is absent (CI without the shared data).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from knowledge.index import KnowledgeIndex  # noqa: E402
from knowledge.loaders import load_folder  # noqa: E402
from knowledge.search import search  # noqa: E402

DEFAULT_SUITE = REPO.parent / "shared" / "eval" / "stackfaq"


@dataclass(frozen=True, slots=True)
class Outcome:
    """What search decided for one case, next to what the suite expects."""

    source: str | None
    answered: bool
    first: str | None
    confidence: float
    latency_ms: float
    score_ms: float


class CachedEncoder:
    """Wraps an encoder so repeated benchmark runs reuse embeddings from ``cache_dir``."""

    def __init__(self, encoder, *, cache_dir: Path) -> None:
        from knowledge.embedding import encode_cached

        self._encoder, self._cache_dir, self._encode_cached = encoder, cache_dir, encode_cached
        self.dim = encoder.dim
        self.model_id = getattr(encoder, "model_id", type(encoder).__name__)

    def encode(self, texts, *, batch_size: int = 64) -> np.ndarray:
        return self._encode_cached(self._encoder, list(texts), cache_dir=self._cache_dir)


def read_cases(path: Path) -> list[dict]:
    """The suite's cases, one JSON object a line."""
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def run_cases(index: KnowledgeIndex, cases: list[dict], *, query_vectors: np.ndarray | None) -> list[Outcome]:
    """Search every case; latency is timed per call (query embedding included unless precomputed)."""
    outcomes = []
    for i, case in enumerate(cases):
        vector = None if query_vectors is None else query_vectors[i]
        started = time.perf_counter()
        result = search(index, case["text"], k=5, query_vector=vector)
        elapsed = (time.perf_counter() - started) * 1e3
        first = result.top.doc_id if result.top else None
        outcomes.append(Outcome(case["expect"].get("source"), result.answerable, first, result.confidence, elapsed,
                                result.timings_ms.get("score", elapsed)))
    return outcomes


def figures(outcomes: list[Outcome]) -> dict[str, float]:
    """The suite's knowledge figures (see FORMAT.md) plus retrieval top-1 and latency."""
    with_source = [o for o in outcomes if o.source]
    without = [o for o in outcomes if not o.source]
    answered_src = [o for o in with_source if o.answered]
    escalated = [not o.answered for o in outcomes]
    expected = [not o.source for o in outcomes]
    latencies = np.array([o.latency_ms for o in outcomes])
    scoring = np.array([o.score_ms for o in outcomes])
    return {
        "source_accuracy": _ratio(sum(o.first == o.source for o in answered_src), len(answered_src)),
        "unanswerable_recall": _ratio(sum(not o.answered for o in without), len(without)),
        "answer_rate": _ratio(len(answered_src), len(with_source)),
        "retrieval_top1": _ratio(sum(o.first == o.source for o in with_source), len(with_source)),
        "decision_accuracy": _ratio(sum(e == x for e, x in zip(escalated, expected)), len(outcomes)),
        "mcc": _mcc(escalated, expected),
        "latency_p50_ms": float(np.percentile(latencies, 50)),
        "latency_p95_ms": float(np.percentile(latencies, 95)),
        "scoring_p50_ms": float(np.percentile(scoring, 50)),
        "scoring_p95_ms": float(np.percentile(scoring, 95)),
    }


def _ratio(num: int, den: int) -> float:
    return float(num) / den if den else float("nan")


def _mcc(predicted: list[bool], expected: list[bool]) -> float:
    tp = sum(p and e for p, e in zip(predicted, expected))
    tn = sum(not p and not e for p, e in zip(predicted, expected))
    fp = sum(p and not e for p, e in zip(predicted, expected))
    fn = sum(not p and e for p, e in zip(predicted, expected))
    den = math.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    return (tp * tn - fp * fn) / den if den else 0.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--suite", type=Path, default=DEFAULT_SUITE, help="knowledge-mode suite folder")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--cache-dir", type=Path, default=None, help="reuse embeddings across runs (not for latency)")
    parser.add_argument("--target", type=float, default=None, help="calibration target (default: the index's)")
    args = parser.parse_args(argv)
    if not (args.suite / "cases.jsonl").is_file() or not (args.suite / "knowledge").is_dir():
        print(f"skipped: knowledge suite not found at {args.suite}")
        return 0
    from knowledge.embedding import load_encoder

    encoder = load_encoder()
    if args.cache_dir is not None:
        encoder = CachedEncoder(encoder, cache_dir=args.cache_dir)
    loaded = load_folder(source_dir=args.suite / "knowledge")
    started = time.perf_counter()
    index = KnowledgeIndex.build_in_memory(loaded.documents, encoder, calibration_target=args.target)
    build_s = time.perf_counter() - started
    cases = read_cases(args.suite / "cases.jsonl")
    vectors = encoder.encode([c["text"] for c in cases]) if args.cache_dir is not None else None
    result = figures(run_cases(index, cases, query_vectors=vectors))
    result.update(suite=args.suite.name, n_cases=len(cases), n_docs=len(index.documents),
                  n_passages=len(index.passages), build_seconds=build_s,
                  latency_includes_encoding=vectors is None,
                  calibration={k: v for k, v in index.calibration.items() if not isinstance(v, str)})
    if args.json:
        print(json.dumps(result))
    else:
        _print_table(result)
    return 0


def _print_table(result: dict) -> None:
    print(f"suite {result['suite']}: {result['n_cases']} cases, {result['n_docs']} docs, "
          f"{result['n_passages']} passages (index built in {result['build_seconds']:.1f}s)")
    for key in ("source_accuracy", "unanswerable_recall", "answer_rate", "retrieval_top1", "decision_accuracy", "mcc"):
        print(f"  {key:22s} {result[key]:.3f}")
    note = "" if result["latency_includes_encoding"] else " (query embedding precomputed)"
    print(f"  search latency         p50 {result['latency_p50_ms']:.2f} ms, p95 {result['latency_p95_ms']:.2f} ms{note}")
    print(f"  of which scoring       p50 {result['scoring_p50_ms']:.2f} ms, p95 {result['scoring_p95_ms']:.2f} ms "
          "(hybrid ranking + answerability, without the query embedding)")
    cal = result["calibration"]
    print(f"  calibration            raw threshold {cal.get('raw_threshold', float('nan')):.3f} "
          f"(target {cal.get('target')}, {cal.get('n_pseudo')} pseudo-questions, "
          f"pseudo-positive answer rate {cal.get('pseudo_positive_answer_rate', float('nan')):.2f})")


if __name__ == "__main__":
    raise SystemExit(main())
