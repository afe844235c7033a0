"""Knowledge gaps: each question the knowledge base could not answer opens or joins a gap.

Similar questions are grouped (token-set similarity, or embeddings when a similarity function is
given) so the team sees one gap per missing article, ordered by how often it was asked.
"""

from __future__ import annotations

import re
from typing import Callable

from bot.store.models import KnowledgeGapRow
from bot.store.repo import Store
from bot.types import utcnow

_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset("a an the is are do does how can i my to of in on for with what when why and or it you your we me".split())
Similarity = Callable[[str, str], float]


def token_similarity(a: str, b: str) -> float:
    """Jaccard similarity of content words: cheap, dependency-free grouping."""
    left = {w for w in _WORD.findall(a.lower()) if w not in _STOP}
    right = {w for w in _WORD.findall(b.lower()) if w not in _STOP}
    if not left or not right:
        return 0.0
    return len(left & right) / len(left | right)


class GapTracker:
    """Opens, joins and closes knowledge gaps in the store."""

    def __init__(self, *, store: Store, similarity: Similarity = token_similarity, join_at: float = 0.5) -> None:
        self.store = store
        self.similarity = similarity
        self.join_at = join_at

    def record(self, *, question: str, ticket_id: str | None) -> KnowledgeGapRow:
        """Join the most similar open gap, or open a new one."""
        best, best_score = None, 0.0
        for gap in self.store.gaps(status="open"):
            score = max(self.similarity(question, q) for q in [gap.question, *gap.examples[-5:]])
            if score > best_score:
                best, best_score = gap, score
        if best is not None and best_score >= self.join_at:
            best.count += 1
            best.examples = [*best.examples, question][-20:]
            best.ticket_ids = [*best.ticket_ids, ticket_id] if ticket_id else best.ticket_ids
            return self.store.save_gap(gap=best)
        return self.store.save_gap(gap=KnowledgeGapRow(question=question, examples=[question], ticket_ids=[ticket_id] if ticket_id else []))

    def close(self, *, gap_id: int, doc_id: str | None) -> KnowledgeGapRow | None:
        for gap in self.store.gaps(status="open"):
            if gap.id == gap_id:
                gap.status, gap.closed_at, gap.closed_by_doc = "closed", utcnow(), doc_id
                return self.store.save_gap(gap=gap)
        return None
