"""`baton eval SUITE --sweep`: the trade-off curve of the operators' dial (``caution``).

The suite is decided once per dial value with the same engine; message embeddings are
memoised so later passes cost only the scoring. Each row gives escalation precision, recall
and the missed-escalation rate, so a team can pick the caution that fits its risk.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from bot.evaluation import engine_for_suite, figures, load_suite, run_cases

DIAL = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


class MemoEncoder:
    """Wraps an encoder and remembers single-text embeddings across sweep passes."""

    def __init__(self, encoder: Any) -> None:
        self.encoder = encoder
        self.dim = encoder.dim
        self.model_id = getattr(encoder, "model_id", "encoder")
        self._memo: dict[str, np.ndarray] = {}

    def encode(self, texts: Sequence[str], *, batch_size: int = 64) -> np.ndarray:
        if len(texts) != 1:
            return self.encoder.encode(texts, batch_size=batch_size)
        text = texts[0]
        if text not in self._memo:
            self._memo[text] = self.encoder.encode([text])[0]
        return self._memo[text][None, :]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.encoder, name)


def set_caution(engine: Any, caution: float) -> None:
    """Move both confidence bars of an engine to one dial value."""
    if engine.intents is not None:
        engine.intents.threshold = caution
    if engine.knowledge is not None:
        engine.knowledge.threshold = caution


def sweep_rows(*, path: Path, with_train: bool, encoder: Any, cache_dir: Path | None, dial: Sequence[float] = DIAL) -> list[dict[str, Any]]:
    """One row of figures per dial value."""
    suite = load_suite(path=path)
    memo = MemoEncoder(encoder)
    engine = engine_for_suite(suite=suite, with_train=with_train, encoder=memo, cache_dir=cache_dir)
    rows = []
    for caution in dial:
        set_caution(engine, caution)
        decisions, latencies = run_cases(decide=engine.decide, cases=suite.cases, progress=False)
        result = figures(suite=suite, decisions=decisions, latencies=latencies)
        rows.append({"caution": caution, **{k: result[k] for k in ("escalation_precision", "escalation_recall", "missed_escalation_rate", "decision_accuracy", "in_scope_accuracy", "oos_recall", "source_accuracy")}})
    return rows


def run_sweep(*, path: Path, with_train: bool, encoder: Any, cache_dir: Path | None, as_json: bool) -> str:
    """The curve as a table (or JSON lines)."""
    rows = sweep_rows(path=path, with_train=with_train, encoder=encoder, cache_dir=cache_dir)
    if as_json:
        return "\n".join(json.dumps(row) for row in rows)
    show = lambda v: "  n/a" if v is None else f"{v:.3f}"  # noqa: E731
    lines = ["caution  precision  recall  missed  accuracy  in-scope  oos-recall  source-acc"]
    for r in rows:
        lines.append(f"{r['caution']:>7.2f}  {show(r['escalation_precision']):>9}  {show(r['escalation_recall']):>6}  {show(r['missed_escalation_rate']):>6}  {show(r['decision_accuracy']):>8}  {show(r['in_scope_accuracy']):>8}  {show(r['oos_recall']):>10}  {show(r['source_accuracy']):>10}")
    return "\n".join(lines)
