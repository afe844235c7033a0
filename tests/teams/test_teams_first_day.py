"""Issue 13 in Teams, on the shipped sample rules and no hand-edited channel ids.

The shipped rules name placeholder Teams channels (19:billing-queue@thread.tacv2 ...), which a
real tenant does not have: the stand-in answers them as Teams does, 404 ConversationNotFound. The
team's agent set the support queue with "@Baton use this channel as the support queue". A
payment complaint's card must then land in that channel, with a note, and the customer is
promised a person only once it has; a card that reached nowhere is re-posted later; a serious
follow-up updates the card in place.
"""

from __future__ import annotations

from bot.ops.cards import repost_missing_cards

from teams.harness import CUSTOMER_CHAT, card_of

PLACEHOLDERS = {"19:billing-queue@thread.tacv2", "19:support-queue@thread.tacv2", "19:security-queue@thread.tacv2", "19:success-queue@thread.tacv2"}
REAL_SUPPORT = "19:7d1f0c5e2b9a4f0e8c3a1b2d4e6f8a0b@thread.tacv2"
PAYMENT = "I was charged twice this month and I want my money back"
QUESTION = "How do I export my expenses to Sage 50?"
SERIOUS = "I want a refund of this month's charge, you billed us twice. Fix it today or we leave and I'll post about it on Twitter."


def not_found_requests(connector) -> list:
    """Card posts Teams refused (new threads in a channel it does not know)."""
    return [r for r in connector.requests if r.status == 404 and r.method == "POST" and r.path == "/v3/conversations"]


async def test_a_placeholder_channel_never_shadows_the_configured_queue(teams, connector):
    connector.missing_conversations |= PLACEHOLDERS
    await teams.set_queue(queue="support", channel=REAL_SUPPORT)
    await teams.say(PAYMENT)

    [card] = teams.cards_in(REAL_SUPPORT)
    [ticket] = [t for t in teams.core.store.tickets() if t.status == "open"]
    assert ticket.queue == "billing" and ticket.card_refs["channel"] == REAL_SUPPORT
    assert PAYMENT in str(card_of(card.activity))
    assert any("belongs to the billing queue" in text for text in teams.thread_texts(card))
    holding = teams.sent(CUSTOMER_CHAT)[-1]
    assert "a member of our team" in holding["text"]  # promised only now that the card is visible
    assert len(not_found_requests(connector)) == 1

    await teams.say(PAYMENT, conversation_id="a:1customer-bob", from_id="29:customer-bob", from_name="Bob Stone")
    assert len(teams.cards_in(REAL_SUPPORT)) == 2
    assert len(not_found_requests(connector)) == 1  # the placeholder is not tried again


async def test_a_card_that_reached_no_queue_is_re_posted_and_only_then_promised(teams, connector):
    await teams.set_queue(queue="support", channel=REAL_SUPPORT)
    connector.missing_conversations |= PLACEHOLDERS | {REAL_SUPPORT}  # then the channel is deleted
    before = len(teams.sent(CUSTOMER_CHAT))
    await teams.say(PAYMENT)
    [ticket] = [t for t in teams.core.store.tickets() if t.status == "open"]
    assert not ticket.card_refs and teams.cards_in(REAL_SUPPORT) == []
    assert len(teams.sent(CUSTOMER_CHAT)) == before  # no promise while the card is nowhere

    connector.missing_conversations.discard(REAL_SUPPORT)  # the channel works again
    teams.core.desk.unreachable.clear()  # (a restarted process starts with no memory of refusals)
    assert await repost_missing_cards(desk=teams.core.desk) == 1
    assert len(teams.cards_in(REAL_SUPPORT)) == 1
    assert await teams.sweep() == 1  # the inbox retries the turn it gave back: the card is up, so now the promise
    assert len(teams.cards_in(REAL_SUPPORT)) == 1
    promises = [a for a in teams.sent(CUSTOMER_CHAT)[before:] if "a member of our team" in a.get("text", "")]
    assert len(promises) == 1


async def test_a_serious_follow_up_updates_the_teams_card_in_place(teams, connector):
    connector.missing_conversations |= PLACEHOLDERS
    await teams.set_queue(queue="support", channel=REAL_SUPPORT)
    await teams.say(QUESTION)
    [card] = teams.cards_in(REAL_SUPPORT)
    [ticket] = [t for t in teams.core.store.tickets() if t.status == "open"]
    assert ticket.queue == "support" and "emotional" not in ticket.reasons

    await teams.say(SERIOUS)
    fresh = teams.core.store.ticket(ticket_id=ticket.id)
    assert {"emotional", "policy_risk"} <= set(fresh.reasons) and fresh.queue == "billing"
    assert fresh.card_refs["channel"] == REAL_SUPPORT  # billing's channel is a placeholder: the card stays where it is
    [update, *_] = teams.updates_of(card)[-1:]
    assert "Emotional" in str(card_of(update)) or "emotional" in str(card_of(update)).lower()
    assert any(text.startswith("Re-triaged on the customer's follow-up") for text in teams.thread_texts(card))
    assert "added this to your request" in teams.sent(CUSTOMER_CHAT)[-1]["text"]
