"""One-click feedback: customers' verdicts on answers and reviewers' weekly verdicts on a sample.

Agents' feedback on handoffs ("Did this need a person?", "Did the card have what you needed?")
is recorded by ``TicketDesk.record_feedback``. Here are the answer side's signals: a customer's
Helpful / Not helpful / Talk to a person on an answer, and each week a random sample of AI
answers posted to reviewers with "Should have been escalated" and "Fine" buttons. The sample is
deterministic for a given seed (the ISO week), so every process picks the same answers and a
re-run posts nothing new.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlmodel import col, select

from bot.delivery import OnceOnly
from bot.ops.period import Period
from bot.store.models import DecisionRow, FeedbackRow
from bot.store.repo import Store
from bot.types import CardButton, ConversationRef, Reply

CUSTOMER_KINDS = ("helpful", "not_helpful", "talk_to_person")
REVIEW_VERDICTS = ("review_should_escalate", "review_fine")
REVIEW_LABELS = {"review_should_escalate": "Should have been escalated", "review_fine": "Fine"}


class FeedbackError(ValueError):
    """An unknown feedback kind, or feedback about something that is not an answer."""


def _answer(store: Store, decision_id: int) -> DecisionRow:
    decision = store.decision(decision_id=decision_id)
    if decision is None or decision.action != "answer":
        raise FeedbackError(f"decision {decision_id} is not an answer the bot gave")
    return decision


def record_customer_feedback(*, store: Store, decision_id: int, kind: str, by: str) -> FeedbackRow:
    """A customer's click on an answer; not helpful and talk to a person are missed-escalation signals."""
    if kind not in CUSTOMER_KINDS:
        raise FeedbackError(f"unknown customer feedback '{kind}'; use one of {', '.join(CUSTOMER_KINDS)}")
    _answer(store, decision_id)
    return store.add_feedback(kind=kind, decision_id=decision_id, by=by)


def record_review(*, store: Store, decision_id: int, verdict: str, by: str) -> FeedbackRow:
    """A reviewer's verdict on a sampled answer (the latest verdict per answer counts)."""
    if verdict not in REVIEW_VERDICTS:
        raise FeedbackError(f"unknown review verdict '{verdict}'; use one of {', '.join(REVIEW_VERDICTS)}")
    _answer(store, decision_id)
    return store.add_feedback(kind=verdict, decision_id=decision_id, by=by)


def reviewed_ids(*, store: Store) -> set[int]:
    query = select(FeedbackRow.decision_id).where(col(FeedbackRow.kind).in_(REVIEW_VERDICTS))
    with store.session() as session:
        return {i for i in session.exec(query) if i is not None}


def _rank(seed: str, decision_id: int) -> str:
    return hashlib.sha256(f"{seed}:{decision_id}".encode()).hexdigest()


def review_sample(*, store: Store, period: Period, size: int, seed: str) -> list[DecisionRow]:
    """Up to ``size`` answers of the period not yet reviewed, chosen by a seeded hash (uniform, repeatable)."""
    query = select(DecisionRow).where(DecisionRow.action == "answer", col(DecisionRow.created_at) >= period.since, col(DecisionRow.created_at) < period.until)
    with store.session() as session:
        answers = list(session.exec(query))
    done = reviewed_ids(store=store)
    chosen = sorted((d for d in answers if d.id not in done), key=lambda d: _rank(seed, d.id))[:size]
    return sorted(chosen, key=lambda d: d.id)


def review_buttons(*, decision_id: int) -> tuple[CardButton, ...]:
    """The two verdict buttons; the action id carries the decision: 'review_fine:42'."""
    return tuple(CardButton(f"{kind}:{decision_id}", label, danger=kind == "review_should_escalate") for kind, label in REVIEW_LABELS.items())


def parse_review_action(action: str) -> tuple[str, int] | None:
    """('review_fine', 42) from 'review_fine:42'; None for any other action id."""
    kind, _, number = action.partition(":")
    if kind in REVIEW_VERDICTS and number.isdigit():
        return kind, int(number)
    return None


def review_text(*, decision: DecisionRow) -> str:
    """What a reviewer needs to judge one answer: the question, the answer and its sources."""
    payload: dict[str, Any] = decision.payload or {}
    sources = ", ".join(s.get("title") or s.get("doc_id", "") for s in payload.get("sources", [])) or "none"
    return "\n".join([
        f"Answer #{decision.id} ({decision.category or 'no category'}, confidence {decision.confidence:.2f}, {decision.created_at:%Y-%m-%d})",
        f"Customer: {decision.input_text}",
        f"Baton answered: {payload.get('answer') or ''}",
        f"Sources: {sources}",
        "Should this have gone to a person?",
    ])


async def post_review_sample(*, store: Store, outbox: Any, channel: str, period: Period, size: int, seed: str, native: dict | None = None, once: OnceOnly | None = None) -> list[int]:
    """Post each sampled answer to the reviewers' channel with the two verdict buttons; through
    ``once`` (the delivery log), a retried week does not post the same answer twice."""
    once = once or OnceOnly(deliveries=None)
    ref = ConversationRef(platform=outbox.platform, channel=channel, native=dict(native or {}))
    posted = []
    for decision in review_sample(store=store, period=period, size=size, seed=seed):
        reply = Reply(ref=ref, text=review_text(decision=decision), kind="review", buttons=review_buttons(decision_id=decision.id), idempotency_key=f"review:{seed}:{decision.id}")
        await once.reply(outbox=outbox, reply=reply)
        posted.append(decision.id)
    return posted
