"""The LLM engine end to end against the stand-in: answers, unions, handoffs and the plan."""

from __future__ import annotations

from bot.llm.merge import DRAFT_PREFIX
from bot.types import Action, Conversation, Reason, Role, Turn

from .model_replies import grounded, handoff, passages_of, schema_name, system_text, triage, user_text

EXPORT_Q = "How do I export my expenses to a CSV file for my accountant?"
SLACK_Q = "How do I connect Ledgerly to Slack?"
OUT_OF_SCOPE_Q = "How do I print a batch of invoices at once?"
HUMAN_Q = "can I talk to a real person please"
POLICY_Q = "Someone hacked my account"


def _ask(text: str, history: tuple[Turn, ...] = ()) -> Conversation:
    return Conversation(text=text, history=history)


def _kinds(decision) -> set:
    return {(t.reason, t.kind) for t in decision.triggers}


def test_a_grounded_answer_is_sent_with_its_sources(llm, make_engine) -> None:
    llm.set_responder(grounded)
    decision = make_engine().decide(_ask(EXPORT_Q))
    assert decision.action == Action.ANSWER and decision.engine == "llm"
    assert len(llm.chat_requests) == 1 and decision.tokens == llm.usage["total_tokens"] > 0
    cited = passages_of(llm.chat_requests[0].body)
    assert decision.sources and decision.sources[0].passage_id and "Source:" in decision.answer
    assert decision.answer.split("\n\nSource:")[0] in cited["P1"]


def test_the_request_carries_the_rules_categories_and_few_trimmed_passages(llm, make_engine) -> None:
    llm.set_responder(grounded)
    make_engine(passages=3, passage_chars=300).decide(_ask(EXPORT_Q))
    body = llm.chat_requests[0].body
    schema = body["response_format"]["json_schema"]
    assert schema["name"] == "baton_triage" and schema["strict"] is True
    enum = schema["schema"]["properties"]["category"]["enum"]
    assert "how_to" in enum and "refund_request" in enum and enum[-1] == "none"
    passages = passages_of(body)
    assert 1 <= len(passages) <= 3 and all(len(text) <= 300 for text in passages.values())
    assert "untrusted data" in system_text(body)


def test_an_unsupported_answer_escalates(llm, make_engine) -> None:
    llm.queue_response(content=triage(category="how_to", answer="Exports are free for 90 days and then cost 12 dollars each.", citations=["P1"]))
    decision = make_engine().decide(_ask(EXPORT_Q))
    assert decision.action == Action.ESCALATE and decision.answer is None
    assert (Reason.LOW_CONFIDENCE, "unsupported_answer") in _kinds(decision)
    trigger = next(t for t in decision.triggers if t.kind == "unsupported_answer")
    assert any("90" in e or "not in the cited" in e for e in trigger.evidence)


def test_a_made_up_citation_escalates(llm, make_engine) -> None:
    llm.set_responder(lambda body: grounded(body, citations=["P9"]))
    decision = make_engine().decide(_ask(EXPORT_Q))
    assert decision.escalated and (Reason.LOW_CONFIDENCE, "unsupported_answer") in _kinds(decision)


def test_llm_anger_escalates_even_when_offline_would_answer(llm, make_engine) -> None:
    llm.set_responder(lambda body: grounded(body, angry=True, sentiment=-0.7, answer="", citations=[], draft="I'm sorry about this, let me help."))
    decision = make_engine().decide(_ask(SLACK_Q))
    assert decision.escalated and (Reason.EMOTIONAL, "anger") in _kinds(decision)
    assert decision.suggested_reply.startswith(DRAFT_PREFIX)


def test_the_stricter_category_wins(llm, make_engine) -> None:
    llm.set_responder(lambda body: grounded(body, category="refund_request"))
    decision = make_engine().decide(_ask(SLACK_Q))
    assert decision.escalated and decision.category.name == "refund_request" and decision.queue == "billing"


def test_a_verified_answer_resolves_offline_low_confidence(llm, make_engine) -> None:
    offline = make_engine().offline.decide(_ask(OUT_OF_SCOPE_Q))
    assert offline.escalated and offline.reasons == [Reason.LOW_CONFIDENCE]
    llm.set_responder(lambda body: grounded(body, category="how_to"))
    decision = make_engine().decide(_ask(OUT_OF_SCOPE_Q))
    assert decision.action == Action.ANSWER and decision.category.name == "how_to" and not decision.triggers


def test_no_answer_in_the_passages_escalates(llm, make_engine) -> None:
    llm.queue_response(content=triage(category="how_to", summary="Asks about exports.", draft="Let me check that for you."))
    decision = make_engine().decide(_ask(EXPORT_Q))
    assert decision.escalated and decision.missing_knowledge
    assert decision.suggested_reply == DRAFT_PREFIX + "Let me check that for you."
    assert decision.summary == "AI summary: Asks about exports."


