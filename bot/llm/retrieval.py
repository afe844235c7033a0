"""Which knowledge passages go into the prompt, and how much of each.

The offline engine has already searched the knowledge base for the message; :class:`SearchMemo`
wraps its search callable so the wrapper reads the same hits instead of embedding the query a
second time. Only the top few documents go to the model (``LLMConfig.passages``, and only those
scoring close to the best), each cut to the sentences that share most words with the question
and to ``passage_chars`` characters: that is most of the token saving against sending five
whole passages, and it also keeps unrelated text (and anything planted in it) out of the prompt.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable

from bot.summary import clip
from bot.types import Source
from knowledge.bm25 import tokenize

__all__ = ["PromptPassage", "SearchMemo", "select_passages"]

_SENTENCE = re.compile(r"(?<=[.!?])\s+")
RELATIVE_CUT = 0.75  # keep a document only if it scores at least this share of the best one
CONFIDENT = 0.9  # search confidence at which the top document alone goes to the model
CONFIDENT_LIMIT = 1


class SearchMemo:
    """A thread-safe memo around a ``search(query, *, k)`` callable (the last few queries)."""

    def __init__(self, search: Callable[..., Any], *, size: int = 64) -> None:
        self.search = search
        self._size = size
        self._cache: OrderedDict[tuple[str, int], Any] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, query: str, *, k: int = 5, query_vector: Any = None) -> Any:
        """The cached result for ``(query, k)``, searching on a miss (with the caller's vector)."""
        key = (query, k)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        result = self.search(query, k=k) if query_vector is None else self.search(query, k=k, query_vector=query_vector)
        with self._lock:
            self._cache[key] = result
            while len(self._cache) > self._size:
                self._cache.popitem(last=False)
        return result


def install_memo(offline: Any) -> SearchMemo | None:
    """Wrap the offline engine's ``knowledge`` callable once; ``None`` when it has none."""
    search = getattr(offline, "knowledge", None)
    if search is None:
        return None
    if not isinstance(search, SearchMemo):
        search = SearchMemo(search)
        offline.knowledge = search
    return search


@dataclass(frozen=True, slots=True)
class PromptPassage:
    """A passage as the model sees it: a short id (P1, P2...), its source and the text sent."""

    pid: str
    source: Source
    text: str


def select_passages(*, hits: Any, query: str, limit: int, chars: int) -> list[PromptPassage]:
    """The best ``limit`` documents' passages (near the top score), each trimmed to ``chars``;
    only the best one when the search is sure of it (answerable, confident, no close rival)."""
    if hits is None or not getattr(hits, "hits", None) or limit <= 0:
        return []
    if getattr(hits, "answerable", False) and float(getattr(hits, "confidence", 0.0)) >= CONFIDENT and not getattr(hits, "competing", False):
        limit = min(limit, CONFIDENT_LIMIT)
    best = float(hits.hits[0].score)
    chosen, seen = [], set()
    for hit in hits.hits:
        if hit.passage.doc_id in seen or float(hit.score) < best * RELATIVE_CUT:
            continue
        seen.add(hit.passage.doc_id)
        chosen.append(_prompt_passage(hit=hit, number=len(chosen) + 1, query=query, chars=chars))
        if len(chosen) == limit:
            break
    return chosen


def _prompt_passage(*, hit: Any, number: int, query: str, chars: int) -> PromptPassage:
    passage = hit.passage
    source = Source(passage.doc_id, passage.title, passage.anchor, passage.url, float(hit.score), passage.passage_id, passage.text[:300])
    return PromptPassage(pid=f"P{number}", source=source, text=trim_passage(text=passage.text, query=query, chars=chars))


def trim_passage(*, text: str, query: str, chars: int) -> str:
    """The whole text when short; else the sentences sharing most words with the query that fit
    in ``chars``, in their original order (a lone overlong sentence is clipped)."""
    flat = " ".join(text.split())
    if len(flat) <= chars:
        return flat
    sentences = [s for s in _SENTENCE.split(flat) if s.strip()]
    wanted = set(tokenize(query))
    ranked = sorted(range(len(sentences)), key=lambda i: (-len(wanted & set(tokenize(sentences[i]))), i))
    keep, used = [], 0
    for i in ranked:
        if used + len(sentences[i]) + 1 <= chars:
            keep.append(i)
            used += len(sentences[i]) + 1
    return " ".join(sentences[i] for i in sorted(keep)) if keep else clip(sentences[ranked[0]], limit=chars)
