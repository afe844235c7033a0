"""Pure conversions of the sandbox: request JSON -> core types, core types -> JSON."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from adapters.sandbox.actions import command_from_json, customer_action_from_json
from adapters.sandbox.chat_view import SentReply, messages_json, split_citation
from adapters.sandbox.convert import BadRequest, conversation_key, inbound_from_json, short_id
from adapters.sandbox.views import card_json, safe_url, sla_json
from bot.cards import card_from_ticket
from bot.store.models import DecisionRow, TicketRow
from bot.types import Role, Source, Turn

NOW = datetime(2025, 5, 1, 10, 0, tzinfo=timezone.utc)


def body(**overrides):
    data = {"conversation": "chat-1", "customer": {"name": "Sam", "email": "sam@acme.example"}, "text": "  Hello there  "}
    data.update(overrides)
    return data


def test_inbound_message_from_json():
    message = inbound_from_json(data=body())
    assert message.text == "Hello there"
    assert message.ref.platform == "sandbox" and message.ref.key == "sandbox:chat-1:-"
    assert message.author.display_name == "Sam" and message.author.email == "sam@acme.example"
    assert message.event_id.startswith("sandbox-")
    assert inbound_from_json(data=body()).event_id != message.event_id


def test_client_event_id_makes_resends_idempotent():
    assert inbound_from_json(data=body(event_id="ev-1")).event_id == inbound_from_json(data=body(event_id="ev-1")).event_id


@pytest.mark.parametrize("bad, words", [
    (body(text="   "), "empty"),
    (body(text=7), "string"),
    (body(text="x" * 5000), "too long"),
    (body(conversation="../etc"), "conversation"),
    (body(customer={"name": "Sam", "email": "not-an-email"}), "email"),
    (body(customer=[1]), "customer"),
    (["not", "an", "object"], "JSON object"),
])
def test_bad_messages_are_refused_clearly(bad, words):
    with pytest.raises(BadRequest, match=words):
        inbound_from_json(data=bad)


def test_conversation_keys_round_trip():
    key = conversation_key(conversation="chat-9")
    assert short_id(key=key) == "chat-9"
    assert short_id(key="slack:C1:123.4") is None


def test_ticket_commands():
    assert command_from_json(data={"action": "claim", "agent": "Dana"}).agent_id == "sandbox-agent-dana"
    assert command_from_json(data={"action": "feedback_needed_no", "agent": "Eli"}).feedback == "needed_no"
    missing = command_from_json(data={"action": "feedback", "kind": "card_missing", "field": "intent", "agent": "Eli"})
    assert (missing.feedback, missing.field) == ("card_missing", "intent")
    for bad in ({"action": "explode", "agent": "Dana"}, {"action": "claim"}, {"action": "edit_send", "agent": "Dana", "text": " "},
                {"action": "feedback_card_missing", "agent": "Dana", "field": "colour"}):
        with pytest.raises(BadRequest):
            command_from_json(data=bad)


def test_customer_actions():
    assert customer_action_from_json(data={"action": "helpful", "decision_id": 3}) == ("helpful", 3)
    with pytest.raises(BadRequest):
        customer_action_from_json(data={"action": "love_it"})
    with pytest.raises(BadRequest):
        customer_action_from_json(data={"action": "helpful", "decision_id": "3"})


def test_only_http_links_survive():
    assert safe_url("https://help.example/a", "b") == "https://help.example/a#b"
    assert safe_url("javascript:alert(1)") is None
    assert safe_url(None) is None


def ticket(**values) -> TicketRow:
    base = dict(id="T-1", conversation_id="sandbox:chat-1:-", priority="high", queue="billing", reasons=["policy_risk"],
                triggers=[{"reason": "policy_risk", "detail": "payment", "evidence": ["charged twice"], "score": 0.9, "kind": "payment"}],
                customer="Sam", channel="sandbox chat", original_message="<b>charged twice</b>", summary="s", intent="refund",
                sources=[], missing_knowledge=True, suggested_reply="We are on it.", created_at=NOW - timedelta(minutes=30),
                first_response_due=NOW + timedelta(minutes=30), resolution_due=NOW + timedelta(hours=8))
    base.update(values)
    return TicketRow(**base)


def test_card_json_keeps_every_field_verbatim():
    card = card_json(card=card_from_ticket(ticket=ticket()), notes=["Sam wrote: hi"])
    assert card["original_message"] == "<b>charged twice</b>"  # the browser inserts text, never HTML
    assert card["reasons"][0]["label"] == "Policy risk" and card["reasons"][0]["evidence"] == ["charged twice"]
    assert card["status_line"] == "Waiting for an agent"
    assert [b["action"] for b in card["buttons"]][:2] == ["claim", "send_suggested"]
    assert card["notes"] == ["Sam wrote: hi"] and card["missing_knowledge"] is True


def test_sla_states():
    assert sla_json(ticket=ticket(), now=NOW)["state"] == "on_time"
    assert sla_json(ticket=ticket(), now=NOW + timedelta(minutes=20))["state"] == "due_soon"
    late = sla_json(ticket=ticket(), now=NOW + timedelta(minutes=31))
    assert late["state"] == "breached" and late["target"] == "first response"
    replied = ticket(first_agent_reply_at=NOW)
    assert sla_json(ticket=replied, now=NOW + timedelta(hours=1))["target"] == "resolution"
    assert sla_json(ticket=ticket(status="resolved"), now=NOW)["state"] == "resolved"


def test_chat_view_enriches_turns_and_hides_internal_notes():
    answer_text = "Upload your logo in Settings.\n\nSource: Branding (https://help.example/branding)"
    turns = [Turn(Role.CUSTOMER, "logo?", "Sam", NOW), Turn(Role.BOT, answer_text, "Baton", NOW),
             Turn(Role.AGENT, "[internal] check plan", "Dana", NOW), Turn(Role.AGENT, "Done!", "Dana", NOW)]
    source = Source("branding", "Branding", "logo", "https://help.example/branding", 0.8)
    decision = DecisionRow(id=4, conversation_id="sandbox:chat-1:-", action="answer", payload={"answer": answer_text})
    out = messages_json(turns=turns, sent=[SentReply(text=answer_text, kind="answer", sources=(source,))], decisions=[decision])
    assert [m["role"] for m in out] == ["customer", "bot", "agent"]
    assert out[1]["body"] == "Upload your logo in Settings." and out[1]["sources"][0]["url"].endswith("#logo")
    assert out[1]["decision_id"] == 4 and [a["action"] for a in out[1]["actions"]] == ["helpful", "not_helpful", "talk_to_person"]
    assert out[2]["author"] == "Dana"


def test_chat_view_recovers_sources_from_the_audit_trail_after_a_restart():
    text = "Answer.\n\nSource: Exports"
    decision = DecisionRow(id=1, conversation_id="k", action="answer", payload={"answer": text, "sources": [{"doc_id": "exports", "title": "Exports", "url": None}]})
    [message] = messages_json(turns=[Turn(Role.BOT, text, "Baton", NOW)], sent=[], decisions=[decision])
    assert message["kind"] == "answer" and message["sources"][0]["title"] == "Exports"


def test_split_citation_only_strips_a_trailing_source_paragraph():
    assert split_citation("A.\n\nSource: X") == "A."
    assert split_citation("A.\n\nB.") == "A.\n\nB."
