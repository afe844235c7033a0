"""Block Kit rendering: every card and answer passes the stand-in's validation and limits."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.slack import render
from bot.cards import OPEN_BUTTONS, RESOLVED_BUTTONS, missing_fields
from bot.dialogue import ANSWER_BUTTONS
from bot.types import ConversationRef, HandoffCard, Reason, Reply, Source, Trigger
from standins.slack_api import validate_blocks, validate_view

DUE = datetime(2025, 3, 4, 10, 42, tzinfo=timezone.utc)
ENTITY = re.compile(r"&(?!amp;|lt;|gt;)")


def make_card(**changes) -> HandoffCard:
    values = dict(
        ticket_id="T-1A2B3C4D", title="HIGH · Policy risk · T-1A2B3C4D", priority="high", sla_due=DUE,
        customer="Grace Globex", organisation="Globex", tier="enterprise", channel="slack #globex-support",
        thread_link="https://example.slack.com/archives/C0GLOBEX/p1700000000000500",
        original_message="You charged my card twice on the 3rd <b>&</b>", summary="Double charge on the 3rd.",
        intent="billing_dispute", reasons=(Trigger(Reason.POLICY_RISK, "payment dispute", ("charged twice",), 0.9, "payment"),),
        sources=(Source("billing", "Billing & refunds", "double-charges", "https://help.ledgerly.example/billing", 0.71),),
        missing_knowledge=False, suggested_reply="Sorry about that, we are checking the charge.",
        internal_action="Check Stripe for a duplicate charge.", queue="billing", status="open", buttons=OPEN_BUTTONS,
    )
    values.update(changes)
    return HandoffCard(**values)


def texts(blocks: list[dict]) -> str:
    return json.dumps(blocks, ensure_ascii=False)


def mrkdwn_texts(node) -> list[str]:
    """Every mrkdwn string in a block tree (plain_text is shown verbatim and not escaped)."""
    if isinstance(node, list):
        return [t for item in node for t in mrkdwn_texts(item)]
    if not isinstance(node, dict):
        return []
    own = [node["text"]] if node.get("type") == "mrkdwn" else []
    return own + [t for value in node.values() for t in mrkdwn_texts(value)]


def test_card_has_every_field_and_the_six_buttons():
    card = make_card()
    assert missing_fields(card) == []
    blocks = render.card_blocks(card)
    assert validate_blocks(blocks) == []
    assert blocks[0]["type"] == "header" and "HIGH" in blocks[0]["text"]["text"] and "due 10:42 UTC" in blocks[0]["text"]["text"]
    dumped = texts(blocks)
    for expected in ("Grace Globex", "Globex", "enterprise", "<https://example.slack.com/archives/C0GLOBEX/p1700000000000500|slack #globex-support>",
                     "Double charge", "&lt;b&gt;&amp;&lt;/b&gt;", "billing_dispute", "Policy risk", "charged twice",
                     "<https://help.ledgerly.example/billing#double-charges|Billing &amp; refunds>", "Sorry about that",
                     "Check Stripe", "<!date^", "Waiting for an agent"):
        assert expected in dumped, expected
    buttons = blocks[-1]["elements"]
    assert [b["action_id"] for b in buttons] == [b.action for b in OPEN_BUTTONS]
    assert all(b["value"] == "T-1A2B3C4D" for b in buttons) and buttons[0]["style"] == "primary"


def test_claimed_and_resolved_cards():
    claimed = render.card_blocks(make_card(status="claimed", claimed_by="Dana", claimed_at=DUE))
    assert "Claimed by *@Dana* at <!date^" in texts(claimed)  # claimed outside Slack: the name, escaped
    by_slack_user = render.card_blocks(make_card(status="claimed", claimed_by="Dana", claimed_by_id="U0DANA", claimed_at=DUE))
    assert "Claimed by <@U0DANA> at <!date^" in texts(by_slack_user)  # issue 13: a real mention
    forged = render.card_blocks(make_card(status="claimed", claimed_by="<!channel>", claimed_by_id="<!channel>", claimed_at=DUE))
    assert "<!channel>" not in texts(forged) and "&lt;!channel&gt;" in texts(forged)
    resolved = render.card_blocks(make_card(status="resolved", sla_due=None, claimed_by="Dana", buttons=RESOLVED_BUTTONS))
    assert [b["action_id"] for b in resolved[-1]["elements"]] == [b.action for b in RESOLVED_BUTTONS]
    assert "Resolved" in texts(resolved) and validate_blocks(resolved) == []


def test_missing_knowledge_tag_without_sources():
    blocks = render.card_blocks(make_card(sources=(), missing_knowledge=True))
    assert "`missing-knowledge`" in texts(blocks) and validate_blocks(blocks) == []


def test_fallback_text_is_the_plain_card_escaped_and_cut():
    card = make_card(summary="x" * 10_000)
    text = render.card_fallback(card)
    assert text.startswith("[T-1A2B3C4D]") and len(text) <= render.FALLBACK_LIMIT and text.endswith("…")


unicode_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=6000)
short_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300)
urls = st.one_of(st.none(), st.just("https://help.example/a b|c<d>"), st.builds(lambda s: "https://kb.example/" + s, st.text(max_size=2000)), st.just("javascript:alert(1)"))
sources = st.builds(Source, doc_id=short_text, title=short_text, anchor=short_text, url=urls, score=st.floats(0, 1))
triggers = st.builds(Trigger, reason=st.sampled_from(list(Reason)), detail=unicode_text, evidence=st.lists(short_text, max_size=8).map(tuple), score=st.none(), kind=st.none())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(
    title=unicode_text, customer=short_text, org=st.one_of(st.none(), short_text), message=unicode_text, summary=unicode_text,
    reasons=st.lists(triggers, max_size=12).map(tuple), found=st.lists(sources, max_size=60).map(tuple), draft=unicode_text,
    notes=st.lists(short_text, max_size=30).map(tuple), claimed_by=st.one_of(st.none(), short_text), resolved=st.booleans(),
)
def test_any_card_passes_block_kit_validation(title, customer, org, message, summary, reasons, found, draft, notes, claimed_by, resolved):
    card = make_card(title=title, customer=customer, organisation=org, original_message=message, summary=summary, reasons=reasons,
                     sources=found, suggested_reply=draft, notes=notes, claimed_by=claimed_by, claimed_at=DUE if claimed_by else None,
                     status="resolved" if resolved else "open", buttons=RESOLVED_BUTTONS if resolved else OPEN_BUTTONS)
    blocks = render.card_blocks(card)
    assert validate_blocks(blocks) == []
    assert len(blocks) <= render.MAX_BLOCKS and blocks[-1]["type"] == "actions"
    assert not any(ENTITY.search(text) for text in mrkdwn_texts(blocks))
    assert len(render.card_fallback(card)) <= render.FALLBACK_LIMIT


@given(text=unicode_text, limit=st.integers(10, 4000))
def test_mrkdwn_cuts_cleanly(text, limit):
    cut = render.mrkdwn(text, limit)
    assert len(cut) <= limit and not ENTITY.search(cut)


def test_answer_has_source_links_and_three_feedback_buttons():
    reply = Reply(ref=ConversationRef("slack", "C0HELP", "1.2"), text="Go to Reports > Export & choose CSV.",
                  sources=(Source("export", "Exporting data", "csv", "https://help.ledgerly.example/export", 0.8),), buttons=ANSWER_BUTTONS)
    blocks = render.answer_blocks(reply=reply, decision_id=42)
    assert validate_blocks(blocks) == []
    assert blocks[0]["text"]["text"] == "Go to Reports &gt; Export &amp; choose CSV."
    assert "<https://help.ledgerly.example/export#csv|Exporting data>" in blocks[1]["elements"][0]["text"]
    assert [(b["action_id"], b["value"]) for b in blocks[2]["elements"]] == [("helpful", "42"), ("not_helpful", "42"), ("talk_to_person", "42")]


@settings(max_examples=40, deadline=None)
@given(text=st.text(min_size=1, max_size=20_000), found=st.lists(sources, max_size=40).map(tuple))
def test_any_answer_passes_validation(text, found):
    reply = Reply(ref=ConversationRef("slack", "C", "1.2"), text=text, sources=found, buttons=ANSWER_BUTTONS)
    blocks = render.answer_blocks(reply=reply, decision_id=None)
    assert validate_blocks(blocks) == [] and not any(ENTITY.search(text) for text in mrkdwn_texts(blocks))


def test_agent_replies_carry_the_agents_name():
    reply = Reply(ref=ConversationRef("slack", "C", "1"), text="I refunded <it>", kind="agent", author_name="Dana")
    assert render.reply_text(reply) == "*Dana (support):* I refunded &lt;it&gt;"


def test_edit_modal_is_valid_and_prefilled():
    view = render.edit_modal(ticket_id="T-1", draft="d" * 5000, card_channel="C0SUPPORT1", card_ts="1.2")
    assert validate_view(view) == []
    element = view["blocks"][1]["element"]
    assert len(element["initial_value"]) == render.INPUT_LIMIT
    assert json.loads(view["private_metadata"]) == {"ticket_id": "T-1", "channel": "C0SUPPORT1", "ts": "1.2"}
    assert "initial_value" not in render.edit_modal(ticket_id="T-1", draft=" ", card_channel="C", card_ts="1")["blocks"][1]["element"]
