"""Customer side: who is who, what the bot ignores, edits, takeovers and queue-channel threads."""

from __future__ import annotations

import asyncio
import json

from slack_helpers import CUSTOMER, DANA, GRACE, HELP, escalate, payload

VAT = "Where do I add our VAT number so it shows on invoices?"
CURRENCY = "how do i set our base currency to euros"


def replies_in(slack, channel: str, thread_ts: str) -> list:
    return [c for c in slack.calls_to("chat.postMessage") if c.args.get("channel") == channel and c.args.get("thread_ts") == thread_ts]


async def settle(baton) -> None:
    await asyncio.sleep(0.3)
    await baton.adapter.drain(timeout=5)


async def test_external_slack_connect_customer_is_recognised_and_escalated_as_high_value(baton):
    recorded = payload("message_external_connect")
    envelope = baton.say(channel="C0GLOBEX", user=GRACE, text=recorded["event"]["text"], team="T0GLOBEX")
    envelope["event"]["user_profile"] = recorded["event"]["user_profile"]
    await baton.event(envelope)
    ts = envelope["event"]["ts"]
    await baton.slack.wait_for("chat.postMessage", predicate=lambda c: c.args.get("thread_ts") == ts)
    row = baton.core.store.conversation(conversation_id=f"slack:C0GLOBEX:{ts}")
    assert row.external and row.organisation == "T0GLOBEX" and row.tier == "enterprise"
    ticket = baton.core.store.active_ticket(conversation_id=row.id)
    assert ticket is not None and "high_value" in ticket.reasons and (ticket.organisation, ticket.tier) == ("Globex", "enterprise")
    assert baton.slack.calls_to("users.info")[0].args["user"] == GRACE


async def test_bots_own_and_housekeeping_messages_are_ignored(baton):
    own = baton.say(channel=HELP, user=baton.slack.bot_user_id, text=VAT)
    own["event"]["bot_id"] = baton.slack.bot_id
    for envelope in (own, payload("bot_message"), payload("channel_join")):
        assert (await baton.event(envelope)).status == 200
    await settle(baton)
    assert baton.slack.calls_to("chat.postMessage") == [] and baton.slack.calls_to("reactions.add") == []
    assert baton.core.store.decisions() == []


async def test_message_and_app_mention_of_one_post_get_one_answer(baton):
    message = baton.say(channel=HELP, user=CUSTOMER, text=f"<@{baton.slack.bot_user_id}> {VAT}")
    mention = json.loads(json.dumps(message))
    mention["event"]["type"], mention["event_id"] = "app_mention", "Ev0TWIN00001"
    await asyncio.gather(baton.event(message), baton.event(mention))
    await baton.slack.wait_for("chat.postMessage")
    await settle(baton)
    assert len(baton.slack.calls_to("chat.postMessage")) == 1
    assert baton.core.store.decisions()[0].input_text == VAT


async def test_edits_and_deletions_update_the_stored_history(baton):
    envelope = baton.say(channel=HELP, user=CUSTOMER, text=VAT)
    await baton.event(envelope)
    ts = envelope["event"]["ts"]
    await baton.slack.wait_for("chat.postMessage")
    changed = payload("message_changed")
    changed["event"]["message"]["ts"] = changed["event"]["previous_message"]["ts"] = ts
    changed["event"]["previous_message"]["text"] = VAT
    await baton.event(changed)
    key = f"slack:{HELP}:{ts}"
    await settle(baton)
    assert baton.core.store.history(conversation_id=key)[0].text == "How do I export my expenses to CSV for my accountant?"
    deleted = payload("message_deleted")
    deleted["event"]["deleted_ts"] = deleted["event"]["previous_message"]["ts"] = ts
    await baton.event(deleted)
    await settle(baton)
    assert all(t.role.value != "customer" for t in baton.core.store.history(conversation_id=key))


async def test_a_member_replying_in_the_customer_thread_silences_the_bot(baton):
    envelope = baton.say(channel=HELP, user=CUSTOMER, text=VAT)
    await baton.event(envelope)
    ts = envelope["event"]["ts"]
    await baton.slack.wait_for("chat.postMessage")
    await baton.event(baton.say(channel=HELP, user=DANA, text="Hi Cora, Dana here, I'll take this one.", thread_ts=ts))
    await settle(baton)
    assert baton.core.store.conversation(conversation_id=f"slack:{HELP}:{ts}").human_active
    await baton.event(baton.say(channel=HELP, user=CUSTOMER, text=CURRENCY, thread_ts=ts))
    await settle(baton)
    assert len(replies_in(baton.slack, HELP, ts)) == 1
    assert [t.role.value for t in baton.core.store.history(conversation_id=f"slack:{HELP}:{ts}")] == ["customer", "bot", "agent", "customer"]


