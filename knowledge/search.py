"""Hybrid search over a knowledge index (:class:`SearchableIndex`), and the answerability decision.

Ranking
    Every passage gets a semantic score (cosine between the query embedding and the
    passage's title + heading + body embedding) and a lexical score (BM25, divided by the
    most that query could score, ``sum(idf) * (k1 + 1)``, so it is on a 0..1 scale that
    means the same for every query; query words the knowledge base has never seen count in
    that maximum, so a question about something the KB never mentions scores low).  A
    document's semantic score is the best of its passages' cosines and its title's cosine;
    its lexical score is its best passage's; its hybrid score is
    ``(1 - LEXICAL_WEIGHT) * semantic + LEXICAL_WEIGHT * lexical``.  Ranking is per
    document, and each hit carries that document's best passage (by the same weighted sum at
    passage level) so the answer cites the right heading anchor.  A weighted sum of
    normalised scores beat either score alone and beat reciprocal-rank fusion in earlier
    measurements: fusion by rank throws away *how much* better the top document is, which is
    exactly what the answerability decision needs.

Answerability
    The raw evidence is ``top + MARGIN_WEIGHT * (top - second)``: the hybrid score of the best
    document (absolute similarity, lexical overlap included) plus a bonus for its margin over
    the next *different* document.  A question the KB cannot answer usually lands on some
    near-domain document with a mediocre score and several others close behind it.

    The threshold on that evidence is calibrated from the knowledge base itself when the
    index is built (:func:`calibrate`), never from labelled test questions:

    1. every document's title is used as a pseudo-question (in FAQ-style knowledge the title
       *is* the question; in help centres it names the topic);
    2. each pseudo-question is searched against the index with its own document removed.
       That simulates a real question whose answer is missing from the KB but whose
       neighbours are present: the hardest kind of question to refuse.  Documents that
       hold a near-duplicate of one of its passages (cosine >= ``TWIN_COSINE``, e.g. an
       FAQ row restating a help article) are removed with it, since otherwise the KB can
       still answer the "missing" question and the pseudo-negative is really a positive;
    3. the raw threshold is the ``target`` quantile (default 0.9) of those pseudo-negative
       scores, so about 90% of such questions would be refused.  With few documents the
       quantile is shrunk towards a prior (``PRIOR_THRESHOLD``, weight ``PRIOR_WEIGHT``
       pseudo-questions) because a quantile of five numbers is noise;
    4. the same pseudo-questions with their document present give a sanity figure
       (``pseudo_positive_answer_rate``) stored next to the threshold.

    ``confidence`` is the logistic of ``(raw - threshold) / scale`` with the scale set so the
    median pseudo-negative maps to 0.1: the calibrated bar is always confidence 0.5, which
    keeps an operator's override (``threshold=`` here, ``answer_threshold=`` at ingest, the
    rules file's ``answer_confidence``) on a fixed, readable 0..1 scale.

Flags
    ``competing`` is set when the two best documents are within ``COMPETING_MARGIN`` of each
    other (the question may be ambiguous between two articles); ``missing_knowledge`` is set
    when the query is not answerable and that is not because of such a tie, i.e. the KB most
    likely lacks an article for it: worth reporting to whoever writes the content.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from knowledge.bm25 import BM25Index, tokenize
from knowledge.chunking import Passage

__all__ = ["Hit", "SearchResult", "SearchableIndex", "calibrate", "confidence_of", "search"]


class SearchableIndex(Protocol):
    """What search and calibration read of an index (``knowledge.index.KnowledgeIndex`` is one);
    typed here so that this module does not import the one that builds indexes."""

    documents: list[Any]  # DocumentInfo: doc_id, title, ...
    passages: list[Passage]
    passage_vectors: np.ndarray
    title_vectors: np.ndarray
    doc_starts: np.ndarray
    bm25: BM25Index
    encoder: Any
    calibration: dict[str, Any]
    answer_threshold: float

LEXICAL_WEIGHT = 0.1
MARGIN_WEIGHT = 0.5
COMPETING_MARGIN = 0.02
CALIBRATION_TARGET = 0.9
PRIOR_THRESHOLD = 0.65
PRIOR_WEIGHT = 5
MAX_PSEUDO_QUERIES = 500
TWIN_COSINE = 0.75
_BLOCK = 128


@dataclass(frozen=True, slots=True)
class Hit:
    """One ranked document, represented by its best passage.

    ``score`` is the document's hybrid score, ``semantic`` its best cosine (passage or title),
    ``lexical`` its best normalised BM25 score (0..1).
    """

    passage: Passage
    score: float
    lexical: float
    semantic: float

    @property
    def doc_id(self) -> str:
        return self.passage.doc_id

    @property
    def title(self) -> str:
        return self.passage.title

    @property
    def anchor(self) -> str:
        return self.passage.anchor

    @property
    def url(self) -> str | None:
        return self.passage.url


@dataclass(frozen=True, slots=True)
class SearchResult:
    """Ranked documents plus the decision whether the best one really answers the query."""

    hits: list[Hit]
    answerable: bool
    confidence: float
    missing_knowledge: bool
    competing: bool
    threshold: float = 0.5
    timings_ms: dict[str, float] = field(default_factory=dict, compare=False)

    @property
    def top(self) -> Hit | None:
        """The best hit, or None when nothing matched."""
        return self.hits[0] if self.hits else None


@dataclass(frozen=True, slots=True)
class _DocScores:
    """Per-document scores of a batch of queries, each (n_queries, n_docs)."""

    hybrid: np.ndarray
    semantic: np.ndarray
    lexical: np.ndarray


# --------------------------------------------------------------------------- search


def search(
    index: SearchableIndex,
    query: str,
    *,
    k: int = 5,
    threshold: float | None = None,
    query_vector: np.ndarray | None = None,
) -> SearchResult:
    """Rank the index's documents for ``query`` and decide whether the top one answers it.

    ``threshold`` (confidence, 0..1) overrides the index's bar for this call;
    ``query_vector`` lets a caller that already embedded the query skip the encoder.
    """
    bar = index.answer_threshold if threshold is None else float(threshold)
    if not query.strip() or not index.documents:
        return SearchResult(hits=[], answerable=False, confidence=0.0, missing_knowledge=True,
                            competing=False, threshold=bar)
    started = time.perf_counter()
    if query_vector is None:
        query_vector = index.encoder.encode([query])[0]
    encoded = time.perf_counter()
    tokens = tokenize(query)
    scores, passage_hybrid = _score_queries(index, np.asarray(query_vector, np.float32)[None, :], [tokens],
                                            keep_passages=True)
    hybrid = scores.hybrid[0]
    order = _top_k(hybrid, max(k, 2))
    raw = _raw_evidence(hybrid[order[0]], hybrid[order[1]] if len(order) > 1 else None)
    confidence = confidence_of(raw, index.calibration)
    competing = _competing(hybrid, order, calibration=index.calibration, bar=bar)
    hits = [_hit(index, d, scores, passage_hybrid[0]) for d in order[:k]]
    answerable = confidence >= bar
    timings = {"encode": (encoded - started) * 1e3, "score": (time.perf_counter() - encoded) * 1e3}
    return SearchResult(hits=hits, answerable=answerable, confidence=confidence,
                        missing_knowledge=not answerable and not competing, competing=bool(competing),
                        threshold=bar, timings_ms=timings)


def _competing(hybrid: np.ndarray, order: np.ndarray, *, calibration: dict[str, Any], bar: float) -> bool:
    """Two documents nearly tied, either of which would answer with a clear lead.

    A tie between two irrelevant documents is missing knowledge, not competing sources.
    """
    if len(order) < 2 or hybrid[order[0]] - hybrid[order[1]] >= COMPETING_MARGIN:
        return False
    with_lead = _raw_evidence(hybrid[order[0]], hybrid[order[0]] - COMPETING_MARGIN)
    return confidence_of(with_lead, calibration) >= bar


def _top_k(values: np.ndarray, k: int) -> np.ndarray:
    k = min(k, len(values))
    idx = np.argpartition(-values, k - 1)[:k]
    return idx[np.argsort(-values[idx], kind="stable")]


def _hit(index: SearchableIndex, doc: int, scores: _DocScores, passage_hybrid: np.ndarray) -> Hit:
    lo, hi = index.doc_starts[doc], index.doc_starts[doc + 1]
    best = lo + int(np.argmax(passage_hybrid[lo:hi]))
    return Hit(passage=index.passages[best], score=float(scores.hybrid[0, doc]),
               lexical=float(scores.lexical[0, doc]), semantic=float(scores.semantic[0, doc]))


def _raw_evidence(top: float, second: float | None) -> float:
    """Best document's score plus a bonus for its lead over the runner-up."""
    margin = top - (0.0 if second is None else second)
    return float(top + MARGIN_WEIGHT * margin)