def test_policy_risk_makes_no_call(llm, make_engine) -> None:
    decision = make_engine().decide(_ask(POLICY_Q))
    assert decision.escalated and Reason.POLICY_RISK in decision.reasons
    assert llm.chat_requests == [] and decision.engine == "offline" and decision.tokens == 0


EARLIER = (Turn(Role.CUSTOMER, "My invoices show the wrong VAT."), Turn(Role.BOT, "Here is how VAT is set up."))


def test_a_single_message_handoff_makes_no_call(llm, make_engine) -> None:
    decision = make_engine().decide(_ask(HUMAN_Q))
    assert llm.chat_requests == [] and decision.escalated and decision.engine == "offline"
    assert decision.summary and decision.suggested_reply  # the offline engine's texts


def test_an_ai_draft_category_gets_a_draft_on_the_first_message(llm, make_engine) -> None:
    engine = make_engine()
    text = "we want to move from Team to Business, how does the billing work?"
    assert engine.offline.decide(_ask(text)).automation.value == "ai_draft"
    llm.queue_response(content=handoff(summary="Wants to upgrade.", draft="Upgrading takes effect at once."))
    decision = engine.decide(_ask(text))
    assert schema_name(llm.chat_requests[0].body) == "baton_handoff"
    assert decision.suggested_reply == DRAFT_PREFIX + "Upgrading takes effect at once."


def test_a_handoff_gets_a_summary_and_a_marked_draft(llm, make_engine) -> None:
    llm.queue_response(content=handoff(summary="Wants a person to help with billing.", draft="Happy to help, a colleague will reply shortly."))
    decision = make_engine().decide(_ask(HUMAN_Q, EARLIER))
    body = llm.chat_requests[0].body
    assert schema_name(body) == "baton_handoff" and user_text(body).startswith("Handoff reason: human_requested")
    assert decision.escalated and decision.engine == "llm"
    assert decision.summary == "AI summary: Wants a person to help with billing."
    assert decision.suggested_reply == DRAFT_PREFIX + "Happy to help, a colleague will reply shortly."


def test_handoff_drafts_can_be_turned_off(llm, make_engine) -> None:
    decision = make_engine(handoff_drafts=False).decide(_ask(HUMAN_Q, EARLIER))
    assert llm.chat_requests == [] and decision.escalated and decision.engine == "offline"


def test_a_policy_signal_from_the_model_replaces_its_draft(llm, make_engine) -> None:
    llm.queue_response(content=handoff(policy_type="security", summary="Says an unknown login happened.", draft="I have reset your password."))
    decision = make_engine().decide(_ask(HUMAN_Q, EARLIER))
    assert (Reason.POLICY_RISK, "security") in _kinds(decision) and decision.priority in ("high", "urgent")
    assert not decision.suggested_reply.startswith(DRAFT_PREFIX) and "reset your password" not in decision.suggested_reply


def test_agreement_is_noted_once(llm, make_engine) -> None:
    llm.queue_response(content=handoff(wants_human=True, summary="Wants a person."))
    decision = make_engine().decide(_ask(HUMAN_Q, EARLIER))
    human = [t for t in decision.triggers if t.kind == "human_requested"]
    assert len(human) == 1 and "the language model agrees" in human[0].evidence


def test_one_call_per_message_across_a_conversation(llm, make_engine) -> None:
    llm.set_responder(grounded)
    engine = make_engine()
    history: tuple[Turn, ...] = ()
    for text in (EXPORT_Q, "and as Excel?", SLACK_Q, HUMAN_Q, POLICY_Q):
        engine.decide(_ask(text, history))
        history += (Turn(Role.CUSTOMER, text), Turn(Role.BOT, "ok"))
    assert len(llm.chat_requests) <= 5 and len(llm.chat_requests) == 4  # the policy-risk turn is skipped
    assert "<earlier_turn role=\"customer\">" in user_text(llm.chat_requests[-1].body)


def test_rules_and_other_attributes_pass_through(make_engine) -> None:
    engine = make_engine()
    assert engine.rules is engine.offline.rules and engine.detectors is engine.offline.detectors


def test_a_verified_answer_becomes_the_draft_when_the_case_escalates(llm, make_engine) -> None:
    llm.set_responder(lambda body: grounded(body, angry=True, sentiment=-0.8))
    decision = make_engine().decide(_ask(SLACK_Q))
    assert decision.escalated and decision.answer is None
    assert decision.suggested_reply.startswith(DRAFT_PREFIX) and "Source:" in decision.suggested_reply


def test_no_passages_and_a_single_message_makes_no_call(llm, make_engine) -> None:
    decision = make_engine().decide(_ask("blorptastic frobnication?"))  # nothing in the knowledge base
    assert llm.chat_requests == [] and decision.escalated and decision.engine == "offline"
