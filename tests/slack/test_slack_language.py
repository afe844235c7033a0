"""A German message in a Slack channel, signed into the real Bolt app: the Block Kit card in the
queue channel says which language, and the customer's holding message in the thread is German."""

from __future__ import annotations

import json

from bot.replies import HOLDING_TRANSLATED

from slack_helpers import HELP, escalate

GERMAN = "Wo ist meine Rechnung? Ich habe sie vor zwei Wochen bezahlt und nichts bekommen."


async def test_a_german_message_reaches_the_slack_queue_with_its_language(baton):
    slack = baton.slack
    envelope, ticket = await escalate(baton, text=GERMAN)
    ts = envelope["event"]["ts"]
    [holding] = [c for c in slack.calls_to("chat.postMessage") if c.args.get("channel") == HELP and c.args.get("thread_ts") == ts]
    assert holding.args["text"] == HOLDING_TRANSLATED["de"]
    card = next(m for m in slack.messages(ticket.card_refs["channel"]) if m["ts"] == ticket.card_refs["message_id"])
    blocks = json.dumps(card["blocks"], ensure_ascii=False)
    assert "written in German (de); the bot answers in English only" in blocks and "reply in German" in blocks