def confidence_of(raw: float, calibration: dict[str, Any]) -> float:
    """Map raw evidence to 0..1 with the calibrated bar at exactly 0.5 (see module docstring)."""
    threshold = float(calibration.get("raw_threshold", PRIOR_THRESHOLD))
    scale = float(calibration.get("scale", 0.05))
    z = (raw - threshold) / max(scale, 1e-6)
    return float(1.0 / (1.0 + math.exp(-max(min(z, 50.0), -50.0))))


# --------------------------------------------------------------------------- scoring


def _score_queries(
    index: SearchableIndex,
    query_vectors: np.ndarray,
    token_lists: list[list[str]],
    *,
    keep_passages: bool = False,
) -> tuple[_DocScores, np.ndarray | None]:
    """Hybrid, semantic and lexical scores of every document for a batch of queries.

    Returns the per-document scores and, when ``keep_passages``, the per-passage hybrid
    scores (used to pick the passage a hit cites).
    """
    starts = index.doc_starts[:-1]
    cosine = query_vectors @ index.passage_vectors.T  # (m, P)
    lexical = np.stack([_normalised_bm25(index, tokens) for tokens in token_lists])  # (m, P)
    title_cosine = query_vectors @ index.title_vectors.T  # (m, D)
    semantic = np.maximum(np.maximum.reduceat(cosine, starts, axis=1), title_cosine)
    doc_lexical = np.maximum.reduceat(lexical, starts, axis=1)
    hybrid = (1.0 - LEXICAL_WEIGHT) * semantic + LEXICAL_WEIGHT * doc_lexical
    passage_hybrid = (1.0 - LEXICAL_WEIGHT) * cosine + LEXICAL_WEIGHT * lexical if keep_passages else None
    return _DocScores(hybrid=hybrid, semantic=semantic, lexical=doc_lexical), passage_hybrid


