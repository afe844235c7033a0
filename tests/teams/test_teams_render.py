"""card_to_adaptive and the reply renderers: pure functions, checked against the 1.5 schema."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timezone

from adapters.teams.render import REPLY_INPUT, answer_body, answer_to_adaptive, card_to_adaptive, reply_text
from bot.cards import OPEN_BUTTONS, RESOLVED_BUTTONS
from bot.dialogue import ANSWER_BUTTONS
from bot.types import ConversationRef, HandoffCard, Reason, Reply, Source, Trigger

DUE = datetime(2026, 3, 2, 10, 15, tzinfo=timezone.utc)
REFUND = Source("refund-policy", "Refund policy", "disputes", "https://help.example/refunds", 0.81, "refund-policy/3")
NO_URL = Source("internal-wiki", "Internal refunds wiki", "", None, 0.42)


def handoff(**changes) -> HandoffCard:
    card = HandoffCard(
        ticket_id="T-0A1B2C3D", title="HIGH · Policy risk · T-0A1B2C3D", priority="high", sla_due=DUE,
        customer="Jane Doe", organisation="Globex", tier="enterprise", channel="teams #support",
        thread_link="https://teams.microsoft.com/l/message/19%3Ax/1?parentMessageId=1",
        original_message="I was charged twice, refund me now", summary="Jane asks for a refund of a double charge.",
        intent="refund_request: money back", reasons=(
            Trigger(Reason.POLICY_RISK, "Payment taken or handled wrongly", ("charged twice",), 0.7, "payment"),
            Trigger(Reason.HIGH_VALUE, "enterprise customer (Globex)", ("matched by Teams tenant t-1",), None, "tier"),
        ),
        sources=(REFUND, NO_URL), missing_knowledge=False, suggested_reply="Sorry about that, I'm checking now.",
        internal_action="Verify the charge in Stripe.", queue="billing", status="open", buttons=OPEN_BUTTONS,
    )
    return replace(card, **changes)


def texts(card: dict) -> str:
    """Every string of the card, to look for content regardless of layout."""
    return json.dumps(card, ensure_ascii=False)


def actions(card: dict) -> list[dict]:
    found = []

    def walk(node):
        if isinstance(node, dict):
            if str(node.get("type", "")).startswith("Action."):
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(card.get("actions", []))
    return found


def test_open_card_carries_every_field_and_validates(assert_valid_card):
    card = card_to_adaptive(handoff())
    assert_valid_card(card)
    content = texts(card)
    for expected in ("HIGH · Policy risk", "Waiting for an agent", "2026-03-02 10:15 UTC", "billing", "Jane Doe (Globex, enterprise)",
                     "teams #support", "https://teams.microsoft.com/l/message/", "Jane asks for a refund", "I was charged twice, refund me now",
                     "refund_request", "**Policy risk**: Payment taken or handled wrongly (evidence: charged twice)",
                     "matched by Teams tenant t-1", "[Refund policy](https://help.example/refunds#disputes)", "Internal refunds wiki",
                     "Sorry about that, I'm checking now.", "Verify the charge in Stripe."):
        assert expected in content, expected


def test_open_card_actions_are_execute_verbs_with_an_editable_draft():
    card = card_to_adaptive(handoff())
    verbs = [a["verb"] for a in actions(card) if a["type"] == "Action.Execute"]
    assert verbs == ["claim", "send_suggested", "edit_send", "release", "resolve", "no_person_needed"]
    assert all(a["data"] == {"ticket": "T-0A1B2C3D"} for a in actions(card) if a["type"] == "Action.Execute")
    [edit] = [a for a in card["actions"] if a["type"] == "Action.ShowCard"]
    [field] = edit["card"]["body"]
    assert (field["type"], field["id"], field["value"]) == ("Input.Text", REPLY_INPUT, "Sorry about that, I'm checking now.")
    assert card["actions"][0]["style"] == "positive" and card["actions"][-1]["style"] == "destructive"


def test_refresh_lets_every_viewer_fetch_the_current_state():
    refresh = card_to_adaptive(handoff())["refresh"]
    assert refresh["action"] == {"type": "Action.Execute", "verb": "refresh", "title": "Refresh", "data": {"ticket": "T-0A1B2C3D"}}
    assert refresh["userIds"] == []


def test_missing_knowledge_is_tagged(assert_valid_card):
    card = card_to_adaptive(handoff(sources=(), missing_knowledge=True))
    assert_valid_card(card)
    assert "**[missing-knowledge]** no sources found" in texts(card)


def test_claimed_card_with_a_note_shows_the_owner(assert_valid_card):
    claimed = handoff(status="claimed", claimed_by="Dana", claimed_at=DUE, notes=("Ticket T-0A1B2C3D is already claimed by Dana.",))
    card = card_to_adaptive(claimed)
    assert_valid_card(card)
    assert "Claimed by Dana at 10:15" in texts(card) and "already claimed by Dana" in texts(card)


def test_resolved_card_offers_feedback_verbs(assert_valid_card):
    card = card_to_adaptive(handoff(status="resolved", sla_due=None, buttons=RESOLVED_BUTTONS, claimed_by="Dana"))
    assert_valid_card(card)
    verbs = [a["verb"] for a in actions(card) if a["type"] == "Action.Execute"]
    assert verbs == ["feedback_needed_yes", "feedback_needed_no", "feedback_card_ok", "feedback_card_missing"]
    assert "Resolved (was claimed by Dana)" in texts(card)


def test_huge_message_is_clipped_to_fit_a_teams_message(assert_valid_card):
    card = card_to_adaptive(handoff(original_message="x" * 50_000))
    assert_valid_card(card)
    assert len(json.dumps(card)) < 28_000


def test_answer_card_links_sources_and_offers_the_answer_buttons(assert_valid_card):
    ref = ConversationRef(platform="teams", channel="a:1x")
    reply = Reply(ref=ref, text="Upload it under Settings.\n\nSource: Branding (https://help.example/branding)", sources=(REFUND,), buttons=ANSWER_BUTTONS, idempotency_key="answer:ev1")
    card = answer_to_adaptive(reply)
    assert_valid_card(card)
    assert card["body"][0]["text"] == "Upload it under Settings."
    assert "[Refund policy](https://help.example/refunds#disputes)" in texts(card)
    assert [(a["type"], a["data"]["baton"]) for a in card["actions"]] == [("Action.Submit", "helpful"), ("Action.Submit", "not_helpful"), ("Action.Submit", "talk_to_person")]


def test_agent_reply_carries_the_agent_name_and_holding_text_is_plain():
    ref = ConversationRef(platform="teams", channel="a:1x")
    assert reply_text(Reply(ref=ref, text="Refunded.", kind="agent", author_name="Dana")) == "**Dana** (support team): Refunded."
    assert reply_text(Reply(ref=ref, text="A person will reply.", kind="holding")) == "A person will reply."
    assert answer_body("No sources here.", has_sources=False) == "No sources here."
