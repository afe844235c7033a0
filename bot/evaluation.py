"""`baton eval`: run the engine over an evaluation suite and report the figures of FORMAT.md.

A suite's categories become the rules' categories (routing), its ``knowledge/`` folder the
knowledge base (knowledge), or neither (signals). ``train.jsonl`` is used only when asked.
Latency is measured in-process around each decision.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from bot.jsonlines import json_objects
from bot.rules import Category, Rules
from bot.types import Conversation, Decision, Reason, Role, Turn

MODES = ("routing", "knowledge", "signals")
REASONS = ("low_confidence", "policy_risk", "high_value", "emotional")


class SuiteError(Exception):
    """The folder does not follow FORMAT.md; the message says which file and line."""


@dataclass
class Case:
    id: str
    text: str
    history: tuple[Turn, ...]
    escalate: bool
    reasons: tuple[str, ...]
    category: str | None
    source: str | None


@dataclass
class Suite:
    name: str
    mode: str
    path: Path
    cases: list[Case]
    categories: list[dict] = field(default_factory=list)
    train: list[dict] = field(default_factory=list)


# --- loading -----------------------------------------------------------------------------


def _jsonl(path: Path) -> Iterable[tuple[int, dict]]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SuiteError(f"{path}: cannot read: {exc}") from None
    return json_objects(text=text, source=str(path), error=SuiteError)


def _case(item: dict, *, where: str) -> Case:
    expect = item.get("expect")
    if not isinstance(item.get("text"), str) or not isinstance(expect, dict) or not isinstance(expect.get("escalate"), bool):
        raise SuiteError(f"{where}: a case needs 'text' and 'expect' with a boolean 'escalate'")
    history = []
    for turn in item.get("history") or []:
        if not isinstance(turn, dict) or turn.get("role") not in ("customer", "agent", "bot"):
            raise SuiteError(f"{where}: history turns need a role of customer, agent or bot")
        history.append(Turn(role=Role(turn["role"]), text=str(turn.get("text", ""))))
    return Case(str(item.get("id", where)), item["text"], tuple(history), expect["escalate"], tuple(expect.get("reasons") or ()), expect.get("category"), expect.get("source"))


def load_suite(*, path: Path) -> Suite:
    """Read a suite folder, checking it against FORMAT.md."""
    if not path.is_dir():
        raise SuiteError(f"{path}: not a folder")
    meta_path = path / "suite.json"
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SuiteError(f"{path}: missing suite.json (see FORMAT.md)") from None
    except (json.JSONDecodeError, OSError) as exc:
        raise SuiteError(f"{meta_path}: not readable JSON ({exc})") from None
    mode = meta.get("mode") if isinstance(meta, dict) else None
    if mode not in MODES:
        raise SuiteError(f"{meta_path}: 'mode' must be one of {', '.join(MODES)}")
    if not (path / "cases.jsonl").exists():
        raise SuiteError(f"{path}: missing cases.jsonl")
    cases = [_case(item, where=f"{path / 'cases.jsonl'}:{n}") for n, item in _jsonl(path / "cases.jsonl")]
    suite = Suite(str(meta.get("name") or path.name), mode, path, cases)
    if mode == "routing":
        suite.categories = _categories(path)
    if mode == "knowledge" and not (path / "knowledge").is_dir():
        raise SuiteError(f"{path}: a knowledge suite needs a knowledge/ folder")
    return suite


def _categories(path: Path) -> list[dict]:
    file = path / "categories.jsonl"
    if not file.exists():
        raise SuiteError(f"{path}: a routing suite needs categories.jsonl")
    categories = []
    for number, item in _jsonl(file):
        if not item.get("name") or not isinstance(item.get("examples"), list):
            raise SuiteError(f"{file}:{number}: a category needs 'name' and a list of 'examples'")
        categories.append(item)
    return categories


def load_train(*, suite: Suite) -> list[dict]:
    file = suite.path / "train.jsonl"
    return [item for _, item in _jsonl(file)] if file.exists() else []


def suite_rules(*, suite: Suite, with_train: bool) -> Rules:
    """The deployment a routing suite describes, as rules."""
    extra: dict[str, list[str]] = {}
    if with_train:
        for item in load_train(suite=suite):
            extra.setdefault(item["category"], []).append(item["text"])
    categories = []
    for item in suite.categories:
        examples = list(dict.fromkeys([*item["examples"], *extra.get(item["name"], [])]))
        reason = item.get("reason")
        categories.append(Category(name=item["name"], description=item.get("description", ""), examples=examples, automation=item.get("automation", "ai_answer"), policy=item.get("risk"), reason=Reason(reason) if reason else None))
    return Rules(categories=categories)


# --- figures -----------------------------------------------------------------------------


def _ratio(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def _mcc(tp: int, fp: int, fn: int, tn: int) -> float | None:
    denominator = math.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    return round((tp * tn - fp * fn) / denominator, 4) if denominator else None


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (0 for an empty list)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))]


def figures(*, suite: Suite, decisions: list[Decision], latencies: list[float]) -> dict[str, Any]:
    """Every figure FORMAT.md asks for, plus answer rate and unanswerable recall."""
    pairs = list(zip(suite.cases, decisions))
    tp = sum(1 for c, d in pairs if c.escalate and d.escalated)
    fp = sum(1 for c, d in pairs if not c.escalate and d.escalated)
    fn = sum(1 for c, d in pairs if c.escalate and not d.escalated)
    tn = len(pairs) - tp - fp - fn
    result: dict[str, Any] = {
        "suite": suite.name, "mode": suite.mode, "n_cases": len(pairs),
        "escalation_precision": _ratio(tp, tp + fp), "escalation_recall": _ratio(tp, tp + fn),
        "missed_escalation_rate": _ratio(fn, fn + tn), "decision_accuracy": _ratio(tp + tn, len(pairs)),
        "mcc": _mcc(tp, fp, fn, tn), "in_scope_accuracy": None, "oos_recall": None, "source_accuracy": None,
        "answer_rate_answerable": None, "unanswerable_recall": None,
        "reasons": _reason_figures(pairs),
        "latency_ms": {"p50": round(percentile(latencies, 50), 3), "p95": round(percentile(latencies, 95), 3)},
    }
    if suite.mode == "routing":
        result.update(_routing_figures(pairs))
    if suite.mode == "knowledge":
        result.update(_knowledge_figures(pairs))
    return result


def _reason_figures(pairs: list[tuple[Case, Decision]]) -> dict[str, dict[str, float | None]]:
    labelled = sorted({r for c, _ in pairs for r in c.reasons if r in REASONS}, key=REASONS.index)
    out = {}
    for reason in labelled:
        predicted = [reason in {r.value for r in d.reasons} for _, d in pairs]
        expected = [reason in c.reasons for c, _ in pairs]
        hits = sum(1 for p, e in zip(predicted, expected) if p and e)
        out[reason] = {"precision": _ratio(hits, sum(predicted)), "recall": _ratio(hits, sum(expected))}
    return out


def _routing_figures(pairs: list[tuple[Case, Decision]]) -> dict[str, Any]:
    in_scope = [(c, d) for c, d in pairs if c.category is not None]
    oos = [(c, d) for c, d in pairs if c.category is None]
    return {
        "in_scope_accuracy": _ratio(sum(1 for c, d in in_scope if d.category.name == c.category), len(in_scope)),
        "oos_recall": _ratio(sum(1 for _, d in oos if d.category.name is None and d.escalated), len(oos)),
    }


def _knowledge_figures(pairs: list[tuple[Case, Decision]]) -> dict[str, Any]:
    answerable = [(c, d) for c, d in pairs if c.source is not None]
    answered = [(c, d) for c, d in answerable if not d.escalated]
    unanswerable = [(c, d) for c, d in pairs if c.source is None]
    correct = sum(1 for c, d in answered if d.sources and d.sources[0].doc_id == c.source)
    return {
        "source_accuracy": _ratio(correct, len(answered)),
        "answer_rate_answerable": _ratio(len(answered), len(answerable)),
        "unanswerable_recall": _ratio(sum(1 for _, d in unanswerable if d.escalated and Reason.LOW_CONFIDENCE in d.reasons), len(unanswerable)),
    }


# --- running -----------------------------------------------------------------------------


def run_cases(*, decide: Callable[[Conversation], Decision], cases: list[Case], progress: bool) -> tuple[list[Decision], list[float]]:
    """Decide every case, timing each decision in-process."""
    from tqdm import tqdm

    decisions, latencies = [], []
    for case in tqdm(cases, desc="deciding", unit="case", disable=not progress, leave=False):
        started = time.perf_counter()
        decision = decide(Conversation(text=case.text, history=case.history))
        latencies.append((time.perf_counter() - started) * 1000)
        decisions.append(decision)
    return decisions, latencies


def engine_for_suite(*, suite: Suite, with_train: bool, encoder: Any, cache_dir: Path | None) -> Any:
    """The offline engine configured as the suite's deployment."""
    from bot.app import build_models

    index = None
    rules = suite_rules(suite=suite, with_train=with_train) if suite.mode == "routing" else Rules()
    if suite.mode == "knowledge":
        from knowledge.index import KnowledgeIndex
        from knowledge.loaders import load_folder

        documents = load_folder(source_dir=suite.path / "knowledge").documents
        index = KnowledgeIndex.build_in_memory(documents, encoder=encoder)
    return build_models(rules=rules, knowledge_index=index, encoder=encoder, cache_dir=cache_dir)