def _normalised_bm25(index: SearchableIndex, tokens: list[str]) -> np.ndarray:
    """BM25 over passages divided by the most this query could score (0..1).

    Query words the KB never uses count in the maximum with the idf of a term in no
    passage, so a question about an unknown product does not look like a perfect match.
    """
    bm25 = index.bm25
    if not tokens:
        return np.zeros(bm25.n_docs, dtype=np.float32)
    unseen_idf = math.log(1.0 + (bm25.n_docs + 0.5) / 0.5)
    ceiling = sum(bm25.idf.get(t, unseen_idf) for t in tokens) * (bm25.k1 + 1.0)
    return bm25.scores(tokens) / np.float32(max(ceiling, 1e-9))


# --------------------------------------------------------------------------- calibration


def calibrate(index: SearchableIndex, *, target: float = CALIBRATION_TARGET) -> dict[str, Any]:
    """Choose the answerability threshold from the knowledge base alone (no labels).

    Leave-one-document-out pseudo-questions (see the module docstring): each sampled
    document's title is scored against every *other* document (pseudo-negatives) and
    against all documents (pseudo-positives).  Returns the JSON-ready calibration record
    stored in the index manifest.
    """
    if not 0.5 <= target < 1.0:
        raise ValueError("calibration target must be in [0.5, 1)")
    n_docs = len(index.documents)
    record: dict[str, Any] = {
        "method": "leave-one-document-out title pseudo-questions, quantile of pseudo-negatives",
        "target": target, "lexical_weight": LEXICAL_WEIGHT, "margin_weight": MARGIN_WEIGHT,
        "prior_threshold": PRIOR_THRESHOLD, "prior_weight": PRIOR_WEIGHT,
    }
    if n_docs < 2:
        return {**record, "n_pseudo": 0, "raw_threshold": PRIOR_THRESHOLD, "scale": 0.05}
    sample = _pseudo_sample(n_docs)
    negatives, positives, own_first, with_twins = _pseudo_evidence(index, sample)
    quantile = float(np.quantile(negatives, target))
    n = len(negatives)
    threshold = (n * quantile + PRIOR_WEIGHT * PRIOR_THRESHOLD) / (n + PRIOR_WEIGHT)
    median = float(np.median(negatives))
    scale = max((threshold - median) / math.log(9.0), 0.01)
    calibration = {**record, "n_pseudo": n, "raw_threshold": threshold, "scale": scale}
    accepted = [own and confidence_of(p, calibration) >= 0.5 for p, own in zip(positives, own_first)]
    calibration["pseudo_questions_with_twins"] = with_twins
    calibration["pseudo_positive_answer_rate"] = float(np.mean(accepted))
    calibration["pseudo_negative_answer_rate"] = float(np.mean(negatives >= threshold))
    calibration["pseudo_negative_quantiles"] = {
        str(q): float(np.quantile(negatives, q)) for q in (0.5, 0.8, 0.9, 0.95)
    }
    return calibration


