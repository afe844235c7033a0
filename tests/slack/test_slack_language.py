"""A German message in a Slack channel, signed into the real Bolt app: the Block Kit card in the
queue channel says which language, and the customer's holding message in the thread is German."""

from __future__ import annotations

import asyncio
import json

from bot.replies import HOLDING_TRANSLATED

from slack_helpers import CUSTOMER, HELP

GERMAN = "Wo ist meine Rechnung? Ich habe sie vor zwei Wochen bezahlt und nichts bekommen."


async def test_a_german_message_reaches_the_slack_queue_with_its_language(baton):
    slack = baton.slack
    question = baton.say(channel=HELP, user=CUSTOMER, text=GERMAN)
    ts = question["event"]["ts"]
    await baton.event(question)
    [holding, *_] = await slack.wait_for("chat.postMessage", predicate=lambda c: c.args.get("channel") == HELP and c.args.get("thread_ts") == ts)
    await asyncio.sleep(0.2)
    await baton.adapter.drain(timeout=5)
    assert holding.args["text"] == HOLDING_TRANSLATED["de"]
    ticket = baton.core.store.active_ticket(conversation_id=f"slack:{HELP}:{ts}")
    card = next(m for m in slack.messages(ticket.card_refs["channel"]) if m["ts"] == ticket.card_refs["message_id"])
    blocks = json.dumps(card["blocks"], ensure_ascii=False)
    assert "written in German (de); the bot answers in English only" in blocks and "reply in German" in blocks