async def test_agent_replies_under_a_card_are_relayed_unless_internal(baton):
    envelope, ticket = await escalate(baton)
    channel, card_ts = ticket.card_refs["channel"], ticket.card_refs["message_id"]
    await baton.event(baton.say(channel=channel, user=DANA, text="note: check Stripe before replying", thread_ts=card_ts))
    await baton.event(baton.say(channel=channel, user=DANA, text="// also internal", thread_ts=card_ts))
    await baton.event(baton.say(channel=channel, user=DANA, text="Hi Cora, we are refunding the duplicate charge.", thread_ts=card_ts))
    await baton.event(baton.say(channel=channel, user=DANA, text="top-level chatter in the queue channel"))
    ts = envelope["event"]["ts"]
    calls = await baton.slack.wait_for("chat.postMessage", count=2, predicate=lambda c: c.args.get("thread_ts") == ts)
    await settle(baton)
    relayed = replies_in(baton.slack, HELP, ts)
    assert len(relayed) == 2 and relayed[1].args["text"] == "*Dana (support):* Hi Cora, we are refunding the duplicate charge."
    assert calls[0].args["text"] and "Stripe" not in json.dumps([c.args for c in relayed])
    notes = [m.text for m in baton.core.store.messages(conversation_id=ticket.conversation_id) if m.kind == "internal_note"]
    assert sorted(notes) == ["// also internal", "note: check Stripe before replying"]
    assert all("Stripe" not in t.text for t in baton.core.store.history(conversation_id=ticket.conversation_id))


async def test_talk_to_a_person_button_hands_the_thread_over(baton):
    envelope = baton.say(channel=HELP, user=CUSTOMER, text=VAT)
    await baton.event(envelope)
    ts = envelope["event"]["ts"]
    [answer] = await baton.slack.wait_for("chat.postMessage")
    decision_id = answer.args["blocks"][-1]["elements"][0]["value"]
    answer_ts = [m for m in baton.slack.messages(HELP) if m.get("bot_id")][-1]["ts"]
    await baton.action(baton.click(action="helpful", value=decision_id, user=CUSTOMER, channel=HELP, message_ts=answer_ts, thread_ts=ts))
    [thanks] = await baton.slack.wait_for("chat.postEphemeral")
    assert thanks.args["user"] == CUSTOMER and thanks.args["thread_ts"] == ts
    assert [(f.kind, f.decision_id) for f in baton.core.store.feedback()] == [("helpful", int(decision_id))]
    await baton.action(baton.click(action="talk_to_person", value=decision_id, user=CUSTOMER, channel=HELP, message_ts=answer_ts, thread_ts=ts))
    await baton.slack.wait_for("chat.postMessage", count=2, predicate=lambda c: c.args.get("thread_ts") == ts)
    ticket = baton.core.store.active_ticket(conversation_id=f"slack:{HELP}:{ts}")
    assert ticket is not None and ticket.reasons[0] == "human_requested"
    assert ticket.original_message == "I'd like to talk to a person" and ticket.suggested_reply


async def test_debounce_joins_quick_messages_into_one_turn(baton):
    """Two quick top-level DMs are one question, answered in the first one's thread."""
    baton.adapter.messages.turns.delay = 0.3
    first = baton.say(channel="D0CUSTDM", user=CUSTOMER, text="hi")
    ts = first["event"]["ts"]
    second = baton.say(channel="D0CUSTDM", user=CUSTOMER, text=VAT)
    await baton.event(first)
    await baton.event(second)
    [reply] = await baton.slack.wait_for("chat.postMessage")
    await settle(baton)
    [decision] = baton.core.store.decisions()
    assert decision.input_text == f"hi\n{VAT}" and decision.conversation_id == f"slack:D0CUSTDM:{ts}"
    assert len(baton.slack.calls_to("chat.postMessage")) == 1 and reply.args["thread_ts"] == ts
    assert {c.args["timestamp"] for c in baton.slack.calls_to("reactions.remove")} == {ts, second["event"]["ts"]}
    follow_up = baton.say(channel="D0CUSTDM", user=CUSTOMER, text="thanks! and the base currency?", thread_ts=ts)
    await baton.event(follow_up)
    await baton.slack.wait_for("chat.postMessage", count=2)
    assert len(baton.core.store.decisions()) == 2


async def test_our_own_team_in_a_slack_connect_channel_is_not_a_customer(baton):
    envelope = baton.say(channel="C0GLOBEX", user=DANA, text=VAT)
    envelope["is_ext_shared_channel"] = True
    await baton.event(envelope)
    await settle(baton)
    assert baton.slack.calls_to("chat.postMessage") == [] and baton.core.store.decisions() == []


async def test_an_edit_or_deletion_inside_the_debounce_window_changes_what_is_decided(baton):
    baton.adapter.messages.turns.delay = 0.5
    typo = baton.say(channel="D0CUSTDM", user=CUSTOMER, text="where do I add our VTA nmber")
    oops = baton.say(channel="D0CUSTDM", user=CUSTOMER, text="wrong window, ignore")
    await baton.event(typo)
    await baton.event(oops)
    changed = payload("message_changed")
    changed["event"] |= {"channel": "D0CUSTDM", "channel_type": "im"}
    changed["event"]["message"] |= {"ts": typo["event"]["ts"], "text": VAT}
    changed["event"]["previous_message"] |= {"ts": typo["event"]["ts"], "text": typo["event"]["text"]}
    deleted = payload("message_deleted")
    deleted["event"] |= {"channel": "D0CUSTDM", "deleted_ts": oops["event"]["ts"]}
    await baton.event(changed)
    await baton.event(deleted)
    await baton.slack.wait_for("chat.postMessage")
    await settle(baton)
    assert [d.input_text for d in baton.core.store.decisions()] == [VAT]
