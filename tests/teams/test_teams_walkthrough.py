"""Teams end to end, mirroring the Slack walkthrough: real activities through the real botbuilder
adapter mounted on bot.server's web app, the real core, and the Bot Connector stand-in."""

from __future__ import annotations

import asyncio

from teams.harness import BILLING_CHANNEL, CUSTOMER_CHAT, card_of

QUESTION = "How do I add my company logo to invoices?"
RISKY = "I was charged twice this month and I want my money back"


async def test_walkthrough_answer_handoff_claim_race_reply_follow_up_resolve(teams, assert_valid_card):
    await teams.set_queue(queue="billing", channel=BILLING_CHANNEL)
    assert "billing" in teams.sent(BILLING_CHANNEL)[-1]["text"]

    # 1. a question the knowledge base answers: a card with linked sources and answer buttons
    await teams.say(QUESTION)
    [answer] = teams.sent(CUSTOMER_CHAT)
    answer_card = card_of(answer)
    assert_valid_card(answer_card)
    assert "](https://help.ledgerly.example/" in str(answer_card["body"])
    assert [a["title"] for a in answer_card["actions"]] == ["Helpful", "Not helpful", "Talk to a person"]

    # 2. a risky message: a holding reply to the customer, an Adaptive Card in the billing queue
    await teams.say(RISKY)
    holding = teams.sent(CUSTOMER_CHAT)[-1]
    assert "a member of our team" in holding["text"] and not holding.get("attachments")
    [card] = teams.cards_in(BILLING_CHANNEL)
    content = card_of(card.activity)
    assert_valid_card(content)
    assert RISKY in str(content) and "Waiting for an agent" in str(content)
    ticket_id = content["refresh"]["action"]["data"]["ticket"]

    # 3. two agents click Claim at once: one owner, the other is told who won
    (s1, r1), (s2, r2) = await asyncio.gather(teams.click("claim", card=card, agent="Dana"), teams.click("claim", card=card, agent="Eli"))
    assert s1 == s2 == 200
    owner = teams.core.store.ticket(ticket_id=ticket_id).claimed_by_name
    assert owner in ("Dana", "Eli")
    loser_response = r2 if owner == "Dana" else r1
    assert loser_response["type"] == "application/vnd.microsoft.card.adaptive"
    assert_valid_card(loser_response["value"])
    assert f"already claimed by {owner}" in str(loser_response["value"])
    assert f"Claimed by {owner}" in str(card_of(teams.updates_of(card)[-1]))

    # 4. Send suggested reply: a proactive message to the customer, named after the agent
    status, sent = await teams.click("send_suggested", card=card, agent=owner)
    assert status == 200 and "Reply sent to the customer" in str(sent["value"])
    relayed = teams.sent(CUSTOMER_CHAT)[-1]
    assert relayed["text"].startswith(f"**{owner}** (support team): ")
    assert any(t.startswith(f"{owner} replied to the customer") for t in teams.thread_texts(card))

    # 5. the customer follows up: appended to the card's thread, the bot stays silent
    before = len(teams.sent(CUSTOMER_CHAT))
    await teams.say("Thanks, how long will the refund take?")
    assert teams.thread_texts(card)[-1] == "Ada Lovelace wrote: Thanks, how long will the refund take?"
    assert len(teams.sent(CUSTOMER_CHAT)) == before

    # 6. the agent answers in the card's thread; an internal note stays internal
    await teams.say_raw(teams.in_card_thread("note: refund issued in Stripe, ref re_123", card=card, agent=owner))
    await teams.say_raw(teams.in_card_thread("It will reach your card within 5 working days.", card=card, agent=owner))
    customer_texts = [a.get("text", "") for a in teams.sent(CUSTOMER_CHAT)]
    assert customer_texts[-1] == f"**{owner}** (support team): It will reach your card within 5 working days."
    assert not any("re_123" in t for t in customer_texts)

    # 7. Resolve: everyone's card shows the resolved state and the feedback buttons
    status, resolved = await teams.click("resolve", card=card, agent=owner)
    assert status == 200
    final = card_of(teams.updates_of(card)[-1])
    assert_valid_card(final)
    assert "Resolved" in str(final) and "feedback_needed_yes" in str(final["actions"])
    status, feedback = await teams.click("feedback_card_ok", card=card, agent=owner)
    assert status == 200 and teams.core.store.ticket(ticket_id=ticket_id).card_complete is True
