"""Benchmark of the offline escalation detectors (bot/detectors.py) on the public suites.

What it prints, and why:

* **airline_sentiment** (signals suite): emotional precision and recall. The suite has no
  validation split, so the cases are split once, by a fixed seed, into a 20 % *choice* part
  (used only to pick the sentiment threshold that balances precision and recall, i.e. maximises
  min(P, R)) and an 80 % *held-out* part. Figures are printed for the held-out part and for the
  whole suite, at the shipped default threshold and at the threshold chosen here (they should
  agree: the default was set from this procedure). Plain VADER at its conventional -0.05 cut is
  printed for comparison.
* **clinc150 / banking77** (routing suites): how often each reason fires on cases whose
  ``expect.reasons`` does not contain it (false alarms that would hurt escalation precision), and,
  for the reasons the suite labels, how often it fires where expected.
* **latency** of ``Detectors.detect`` per message, p50 and p95 in milliseconds.

Usage: ``python benchmarks/signals_bench.py [--eval-dir ../shared/eval] [--json] [--show N]``.
The suites are read in place (never copied); a missing suite is skipped.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.detectors import DEFAULT_SENTIMENT_THRESHOLD, Detectors  # noqa: E402
from bot.types import Conversation, Reason, Role, Turn  # noqa: E402

SPLIT_SEED = 20240501
CHOICE_SHARE = 0.2
THRESHOLD_GRID = tuple(round(-0.60 + 0.01 * i, 2) for i in range(56))  # -0.60 .. -0.05
ROUTING_SUITES = ("clinc150", "banking77")
# The shipped default and calmer cut-offs a deployment may prefer (thresholds.sentiment).
OPERATING_POINTS = (DEFAULT_SENTIMENT_THRESHOLD, -0.20, -0.35, -0.50)
REASONS = (Reason.POLICY_RISK, Reason.HIGH_VALUE, Reason.EMOTIONAL, Reason.HUMAN_REQUESTED)


@dataclass(frozen=True, slots=True)
class Scored:
    """One airline case: label, adjusted sentiment, whether a non-threshold kind fired, VADER."""

    case_id: str
    text: str
    expected: bool
    score: float
    other_kind: bool
    vader: float


def default_eval_dir() -> Path:
    """``$BATON_EVAL_DIR``, else ``../shared/eval`` next to the repository."""
    env = os.environ.get("BATON_EVAL_DIR")
    return Path(env) if env else ROOT.parent / "shared" / "eval"


def load_cases(path: Path) -> list[dict]:
    """The cases of one suite file, one JSON object a line."""
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def to_conversation(case: dict) -> Conversation:
    """A suite case as the engine would see it."""
    history = tuple(Turn(role=Role(t["role"]), text=t["text"]) for t in case.get("history", []))
    return Conversation(text=case["text"], history=history)


def split_choice(cases: list[dict], *, seed: int = SPLIT_SEED,
                 share: float = CHOICE_SHARE) -> tuple[list[dict], list[dict]]:
    """A fixed random split: (choice part for picking the threshold, held-out part)."""
    ids = sorted(c["id"] for c in cases)
    chosen = set(random.Random(seed).sample(ids, int(len(ids) * share)))
    return ([c for c in cases if c["id"] in chosen], [c for c in cases if c["id"] not in chosen])


def score_airline(detectors: Detectors, cases: list[dict]) -> list[Scored]:
    """Adjusted sentiment and non-threshold emotional kinds for every case, computed once."""
    scored = []
    for case in cases:
        conversation = to_conversation(case)
        kinds = {s.kind for s in detectors.emotional(conversation=conversation)}
        scored.append(Scored(
            case_id=case["id"], text=case["text"],
            expected="emotional" in case["expect"]["reasons"],
            score=detectors.sentiment(case["text"]),
            other_kind=bool(kinds - {"anger"}),
            vader=detectors.vader(case["text"]),
        ))
    return scored


def precision_recall(pairs: list[tuple[bool, bool]]) -> dict[str, float]:
    """Precision, recall and F1 from (predicted, expected) pairs."""
    tp = sum(p and e for p, e in pairs)
    fp = sum(p and not e for p, e in pairs)
    fn = sum(e and not p for p, e in pairs)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
            "n": len(pairs)}


def emotional_at(scored: list[Scored], threshold: float) -> dict[str, float]:
    """Emotional precision/recall when the adjusted sentiment threshold is ``threshold``."""
    return precision_recall([(s.score <= threshold or s.other_kind, s.expected) for s in scored])


def choose_threshold(scored: list[Scored]) -> float:
    """The grid threshold maximising min(precision, recall); ties go to the higher F1."""
    def key(threshold: float) -> tuple[float, float]:
        figures = emotional_at(scored, threshold)
        return (min(figures["precision"], figures["recall"]), figures["f1"])

    return max(THRESHOLD_GRID, key=key)


def airline_report(detectors: Detectors, cases: list[dict], *, show: int) -> dict:
    """Emotional figures on the airline suite: choice split, held-out split and all."""
    choice, held_out = split_choice(cases)
    scored_choice = score_airline(detectors, choice)
    scored_held = score_airline(detectors, held_out)
    scored_all = scored_choice + scored_held
    chosen = choose_threshold(scored_choice)
    default = detectors.sentiment_threshold
    report = {
        "n_cases": len(cases), "n_choice": len(choice), "n_held_out": len(held_out),
        "split_seed": SPLIT_SEED, "threshold_default": default, "threshold_chosen": chosen,
        "default": {"held_out": emotional_at(scored_held, default),
                    "all": emotional_at(scored_all, default),
                    "choice": emotional_at(scored_choice, default)},
        "chosen": {"held_out": emotional_at(scored_held, chosen),
                   "all": emotional_at(scored_all, chosen)},
        "vader_only_-0.05": {
            "held_out": precision_recall([(s.vader <= -0.05, s.expected) for s in scored_held]),
            "all": precision_recall([(s.vader <= -0.05, s.expected) for s in scored_all]),
        },
    }
    if show:
        errors = [s for s in scored_choice
                  if (s.score <= default or s.other_kind) != s.expected][:show]
        report["choice_errors"] = [
            {"id": s.case_id, "expected": s.expected, "score": round(s.score, 3),
             "text": s.text} for s in errors]
    return report


def routing_report(detectors: Detectors, cases: list[dict], *, show: int) -> dict:
    """Per reason: false-alarm rate where not expected, hit rate where expected, kinds fired."""
    fired: dict[Reason, list[tuple[bool, bool, str]]] = {r: [] for r in REASONS}
    kinds: dict[str, dict[str, int]] = {r.value: {} for r in REASONS}
    for case in cases:
        signals = detectors.detect(to_conversation(case))
        expected = set(case["expect"]["reasons"])
        for reason in REASONS:
            hits = [s for s in signals if s.reason == reason]
            fired[reason].append((bool(hits), reason.value in expected, case["text"]))
            if hits and reason.value not in expected:
                for kind in {s.kind for s in hits}:
                    kinds[reason.value][kind] = kinds[reason.value].get(kind, 0) + 1
    report: dict = {"n_cases": len(cases), "reasons": {}}
    for reason in REASONS:
        rows = fired[reason]
        negatives = [r for r in rows if not r[1]]
        positives = [r for r in rows if r[1]]
        fired_total = sum(r[0] for r in rows)
        correct = sum(r[0] and r[1] for r in rows)
        entry = {
            "false_alarm_rate": round(sum(r[0] for r in negatives) / len(negatives), 4)
            if negatives else None,
            "false_alarms": sum(r[0] for r in negatives),
            "n_not_expected": len(negatives),
            "hit_rate": round(sum(r[0] for r in positives) / len(positives), 4)
            if positives else None,
            "n_expected": len(positives),
            "precision": round(correct / fired_total, 4) if fired_total and positives else None,
            "false_alarm_kinds": kinds[reason.value],
        }
        if show:
            entry["false_alarm_examples"] = [r[2] for r in negatives if r[0]][:show]
        report["reasons"][reason.value] = entry
    return report


def latency_report(detectors: Detectors, texts: list[str]) -> dict:
    """Per-message latency of ``detect`` in milliseconds: wall clock and this thread's CPU time.

    Both are printed because wall-clock tails on a shared machine measure the neighbours' load as
    much as this code; CPU time is what the detectors themselves cost.
    """
    for text in texts[:50]:  # warm up
        detectors.detect(Conversation(text=text))
    wall, cpu = [], []
    for text in texts:
        conversation = Conversation(text=text)
        start_wall, start_cpu = time.perf_counter(), time.thread_time()
        detectors.detect(conversation)
        cpu.append((time.thread_time() - start_cpu) * 1000.0)
        wall.append((time.perf_counter() - start_wall) * 1000.0)
    return {"n": len(texts), "wall": _percentiles(wall), "cpu": _percentiles(cpu)}


def _percentiles(samples: list[float]) -> dict:
    """p50, p95 and max of a list of milliseconds."""
    ordered = sorted(samples)
    return {"p50": round(statistics.median(ordered), 4),
            "p95": round(ordered[int(0.95 * (len(ordered) - 1))], 4),
            "max": round(ordered[-1], 4)}


def operating_points(cases_by_suite: dict[str, list[dict]],
                     thresholds: tuple[float, ...]) -> list[dict]:
    """Emotional figures at several thresholds: airline P/R (held-out and all), routing false
    alarms. The adjusted sentiment is computed once per case; only the cut-off moves."""
    detectors = Detectors()
    scored: dict[str, list[tuple[float, bool, bool]]] = {}
    for name, cases in cases_by_suite.items():
        rows = []
        for case in cases:
            conversation = to_conversation(case)
            other = bool({s.kind for s in detectors.emotional(conversation=conversation)}
                         - {"anger"})
            rows.append((detectors.sentiment(case["text"]), other,
                         "emotional" in case["expect"]["reasons"]))
        scored[name] = rows
    held_ids = None
    if "airline_sentiment" in cases_by_suite:
        _choice, held = split_choice(cases_by_suite["airline_sentiment"])
        held_ids = {c["id"] for c in held}
    points = []
    for threshold in thresholds:
        point: dict = {"threshold": threshold}
        for name, rows in scored.items():
            fired = [(score <= threshold or other, expected) for score, other, expected in rows]
            if name == "airline_sentiment":
                ids = [c["id"] for c in cases_by_suite[name]]
                point[name] = {
                    "held_out": precision_recall([f for f, i in zip(fired, ids) if i in held_ids]),
                    "all": precision_recall(fired)}
            else:
                negatives = [p for p, e in fired if not e]
                rate = round(sum(negatives) / len(negatives), 4)
                point[name] = {"emotional_false_alarm_rate": rate}
        points.append(point)
    return points


def run(*, eval_dir: Path, show: int = 0) -> dict:
    """All figures as one JSON-ready dict."""
    detectors = Detectors()
    result: dict = {"default_threshold": DEFAULT_SENTIMENT_THRESHOLD}
    texts: list[str] = []
    airline = eval_dir / "airline_sentiment" / "cases.jsonl"
    if airline.exists():
        cases = load_cases(airline)
        result["airline_sentiment"] = airline_report(detectors, cases, show=show)
        texts += [c["text"] for c in cases]
    for name in ROUTING_SUITES:
        path = eval_dir / name / "cases.jsonl"
        if path.exists():
            cases = load_cases(path)
            result[name] = routing_report(detectors, cases, show=show)
            texts += [c["text"] for c in cases]
    suites = {name: load_cases(eval_dir / name / "cases.jsonl")
              for name in ("airline_sentiment", *ROUTING_SUITES)
              if (eval_dir / name / "cases.jsonl").exists()}
    if suites:
        result["operating_points"] = operating_points(suites, OPERATING_POINTS)
    if texts:
        result["latency_ms"] = latency_report(detectors, texts)
    return result


def print_text(result: dict) -> None:
    """A short human-readable summary."""
    print(f"default sentiment threshold: {result['default_threshold']:+.2f}")
    air = result.get("airline_sentiment")
    if air:
        print(f"\nairline_sentiment (emotional; {air['n_cases']} cases, choice split "
              f"{air['n_choice']} / held-out {air['n_held_out']}, seed {air['split_seed']})")
        print(f"  threshold chosen on the 20% choice split (max min(P,R)): "
              f"{air['threshold_chosen']:+.2f}")
        for label, block in (("default", air["default"]), ("chosen", air["chosen"]),
                             ("VADER only <= -0.05", air["vader_only_-0.05"])):
            for part in ("held_out", "all"):
                f = block[part]
                print(f"  {label:<20} {part:<9} P {f['precision']:.3f}  R {f['recall']:.3f}  "
                      f"F1 {f['f1']:.3f}  (n={f['n']})")
        for err in air.get("choice_errors", []):
            tag = "FN" if err["expected"] else "FP"
            print(f"    {tag} {err['score']:+.2f} {err['text'][:140]!r}")
    for name in ROUTING_SUITES:
        block = result.get(name)
        if not block:
            continue
        print(f"\n{name} ({block['n_cases']} cases): fires where the reason is NOT expected")
        for reason, entry in block["reasons"].items():
            hit = "" if entry["hit_rate"] is None else (
                f"   hit rate where expected {entry['hit_rate']:.3f} (n={entry['n_expected']}),"
                f" precision {entry['precision']}")
            print(f"  {reason:<16} false alarms {entry['false_alarm_rate']:.4f} "
                  f"({entry['false_alarms']}/{entry['n_not_expected']}){hit}")
            if entry["false_alarm_kinds"]:
                print(f"  {'':<16} kinds: {entry['false_alarm_kinds']}")
            for example in entry.get("false_alarm_examples", []):
                print(f"  {'':<18}- {example[:120]!r}")
    points = result.get("operating_points")
    if points:
        print("\nemotional operating points (thresholds.sentiment):")
        for point in points:
            parts = [f"  {point['threshold']:+.2f}"]
            air = point.get("airline_sentiment")
            if air:
                held, every = air["held_out"], air["all"]
                parts.append(f"airline held-out P {held['precision']:.3f} R {held['recall']:.3f}"
                             f" | all P {every['precision']:.3f} R {every['recall']:.3f}")
            for name in ROUTING_SUITES:
                if name in point:
                    rate = point[name]["emotional_false_alarm_rate"]
                    parts.append(f"{name} false alarms {rate:.3f}")
            print("  ".join(parts))
    lat = result.get("latency_ms")
    if lat:
        print(f"\nlatency per message (detect, n={lat['n']}):")
        for clock in ("wall", "cpu"):
            f = lat[clock]
            print(f"  {clock:<4} p50 {f['p50']:.3f} ms  p95 {f['p95']:.3f} ms  "
                  f"max {f['max']:.3f} ms")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eval-dir", type=Path, default=default_eval_dir())
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--show", type=int, default=0,
                        help="print up to N errors (choice split) and false alarms per reason")
    args = parser.parse_args(argv)
    if not args.eval_dir.exists():
        print(f"no evaluation suites at {args.eval_dir}; nothing to do", file=sys.stderr)
        return 0
    result = run(eval_dir=args.eval_dir, show=args.show)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print_text(result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
