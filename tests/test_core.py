"""The core end to end with a recording outbox: answer, hand off, claim, relay, resolve."""

from __future__ import annotations

import itertools

import pytest

from bot.cards import missing_fields
from bot.types import Action, ConversationRef, InboundMessage, Person, Reason

_ids = itertools.count(1)


def message(text: str, *, thread: str = "t1", user: str = "U1", email: str | None = None, event_id: str | None = None) -> InboundMessage:
    ref = ConversationRef(platform="test", channel="C-customer", thread=thread)
    return InboundMessage(event_id=event_id or f"ev-{next(_ids)}", ref=ref, author=Person(platform_id=user, display_name="Casey", email=email), text=text)


async def test_answerable_question_gets_cited_answer_with_feedback_buttons(core, recording):
    result = await core.dialogue.handle(message("How do I add my company logo to invoices?"))
    assert result.status == "answered", result.decision.to_dict()
    [reply] = recording.replies()
    assert reply.sources and ("branding" in reply.sources[0].doc_id or "logo" in reply.sources[0].title.lower())
    assert "logo" in reply.text.lower()
    assert "Source:" in reply.text
    assert [b.action for b in reply.buttons] == ["helpful", "not_helpful", "talk_to_person"]
    assert recording.cards() == []


async def test_refund_dispute_escalates_with_complete_card_and_holding_reply(core, recording):
    result = await core.dialogue.handle(message("I was charged twice this month and I want my money back"))
    assert result.status == "escalated"
    assert {Reason.POLICY_RISK, Reason.HIGH_VALUE} & set(result.decision.reasons)
    [card] = recording.cards()
    assert missing_fields(card) == []
    assert card.original_message.startswith("I was charged twice")
    [holding] = recording.replies()
    assert "within" in holding.text and holding.kind == "holding"
    assert "refund" not in holding.text.lower() or "will" in holding.text.lower()


async def test_unknown_topic_escalates_low_confidence_and_opens_a_gap(core, recording):
    result = await core.dialogue.handle(message("Do you sponsor amateur curling tournaments in Manitoba?"))
    assert result.status == "escalated"
    assert Reason.LOW_CONFIDENCE in result.decision.reasons
    assert result.decision.missing_knowledge
    assert [g.question for g in core.store.gaps(status="open")] == ["Do you sponsor amateur curling tournaments in Manitoba?"]
    assert recording.cards()[0].missing_knowledge


async def test_redelivered_event_changes_nothing(core, recording):
    first = await core.dialogue.handle(message("How do I connect Slack?", event_id="Ev-same"))
    again = await core.dialogue.handle(message("How do I connect Slack?", event_id="Ev-same"))
    assert first.status != "duplicate" and again.status == "duplicate"
    assert len(recording.sent) == 1


async def test_claim_silences_bot_relays_follow_ups_and_resolve_hands_back(core, recording):
    escalated = await core.dialogue.handle(message("Someone hacked my account and changed our bank details", thread="t9"))
    ticket_id = escalated.ticket_id
    claims = [await core.desk.claim(ticket_id=ticket_id, agent_id=a, agent_name=a) for a in ("Dana", "Eli")]
    assert claims[0].ok and not claims[1].ok and "Dana" in claims[1].message
    follow_up = await core.dialogue.handle(message("Hello? Any news?", thread="t9"))
    assert follow_up.status == "relayed"
    assert recording.of_kind("card_thread")[-1].payload.endswith("Hello? Any news?")
    sent = await core.desk.send_suggested(ticket_id=ticket_id, agent_id="Dana", agent_name="Dana")
    assert sent.ok and recording.replies()[-1].author_name == "Dana"
    note = await core.desk.agent_reply(ticket_id=ticket_id, agent_id="Dana", agent_name="Dana", text="internal: check logs", internal=True)
    assert note.ok and all("check logs" not in r.text for r in recording.replies())
    resolved = await core.desk.resolve(ticket_id=ticket_id, agent_id="Dana")
    assert resolved.ok and recording.of_kind("card_update")[-1].payload.status == "resolved"
    after = await core.dialogue.handle(message("How do I connect Slack?", thread="t9"))
    assert after.status == "answered"