def _pseudo_sample(n_docs: int) -> np.ndarray:
    """Which documents serve as pseudo-questions: all, or a fixed random subset of large KBs."""
    if n_docs <= MAX_PSEUDO_QUERIES:
        return np.arange(n_docs)
    return np.sort(np.random.default_rng(0).choice(n_docs, size=MAX_PSEUDO_QUERIES, replace=False))


def _pseudo_evidence(index: SearchableIndex, sample: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Raw evidence of each sampled title with its document (and its twins) removed, and present.

    Returns (negative evidence, positive evidence, whether its own document ranked first,
    how many pseudo-questions had twins removed too).
    """
    negatives, positives, own_first, with_twins = [], [], [], 0
    for start in range(0, len(sample), _BLOCK):
        block = sample[start : start + _BLOCK]
        vectors = index.title_vectors[block]
        tokens = [tokenize(index.documents[i].title) for i in block]
        scores, _ = _score_queries(index, vectors, tokens)
        twins = _twins(index, block)
        for row, doc in enumerate(block):
            hybrid = scores.hybrid[row].copy()
            positives.append(_evidence_of(hybrid))
            own_first.append(int(np.argmax(hybrid)) == doc)
            hybrid[doc] = -np.inf
            hybrid[twins[row]] = -np.inf
            with_twins += bool(len(twins[row]))
            negatives.append(_evidence_of(hybrid))
    return np.array(negatives), np.array(positives), np.array(own_first), with_twins


def _twins(index: SearchableIndex, docs: np.ndarray) -> list[np.ndarray]:
    """For each document, the other documents holding a near-duplicate passage.

    Knowledge bases repeat themselves (an FAQ row restating a help article); removing only
    one copy would turn a question the KB *can* answer into a false pseudo-negative.
    """
    starts = index.doc_starts
    rows = np.concatenate([np.arange(starts[d], starts[d + 1]) for d in docs])
    sims = index.passage_vectors[rows] @ index.passage_vectors.T  # (rows, P)
    per_doc = np.maximum.reduceat(sims, starts[:-1], axis=1)  # (rows, D)
    out, offset = [], 0
    for d in docs:
        n = starts[d + 1] - starts[d]
        best = per_doc[offset : offset + n].max(axis=0)
        best[d] = -np.inf
        out.append(np.flatnonzero(best >= TWIN_COSINE))
        offset += n
    return out


def _evidence_of(hybrid: np.ndarray) -> float:
    finite = hybrid[np.isfinite(hybrid)]
    if len(finite) == 0:
        return 0.0
    top2 = np.sort(finite)[-2:][::-1]
    return _raw_evidence(float(top2[0]), float(top2[1]) if len(top2) > 1 else None)
