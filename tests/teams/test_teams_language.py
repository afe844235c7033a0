"""A German message in a Teams chat, through the real botbuilder adapter: a person takes it, the
card in the queue channel says which language (a valid Adaptive Card 1.5), and the customer's
holding message is in German."""

from __future__ import annotations

from bot.replies import HOLDING_TRANSLATED

from teams.harness import CUSTOMER_CHAT, SUPPORT_CHANNEL, card_of

GERMAN = "Wo ist meine Rechnung? Ich habe sie vor zwei Wochen bezahlt und nichts bekommen."


async def test_a_german_message_reaches_the_teams_queue_with_its_language(teams, assert_valid_card):
    await teams.set_queue(queue="support", channel=SUPPORT_CHANNEL)
    await teams.say(GERMAN)
    [card] = teams.cards_in(SUPPORT_CHANNEL)
    content = card_of(card.activity)
    assert_valid_card(content)
    assert "written in German (de); the bot answers in English only" in str(content)
    assert "reply in German" in str(content)
    assert teams.sent(CUSTOMER_CHAT)[-1]["text"] == HOLDING_TRANSLATED["de"]