def evaluate(*, path: Path, with_train: bool, encoder: Any, cache_dir: Path | None, progress: bool, limit: int | None = None, llm_settings: Any = None) -> dict[str, Any]:
    """Load, configure, decide and report one suite (through the LLM path when settings are given)."""
    suite = load_suite(path=path)
    if limit:
        suite.cases = suite.cases[:limit]
    engine = engine_for_suite(suite=suite, with_train=with_train, encoder=encoder, cache_dir=cache_dir)
    if llm_settings is not None:
        from bot.llm import wrap_engine

        engine = wrap_engine(offline=engine, settings=llm_settings)
    decisions, latencies = run_cases(decide=engine.decide, cases=suite.cases, progress=progress)
    result = figures(suite=suite, decisions=decisions, latencies=latencies)
    result["with_train"] = with_train
    result["engine"] = "llm" if llm_settings is not None else "offline"
    result["tokens"] = sum(d.tokens for d in decisions)
    return result


def format_figures(result: dict[str, Any]) -> str:
    """A readable block of the figures for the terminal."""
    def show(value: Any) -> str:
        return "n/a" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)

    keys = ("escalation_precision", "escalation_recall", "missed_escalation_rate", "decision_accuracy", "mcc",
            "in_scope_accuracy", "oos_recall", "source_accuracy", "answer_rate_answerable", "unanswerable_recall")
    lines = [f"suite {result['suite']} ({result['mode']}, {result['n_cases']} cases{', with train' if result.get('with_train') else ''})"]
    lines += [f"  {key:<24} {show(result[key])}" for key in keys if result.get(key) is not None]
    for reason, pr in result["reasons"].items():
        lines.append(f"  reason {reason:<17} precision {show(pr['precision'])}  recall {show(pr['recall'])}")
    lines.append(f"  latency ms               p50 {result['latency_ms']['p50']:.2f}  p95 {result['latency_ms']['p95']:.2f}")
    return "\n".join(lines)
