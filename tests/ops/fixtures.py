"""Hand-made rows for the KPI arithmetic: every expected figure is worked out in the tests."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from bot.store.models import DecisionRow, FeedbackRow, KnowledgeGapRow, TicketRow

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)  # a Monday


def at(minutes: float | None) -> datetime | None:
    return None if minutes is None else T0 + timedelta(minutes=minutes)


def ticket(tid: str, *, category: str | None, queue: str, reasons: list[str], needed: bool | None = None,
           card_ok: bool | None = None, missing: str | None = None, claimed: float | None = None,
           reply: float | None = None, resolved: float | None = None, due: float = 60, complete: bool = True,
           created: float = 0, conversation: str = "c-t") -> TicketRow:
    return TicketRow(
        id=tid, conversation_id=conversation, status="resolved" if resolved is not None else ("claimed" if claimed is not None else "open"),
        priority="normal", queue=queue, category=category, reasons=reasons,
        triggers=[{"reason": r, "detail": f"{r} fired"} for r in reasons],
        customer="Casey", customer_id="U1", channel="test C1", original_message="help me", summary="Customer needs help",
        intent="billing question" if complete else "", sources=[{"doc_id": "refund-policy", "title": "Refunds", "score": 0.8}],
        suggested_reply="We are on it" if complete else "", internal_action="Check the account" if complete else "",
        needed_person=needed, card_complete=card_ok, missing_field=missing,
        created_at=at(created), claimed_at=at(claimed), first_agent_reply_at=at(reply), resolved_at=at(resolved),
        first_response_due=at(created + due), resolution_due=at(created + 2880),
    )


def four_tickets() -> list[TicketRow]:
    """A needed/ok/met, B not needed/missing sources/late, C needed/met, D open, silent and incomplete."""
    return [
        ticket("A", category="refund_request", queue="billing", reasons=["high_value", "policy_risk"], needed=True, card_ok=True, claimed=10, reply=20, resolved=60),
        ticket("B", category="how_to", queue="support", reasons=["low_confidence"], needed=False, card_ok=False, missing="sources", claimed=30, reply=90, resolved=120),
        ticket("C", category=None, queue="support", reasons=["low_confidence"], needed=True, claimed=5, reply=5, resolved=240),
        ticket("D", category="account_access", queue="security", reasons=["policy_risk"], complete=False),
    ]


def decision(did: int, conversation: str, action: str, *, category: str | None = None, queue: str = "support", reasons: list[str] | None = None, minutes: float = 0) -> DecisionRow:
    return DecisionRow(id=did, conversation_id=conversation, action=action, category=category, reasons=reasons or [], payload={"queue": queue}, created_at=at(minutes))


def six_decisions() -> list[DecisionRow]:
    return [
        decision(1, "c1", "answer", category="how_to"),
        decision(2, "c2", "answer", category="invoices"),
        decision(3, "c3", "answer", category="invoices"),
        decision(4, "c4", "answer", category="how_to", minutes=1),
        decision(5, "c4", "escalate", category="talk_to_person", reasons=["human_requested"], minutes=2),
        decision(6, "c5", "answer", category="integrations", queue="support"),
        decision(7, "c6", "escalate", category="billing_dispute", queue="billing", reasons=["policy_risk"]),
    ]


def feedback(fid: int, kind: str, decision_id: int, minutes: float = 30) -> FeedbackRow:
    return FeedbackRow(id=fid, kind=kind, decision_id=decision_id, by="someone", at=at(minutes))


def answer_feedback() -> list[FeedbackRow]:
    return [
        feedback(1, "not_helpful", 1),
        feedback(2, "helpful", 2),
        feedback(3, "review_fine", 2, minutes=600),
        feedback(4, "review_should_escalate", 3, minutes=600),
        feedback(5, "review_fine", 3, minutes=700),
        feedback(6, "review_should_escalate", 6, minutes=600),
    ]


def gap(gid: int, *, created: float, closed: float | None = None, count: int = 1, doc: str | None = None) -> KnowledgeGapRow:
    return KnowledgeGapRow(id=gid, question=f"question {gid}", examples=[f"question {gid}"], count=count,
                           status="closed" if closed is not None else "open", closed_by_doc=doc, created_at=at(created), closed_at=at(closed))


def five_gaps() -> list[KnowledgeGapRow]:
    day = 1440
    return [
        gap(1, created=-day, closed=day, doc="curling"),
        gap(2, created=60, closed=60 + day, doc="curling"),
        gap(3, created=120, count=5),
        gap(4, created=180, closed=8 * day, doc="late"),
        gap(5, created=-3 * day, count=2),
    ]


def seed_store(store) -> None:
    """Write the hand-made rows into a real store (conversations first: foreign keys are on)."""
    from bot.store.models import ConversationRow

    conversations = {d.conversation_id for d in six_decisions()} | {"c-t"}
    with store.session() as session:
        for cid in sorted(conversations):
            session.add(ConversationRow(id=cid, platform="test", channel="C1", thread=cid, created_at=T0, updated_at=T0))
        session.commit()
        for rows in (six_decisions(), four_tickets(), answer_feedback(), five_gaps()):
            session.add_all(rows)
            session.commit()
    if store.engine.dialect.name == "postgresql":  # explicit ids leave the sequences behind
        with store.engine.begin() as connection:
            for table in ("decisions", "feedback", "knowledge_gaps"):
                connection.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
