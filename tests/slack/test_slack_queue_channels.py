"""Issue 13: the queue channels are checked against Slack at start-up, with a clear error for each
one that does not exist (or does not have Baton in it); their cards go to the default queue.

The workspace here has only the support queue's channel and the customers' channel, as a real
workspace would after installing Baton with the shipped sample rules.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
from collections.abc import AsyncIterator

import pytest
from slack_helpers import CUSTOMER, HELP, HOME, QUEUE, USERS

from standins.slack_api import SlackStandIn

PAYMENT = "You charged my card twice on the 3rd and I want that reversed right now"


@pytest.fixture
async def slack_api() -> AsyncIterator[SlackStandIn]:
    channels = {HELP: {"name": "help"}, QUEUE: {"name": "support-queue"}, "C0SECURITY1": {"name": "security", "is_member": False}}
    async with SlackStandIn(users=copy.deepcopy(USERS), team_id=HOME, channels=channels) as standin:
        yield standin


@pytest.fixture
def start_errors(caplog):
    caplog.set_level(logging.ERROR, logger="adapters.slack.channels")
    return caplog


async def test_missing_queue_channels_are_named_at_start_up(start_errors, baton):
    errors = [r.getMessage() for r in start_errors.get_records("setup") if r.name == "adapters.slack.channels"]
    assert any("Slack queue 'billing': channel C0BILLING1 does not exist" in e for e in errors)
    assert any("Slack queue 'legal': channel C0LEGAL001 does not exist" in e for e in errors)
    assert any("Baton is not in #security" in e and "/invite @Baton" in e for e in errors)
    assert not any("'support'" in e for e in errors)
    assert ("slack", "C0BILLING1") in baton.core.desk.unreachable


async def test_a_card_for_a_missing_channel_goes_to_the_default_queue_with_a_note(baton):
    slack, store = baton.slack, baton.core.store
    risky = baton.say(channel=HELP, user=CUSTOMER, text=PAYMENT)
    rts = risky["event"]["ts"]
    await baton.event(risky)
    await slack.wait_for("chat.postMessage", predicate=lambda c: c.args.get("channel") == HELP and c.args.get("thread_ts") == rts)
    await asyncio.sleep(0.2)
    await baton.adapter.drain(timeout=5)
    ticket = store.active_ticket(conversation_id=f"slack:{HELP}:{rts}")
    assert ticket.queue == "billing" and ticket.card_refs["channel"] == QUEUE
    assert not [c for c in slack.calls_to("chat.postMessage") if c.args.get("channel") == "C0BILLING1"]  # never even tried
    notes = [c.args.get("text", "") for c in slack.calls_to("chat.postMessage") if c.args.get("channel") == QUEUE and c.args.get("thread_ts") == ticket.card_refs["message_id"]]
    assert any("belongs to the billing queue" in n for n in notes)
    assert "billing" in json.dumps(next(m for m in slack.messages(QUEUE) if m["ts"] == ticket.card_refs["message_id"])["blocks"])
