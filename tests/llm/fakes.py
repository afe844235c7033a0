"""Fast, deterministic offline parts for the LLM tests: BM25-only search and a word-overlap
category matcher over the sample deployment (no embedding model, no ``bot.intent``).

The real offline engine (:class:`bot.engine.DecisionEngine`) and the real detectors are used;
only the two learned parts are replaced, so the tests run in a second and do not move when
the intent model or the embedding calibration is retuned.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from bot.detectors import Detectors
from bot.engine import DecisionEngine
from bot.rules import Rules, load_rules
from bot.settings import SAMPLE_KNOWLEDGE, SAMPLE_RULES
from knowledge.bm25 import BM25Index, tokenize
from knowledge.chunking import chunk_documents
from knowledge.loaders import load_folder
from knowledge.search import Hit, SearchResult

ANSWERABLE = 0.45
COMPETING = 0.02


@dataclass(frozen=True, slots=True)
class Prediction:
    name: str | None
    confidence: float
    runner_up: str | None
    runner_up_confidence: float
    in_scope: bool


class OverlapIntents:
    """Category = the one whose examples share most stemmed words with the text."""

    def __init__(self, *, rules: Rules, threshold: float = 0.34) -> None:
        self.threshold = threshold
        self._examples = {c.name: [set(tokenize(e)) for e in c.examples] + [set(tokenize(c.description))] for c in rules.categories}

    def _score(self, words: set[str], name: str) -> float:
        return max((len(words & ex) / max(1, min(len(words), len(ex))) for ex in self._examples[name] if ex), default=0.0)

    def predict(self, text: str) -> Prediction:
        words = set(tokenize(text))
        ranked = sorted(((self._score(words, n), n) for n in self._examples), reverse=True)
        (best, name), (second, runner) = ranked[0], ranked[1]
        return Prediction(name, best, runner, second, best >= self.threshold)


class LexicalKnowledge:
    """BM25 over the sample knowledge base; scores normalised by the query's best possible score."""

    def __init__(self) -> None:
        self.passages = chunk_documents(load_folder(source_dir=SAMPLE_KNOWLEDGE).documents)
        self.index = BM25Index.build([p.index_text for p in self.passages])

    def __call__(self, query: str, *, k: int = 5) -> SearchResult:
        scores = self.index.scores(query) / max(self.index.max_score(query), 1e-9)
        best_by_doc: dict[str, int] = {}
        for i in np.argsort(-scores):
            if scores[i] <= 0 or len(best_by_doc) >= k:
                break
            best_by_doc.setdefault(self.passages[i].doc_id, int(i))
        hits = [Hit(self.passages[i], float(scores[i]), float(scores[i]), 0.0) for i in best_by_doc.values()]
        return _result(hits)


def _result(hits: list[Hit]) -> SearchResult:
    if not hits:
        return SearchResult(hits=[], answerable=False, confidence=0.0, missing_knowledge=True, competing=False)
    top = hits[0].score
    competing = len(hits) > 1 and top - hits[1].score < COMPETING
    answerable = top >= ANSWERABLE and not competing
    return SearchResult(hits=hits, answerable=answerable, confidence=min(1.0, top), missing_knowledge=not answerable and not competing, competing=competing)


@functools.lru_cache(maxsize=1)
def sample_rules() -> Rules:
    return load_rules(path=SAMPLE_RULES)


@functools.lru_cache(maxsize=1)
def lexical_knowledge() -> LexicalKnowledge:
    return LexicalKnowledge()


def offline_engine(*, with_knowledge: bool = True) -> DecisionEngine:
    """The real offline engine on the sample rules, with the fast fakes plugged in."""
    rules = sample_rules()
    knowledge = lexical_knowledge()
    detectors = Detectors(sentiment_threshold=rules.thresholds.sentiment)
    return DecisionEngine(rules=rules, detectors=detectors, intents=OverlapIntents(rules=rules),
                          knowledge=knowledge if with_knowledge else None, knowledge_size=len(knowledge.passages) if with_knowledge else 0)
