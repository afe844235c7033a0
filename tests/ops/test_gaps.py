"""Re-asking open knowledge gaps after a re-ingest, and the `baton gaps` table (with a fake engine)."""

from __future__ import annotations

from datetime import timedelta

from bot.gaps import GapTracker
from bot.ops.gaps_reask import gaps_table, reask_gaps
from bot.types import Action, Decision, Reason, Source, Trigger
from tests.ops.fixtures import T0


class FakeEngine:
    """Answers questions mentioning a known word from 'doc-<word>'; others stay unanswered."""

    def __init__(self, known: set[str]) -> None:
        self.known = known

    def decide(self, conversation) -> Decision:
        word = next((w for w in self.known if w in conversation.text.lower()), None)
        if word is None:
            return Decision(action=Action.ESCALATE, triggers=[Trigger(Reason.LOW_CONFIDENCE, "no article", (), 0.1, "missing_knowledge")], missing_knowledge=True)
        source = Source(f"doc-{word}", word.title(), "", None, 0.9)
        policy = [Trigger(Reason.POLICY_RISK, "refund", (), 0.9, "refund_dispute")] if "refund" in conversation.text else []
        return Decision(action=Action.ESCALATE if policy else Action.ANSWER, triggers=policy, sources=[source])


def test_reask_closes_the_gaps_the_knowledge_base_now_answers(store):
    tracker = GapTracker(store=store)
    curling = tracker.record(question="Do you sponsor curling tournaments?", ticket_id=None)
    tracker.record(question="Do you sponsor curling tournaments in Manitoba?", ticket_id=None)
    tracker.record(question="Is there a dark mode?", ticket_id=None)
    tracker.record(question="curling refund for the tournament fee", ticket_id=None)
    assert reask_gaps(store=store, engine=FakeEngine(set()), now=T0) == []
    closed = reask_gaps(store=store, engine=FakeEngine({"curling"}), now=T0)
    assert [(c.gap_id, c.doc_id, c.would_answer) for c in closed] == [(curling.id, "doc-curling", True), (3, "doc-curling", False)]
    gaps = {g.id: g for g in store.gaps()}
    assert gaps[curling.id].status == "closed" and gaps[curling.id].closed_by_doc == "doc-curling"
    assert [g.question for g in store.gaps(status="open")] == ["Is there a dark mode?"]


def test_a_gap_closes_only_when_most_of_its_questions_are_answered(store):
    gap = GapTracker(store=store).record(question="curling sponsorship", ticket_id=None)
    gap.examples = ["curling sponsorship", "hockey sponsorship please", "football sponsorship please"]
    store.save_gap(gap=gap)
    assert reask_gaps(store=store, engine=FakeEngine({"curling"})) == []
    assert len(reask_gaps(store=store, engine=FakeEngine({"curling", "hockey"}))) == 1


def test_gaps_table_lists_open_and_closed(store):
    tracker = GapTracker(store=store)
    open_gap = tracker.record(question="Is there a dark mode?", ticket_id="T-1")
    open_gap.created_at = T0
    store.save_gap(gap=open_gap)
    closed = tracker.record(question="Do you sponsor curling?", ticket_id="T-2")
    closed.created_at, closed.status, closed.closed_at, closed.closed_by_doc = T0, "closed", T0 + timedelta(days=2), "curling-sponsorship"
    store.save_gap(gap=closed)
    text = gaps_table(gaps=store.gaps(), now=T0 + timedelta(days=3))
    assert text.splitlines()[0].split()[:4] == ["gap", "status", "asked", "opened"]
    assert "open" in text and "3.0 d" in text and "closed after 2.0 d" in text and "curling-sponsorship" in text and "T-1" in text
    assert gaps_table(gaps=[], now=T0) == "no knowledge gaps"
