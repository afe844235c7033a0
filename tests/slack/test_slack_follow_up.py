"""Issue 13: a second, more serious message while a ticket is open is re-triaged, in Slack.

A question the knowledge base cannot answer opens a low-confidence ticket in the support queue.
The customer then demands a refund and threatens to leave: the ticket gains the new reasons and
a higher priority, moves to the billing queue (a new card there, the old card updated with
chat.update and told where it went), its SLA comes closer, and the customer is acknowledged.
"""

from __future__ import annotations

import asyncio
import json

from slack_helpers import CUSTOMER, HELP

QUESTION = "How do I export my expenses to Sage 50?"
SERIOUS = "I want a refund of this month's charge, you billed us twice. Fix it today or we leave and I'll post about it on Twitter."
BILLING = "C0BILLING1"


def in_thread(channel: str, thread_ts: str):
    return lambda call: call.args.get("channel") == channel and call.args.get("thread_ts") == thread_ts


async def settle(baton, seconds: float = 0.3) -> None:
    await asyncio.sleep(seconds)
    await baton.adapter.drain(timeout=5)


async def test_a_serious_follow_up_updates_the_ticket_and_the_card(baton):
    slack, store = baton.slack, baton.core.store
    question = baton.say(channel=HELP, user=CUSTOMER, text=QUESTION)
    qts = question["event"]["ts"]
    await baton.event(question)
    await slack.wait_for("chat.postMessage", predicate=in_thread(HELP, qts))
    before = store.active_ticket(conversation_id=f"slack:{HELP}:{qts}")
    assert before is not None and before.queue == "support" and "emotional" not in before.reasons
    old_channel, old_ts = before.card_refs["channel"], before.card_refs["message_id"]

    follow_up = baton.say(channel=HELP, user=CUSTOMER, text=SERIOUS, thread_ts=qts)
    await baton.event(follow_up)
    await slack.wait_for("chat.postMessage", predicate=lambda c: c.args.get("channel") == BILLING and c.args.get("blocks"))
    await settle(baton)

    after = store.ticket(ticket_id=before.id)
    assert {"emotional", "high_value", "policy_risk"} <= set(after.reasons) and after.reasons[0] == before.reasons[0]
    assert after.queue == "billing" and after.card_refs["channel"] == BILLING
    ranks = ("urgent", "high", "normal", "low")
    assert ranks.index(after.priority) < ranks.index(before.priority)
    assert after.first_response_due < before.first_response_due

    old_card = next(m for m in slack.messages(old_channel) if m["ts"] == old_ts)
    assert "billing" in json.dumps(old_card["blocks"])  # the old card was updated in place
    assert any("Moved to the billing queue" in c.args.get("text", "") for c in slack.calls_to("chat.postMessage") if in_thread(old_channel, old_ts)(c))
    new_card = next(m for m in slack.messages(BILLING) if m["ts"] == after.card_refs["message_id"])
    assert after.id in new_card["text"] and "Emotional" in json.dumps(new_card["blocks"])

    replies = [c.args.get("text", "") for c in slack.calls_to("chat.postMessage") if in_thread(HELP, qts)(c)]
    assert any("added this to your request" in text and "more urgent" in text for text in replies)


async def test_a_harmless_follow_up_changes_nothing_and_gets_one_short_ack(baton):
    slack, store = baton.slack, baton.core.store
    question = baton.say(channel=HELP, user=CUSTOMER, text=QUESTION)
    qts = question["event"]["ts"]
    await baton.event(question)
    await slack.wait_for("chat.postMessage", predicate=in_thread(HELP, qts))
    before = store.active_ticket(conversation_id=f"slack:{HELP}:{qts}")

    later = baton.say(channel=HELP, user=CUSTOMER, text="ok, thanks", thread_ts=qts)
    await baton.event(later)
    await settle(baton)
    after = store.ticket(ticket_id=before.id)
    assert (after.priority, after.queue, after.reasons) == (before.priority, before.queue, before.reasons)
    updates = [c for c in slack.calls_to("chat.update") if c.args.get("ts") == before.card_refs["message_id"]]
    assert updates == []
    replies = [c.args.get("text", "") for c in slack.calls_to("chat.postMessage") if in_thread(HELP, qts)(c)]
    assert len(replies) == 1  # the holding reply a moment ago is enough: no ack spam inside a minute
