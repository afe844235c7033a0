"""A small Okapi BM25 index over passages, with a simple English tokenizer.

Why BM25 next to embeddings: exact terms (product names, error codes, setting names) are
where sentence embeddings are weakest and lexical matching is strongest; the hybrid in
:mod:`knowledge.search` uses both.

The index keeps, for every term, the passage numbers that contain it and the term's
precomputed BM25 weight in each (``idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * dl / avgdl))``),
as two NumPy arrays.  Scoring a query is then one ``np.add.at`` per query term, which takes
a few microseconds per term for thousands of passages.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

__all__ = ["BM25Index", "STOPWORDS", "stem", "tokenize"]

K1 = 1.2
B = 0.75

# Function words plus the question scaffolding customers wrap every question in
# ("how do I ...", "is it possible to ...") which says nothing about the topic.
STOPWORDS = frozenset(
    """
    a an the and or but if then else of to in on at by for with from into onto over under
    about as is are was were be been being am do does did doing done have has had having
    i me my mine we us our you your yours he him his she her it its they them their this
    that these those there here what which who whom whose when where why how can could
    would should will shall may might must not no so than too very just also any some
    all each such only own same s t don isn aren doesn didn wasn won can't cannot
    please hi hello thanks thank way possible anyone someone something get got
    """.split()
)

_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)
_VOWEL = re.compile(r"[aeiouy]")


def stem(word: str) -> str:
    """Light English suffix stripping: plural ``s``/``es``/``ies``, ``ing``, ``ed``.

    Deliberately conservative (no Porter rules): it only needs to make ``invoices`` meet
    ``invoice`` and ``uploading`` meet ``upload``; both query and passages go through it,
    so an odd stem on both sides still matches.
    """
    if len(word) <= 3 or word.isdigit():
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("sses"):
        return word[:-2]
    if word.endswith("ing") and len(word) > 5 and _VOWEL.search(word[:-3]):
        return _undouble(word[:-3])
    if word.endswith("ed") and len(word) > 4 and _VOWEL.search(word[:-2]):
        return _undouble(word[:-2])
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def _undouble(word: str) -> str:
    """``stopp`` -> ``stop``; a trailing ``e`` is dropped so ``sav(ing)`` meets ``save``."""
    if len(word) > 2 and word[-1] == word[-2] and word[-1] not in "lsz":
        return word[:-1]
    return word


def _normalise_e(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("e") else word


def tokenize(text: str) -> list[str]:
    """Lower-case word tokens, stopwords removed, lightly stemmed."""
    tokens = []
    for raw in _TOKEN.findall(text.lower()):
        if raw in STOPWORDS:
            continue
        tokens.append(_normalise_e(stem(raw)))
    return tokens


@dataclass(slots=True)
class BM25Index:
    """Okapi BM25 over a fixed list of texts; build with :meth:`build`."""

    n_docs: int
    avgdl: float
    idf: dict[str, float]
    postings: dict[str, tuple[np.ndarray, np.ndarray]] = field(repr=False)
    k1: float = K1
    b: float = B

    @classmethod
    def build(cls, texts: Sequence[str], *, k1: float = K1, b: float = B) -> "BM25Index":
        """Tokenize ``texts`` and precompute every term's per-passage BM25 weight."""
        counts = [Counter(tokenize(t)) for t in texts]
        lengths = np.array([sum(c.values()) for c in counts], dtype=np.float64)
        avgdl = float(lengths.mean()) if len(lengths) and lengths.sum() else 1.0
        raw: dict[str, tuple[list[int], list[int]]] = {}
        for i, counter in enumerate(counts):
            for term, tf in counter.items():
                ids, tfs = raw.setdefault(term, ([], []))
                ids.append(i)
                tfs.append(tf)
        n = len(texts)
        idf, postings = {}, {}
        for term, (ids, tfs) in raw.items():
            df = len(ids)
            idf[term] = math.log(1.0 + (n - df + 0.5) / (df + 0.5))
            id_arr = np.asarray(ids, dtype=np.int32)
            tf_arr = np.asarray(tfs, dtype=np.float64)
            norm = k1 * (1.0 - b + b * lengths[id_arr] / avgdl)
            postings[term] = (id_arr, (idf[term] * tf_arr * (k1 + 1.0) / (tf_arr + norm)).astype(np.float32))
        return cls(n_docs=n, avgdl=avgdl, idf=idf, postings=postings, k1=k1, b=b)

    def scores(self, query: str | Iterable[str]) -> np.ndarray:
        """BM25 score of every passage for ``query`` (text, or already-tokenized terms)."""
        terms = tokenize(query) if isinstance(query, str) else list(query)
        out = np.zeros(self.n_docs, dtype=np.float32)
        for term in terms:  # repeated query terms count again, as in Okapi with qtf = 1 each
            posting = self.postings.get(term)
            if posting is not None:
                out[posting[0]] += posting[1]
        return out

    def max_score(self, query: str | Iterable[str]) -> float:
        """Upper bound of a passage's score: the sum of the query terms' idf times (k1 + 1).

        Used to put BM25 scores on a 0..1 scale that means the same for every query.
        """
        terms = tokenize(query) if isinstance(query, str) else list(query)
        return float(sum(self.idf.get(t, 0.0) for t in terms) * (self.k1 + 1.0))

    def top(self, query: str, *, k: int = 10) -> list[tuple[int, float]]:
        """The ``k`` best (passage number, score) pairs with a positive score, best first."""
        scores = self.scores(query)
        k = min(k, len(scores))
        if k <= 0:
            return []
        idx = np.argpartition(-scores, k - 1)[:k]
        idx = idx[np.argsort(-scores[idx], kind="stable")]
        return [(int(i), float(scores[i])) for i in idx if scores[i] > 0]
