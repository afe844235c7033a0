"""Issue 4 end to end: signed requests into the real Bolt app on Baton's real aiohttp server.

A customer's question is answered in its thread; a risky message gets a holding reply and a card;
two agents race to claim; the suggested reply reaches the customer; the customer's follow-up
reaches the card; after Resolve the bot answers again; a redelivered event changes nothing.
"""

from __future__ import annotations

import asyncio
import json

from slack_helpers import CUSTOMER, DANA, ERIN, HELP, USERS

QUESTION = "Where do I add our VAT number so it shows on invoices?"
RISKY = "You charged my card twice on the 3rd and I want that reversed right now"
LATER = "Thanks. One more thing: how do I set our base currency to euros?"


def in_thread(channel: str, thread_ts: str):
    return lambda call: call.args.get("channel") == channel and call.args.get("thread_ts") == thread_ts


def button_ids(call) -> list[str]:
    blocks = call.args.get("blocks") or []
    return [e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]]


async def settle(baton, seconds: float = 0.3) -> None:
    """Let acked work finish: listeners run after the HTTP ack."""
    await asyncio.sleep(seconds)
    await baton.adapter.drain(timeout=5)


async def test_issue_4_walkthrough(baton):
    slack, store = baton.slack, baton.core.store

    # 1. A question: answered in its thread, with a cited source link and the three buttons.
    question = baton.say(channel=HELP, user=CUSTOMER, text=QUESTION)
    qts = question["event"]["ts"]
    assert (await baton.event(question)).status == 200
    [answer] = await slack.wait_for("chat.postMessage", predicate=in_thread(HELP, qts))
    assert "<https://help.ledgerly.example/" in json.dumps(answer.args["blocks"])
    assert button_ids(answer) == ["helpful", "not_helpful", "talk_to_person"]
    assert answer.args["blocks"][-1]["elements"][0]["value"].isdigit()
    await slack.wait_for("reactions.remove", predicate=lambda c: c.args["timestamp"] == qts)
    assert [c.args["name"] for c in slack.calls_to("reactions.add")] == ["eyes"]

    # 2. A risky message: the core's holding reply in the thread, a card in the queue channel.
    risky = baton.say(channel=HELP, user=CUSTOMER, text=RISKY)
    rts = risky["event"]["ts"]
    await baton.event(risky)
    [holding] = await slack.wait_for("chat.postMessage", predicate=in_thread(HELP, rts))
    assert "blocks" not in holding.args and holding.args["text"]
    ticket = store.active_ticket(conversation_id=f"slack:{HELP}:{rts}")
    channel, card_ts = ticket.card_refs["channel"], ticket.card_refs["message_id"]
    card = next(m for m in slack.messages(channel) if m["ts"] == card_ts)
    assert "claim" in json.dumps(card["blocks"]) and card["text"].startswith(f"[{ticket.id}]")
    assert f"example.slack.com/archives/{HELP}/p{rts.replace('.', '')}" in json.dumps(card["blocks"])

    # 3. Two agents click Claim at once: one owner, the card updated, the other told who won.
    clicks = [baton.click(action="claim", value=ticket.id, user=u, channel=channel, message_ts=card_ts) for u in (DANA, ERIN)]
    responses = await asyncio.gather(*(baton.action(c) for c in clicks))
    assert [r.status for r in responses] == [200, 200]
    await slack.wait_for("chat.update")
    [refusal] = await slack.wait_for("chat.postEphemeral")
    owner = store.ticket(ticket_id=ticket.id).claimed_by
    loser = ERIN if owner == DANA else DANA
    assert refusal.args["user"] == loser and f"already claimed by <@{owner}>" in refusal.args["text"]
    assert sum(c.won for c in store.claims(ticket_id=ticket.id)) == 1
    owner_name = USERS[owner]["display_name"]
    updated = next(m for m in slack.messages(channel) if m["ts"] == card_ts)
    assert f"Claimed by <@{owner}>" in json.dumps(updated["blocks"])  # a real mention, not the display name ({owner_name})

    # 4. Send suggested reply: it appears in the customer's thread under the agent's name.
    await baton.action(baton.click(action="send_suggested", value=ticket.id, user=owner, channel=channel, message_ts=card_ts))
    calls = await slack.wait_for("chat.postMessage", count=2, predicate=in_thread(HELP, rts))
    assert calls[1].args["text"].startswith(f"*{owner_name} (support):* ")

    # 5. The customer's follow-up is mirrored into the card's thread; the bot stays silent.
    follow_up = baton.say(channel=HELP, user=CUSTOMER, text="Thanks, any news on the refund?", thread_ts=rts)
    await baton.event(follow_up)
    await slack.wait_for("chat.postMessage", predicate=lambda c: in_thread(channel, card_ts)(c) and "any news on the refund" in c.args["text"])
    await settle(baton)
    assert len([c for c in slack.calls_to("chat.postMessage") if in_thread(HELP, rts)(c)]) == 2

    # 6. Resolve: the card shows it, and the bot answers in that thread again.
    await baton.action(baton.click(action="resolve", value=ticket.id, user=owner, channel=channel, message_ts=card_ts))
    await slack.wait_for("chat.update", predicate=lambda c: "Resolved" in json.dumps(c.args.get("blocks")))
    later = baton.say(channel=HELP, user=CUSTOMER, text=LATER, thread_ts=rts)
    await baton.event(later)
    calls = await slack.wait_for("chat.postMessage", count=3, predicate=in_thread(HELP, rts))
    assert button_ids(calls[2]) == ["helpful", "not_helpful", "talk_to_person"]

    # 7. Redeliveries (X-Slack-Retry-Num, same event_id) change nothing.
    await settle(baton)
    before = (len(slack.calls), len(store.decisions()), len(store.tickets()))
    for envelope in (question, risky, follow_up, later):
        assert (await baton.event(envelope, retry=1)).status == 200
    await settle(baton)
    assert (len(slack.calls), len(store.decisions()), len(store.tickets())) == before