async def test_enterprise_customer_escalates_as_high_value(core):
    result = await core.dialogue.handle(message("How do I connect Slack?", thread="t-ent", email="jane@globex.example"))
    assert result.status == "escalated"
    assert any(t.reason == Reason.HIGH_VALUE and t.kind == "tier" for t in result.decision.triggers)


async def test_a_failing_engine_still_keeps_the_message_and_tells_the_customer(core, recording, monkeypatch):
    def explode(conversation):
        raise RuntimeError("model crashed")

    monkeypatch.setattr(core.engine, "decide", explode)
    result = await core.dialogue.handle(message("How do I connect Slack?", thread="t-err"))
    assert result.status == "failed" and result.ticket_id
    assert "person" in recording.replies()[-1].text
    assert core.store.history(conversation_id=message("x", thread="t-err").ref.key)[0].text == "How do I connect Slack?"


async def test_empty_message_is_ignored(core, recording):
    assert (await core.dialogue.handle(message("   "))).status == "empty"
    assert recording.sent == []


def test_policy_risk_never_gives_the_customer_the_final_instruction(core):
    from bot.types import Conversation

    decision = core.engine.decide(Conversation(text="I'm locked out of my account, how do I disable two-factor authentication?"))
    assert decision.action == Action.ESCALATE and Reason.POLICY_RISK in decision.reasons
    assert decision.answer is None
    assert "verify" in decision.internal_action.lower()


async def test_talk_to_a_person_after_an_answer_hands_over_with_the_answer_as_draft(core, recording):
    answered = await core.dialogue.handle(message("How do I connect Slack?", thread="t-person"))
    assert answered.status == "answered"
    result = await core.dialogue.request_person(message=message("talk to a person", thread="t-person", event_id="button-1"))
    assert result.status == "escalated" and result.decision.reasons[0] == Reason.HUMAN_REQUESTED
    card = recording.cards()[-1]
    assert card.original_message == "talk to a person" and "Slack" in card.summary
    assert card.suggested_reply == recording.replies()[0].text
    again = await core.dialogue.request_person(message=message("talk to a person", thread="t-person", event_id="button-1"))
    assert again.status == "duplicate"


async def test_messages_keep_kind_sources_and_internal_notes_stay_out_of_history(core, recording):
    first = await core.dialogue.handle(message("Someone hacked my account", thread="t-notes"))
    await core.desk.claim(ticket_id=first.ticket_id, agent_id="Dana", agent_name="Dana")
    await core.desk.agent_reply(ticket_id=first.ticket_id, agent_id="Dana", agent_name="Dana", text="check the audit log", internal=True)
    conversation_id = message("x", thread="t-notes").ref.key
    kinds = [m.kind for m in core.store.messages(conversation_id=conversation_id)]
    assert kinds[:2] == ["message", "holding"] and "internal_note" in kinds
    assert all("audit log" not in t.text for t in core.store.history(conversation_id=conversation_id))
    assert core.store.conversations(platform="test")[0].id == conversation_id


async def test_a_conversation_past_the_reply_limit_goes_to_a_person(core, recording):
    """A loop with another bot, or a flood: after N bot replies within a minute, a person takes over."""
    core.dialogue.replies_per_minute = 2
    questions = ("How do I add my company logo to invoices?", "Where do I add our VAT number so it shows on invoices?", "is there a zapier integration?")
    results = [await core.dialogue.handle(message(q, thread="flood")) for q in questions]
    assert [r.status for r in results] == ["answered", "answered", "escalated"]
    card = recording.cards()[-1]
    assert any("within a minute" in r.detail for r in card.reasons), card.reasons
    assert "pick up this conversation" in recording.replies()[-1].text
    other = await core.dialogue.handle(message(questions[0], thread="calm"))
    assert other.status == "answered"  # the limit is per conversation
