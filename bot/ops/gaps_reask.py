"""Knowledge gaps after a re-ingest: re-ask each open gap and close those the bot can now answer.

Each low-confidence escalation opens or joins a gap (``bot.gaps.GapTracker.record``). After the
knowledge base is re-ingested, ``reask_gaps`` runs every open gap's question (and its newest
examples) through the decision engine again. A gap closes when most of them are now answered
confidently from the knowledge base: no missing-knowledge or competing-sources trigger, and a
cited source, whose document is recorded as the one that closed the gap. Other escalation
reasons (a policy category, an angry customer) are not knowledge gaps, so they don't keep a gap
open; ``Reask.would_answer`` says whether the bot would now also answer on its own.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.ops.fmt import duration, table
from bot.ops.period import aware, minutes_between
from bot.store.models import KnowledgeGapRow
from bot.store.repo import Store
from bot.types import Action, Conversation, Decision, utcnow

UNANSWERED_KINDS = {"missing_knowledge", "competing_sources"}


@dataclass(frozen=True, slots=True)
class Reask:
    """One gap closed by a re-ask: which document answers it now."""

    gap_id: int
    question: str
    doc_id: str
    title: str
    would_answer: bool


def answering_doc(decision: Decision) -> tuple[str, str] | None:
    """(doc_id, title) when the decision answers from the knowledge base with confidence."""
    unanswered = decision.missing_knowledge or any(t.kind in UNANSWERED_KINDS for t in decision.triggers)
    if unanswered or not decision.sources:
        return None
    return decision.sources[0].doc_id, decision.sources[0].title


def gap_questions(gap: KnowledgeGapRow, *, limit: int = 3) -> list[str]:
    """The gap's question plus its newest distinct examples, up to ``limit``."""
    questions = [gap.question, *reversed(gap.examples or [])]
    return list(dict.fromkeys(q for q in questions if q and q.strip()))[:limit]


def reask_one(*, gap: KnowledgeGapRow, engine: Any) -> Reask | None:
    """A Reask when most of the gap's questions are now answered, by the most cited document."""
    decisions = [engine.decide(Conversation(text=q)) for q in gap_questions(gap)]
    docs = [d for d in (answering_doc(x) for x in decisions) if d is not None]
    if len(docs) * 2 <= len(decisions):
        return None
    (doc_id, title), _ = Counter(docs).most_common(1)[0]
    return Reask(gap.id, gap.question, doc_id, title, decisions[0].action == Action.ANSWER)


def reask_gaps(*, store: Store, engine: Any, now: datetime | None = None) -> list[Reask]:
    """Re-ask every open gap; close and return those the knowledge base now answers."""
    closed = []
    for gap in store.gaps(status="open"):
        found = reask_one(gap=gap, engine=engine)
        if found is None:
            continue
        gap.status, gap.closed_at, gap.closed_by_doc = "closed", aware(now or utcnow()), found.doc_id
        store.save_gap(gap=gap)
        closed.append(found)
    return closed


def gaps_table(*, gaps: list[KnowledgeGapRow], now: datetime) -> str:
    """What `baton gaps` prints: one line a gap, most asked first."""
    if not gaps:
        return "no knowledge gaps"
    rows = []
    for gap in gaps:
        end = gap.closed_at if gap.status == "closed" else now
        age = duration(minutes_between(gap.created_at, end))
        rows.append([f"#{gap.id}", gap.status, str(gap.count), f"{aware(gap.created_at):%Y-%m-%d}",
                     age if gap.status == "open" else f"closed after {age}", gap.closed_by_doc or "", _short(gap.question), ", ".join(gap.ticket_ids[-3:])])
    return table(headers=["gap", "status", "asked", "opened", "age", "answered by", "question", "latest tickets"], rows=rows, left=(0, 1, 3, 4, 5, 6, 7))


def _short(text: str, width: int = 70) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
