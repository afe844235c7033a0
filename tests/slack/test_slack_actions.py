"""Agent side: card buttons, the edit modal, and who may press them."""

from __future__ import annotations

import json

from slack_helpers import CUSTOMER, DANA, ERIN, GRACE, HELP, MALLORY, form_body, payload, signed_headers

RISKY = "You charged my card twice, I want that reversed now"


async def card_for(baton) -> tuple[object, str, str, str]:
    """A risky message's ticket, its card's channel and ts, and the customer thread ts."""
    envelope = baton.say(channel=HELP, user=CUSTOMER, text=RISKY)
    await baton.event(envelope)
    ts = envelope["event"]["ts"]
    await baton.slack.wait_for("chat.postMessage", predicate=lambda c: c.args.get("channel") != HELP)
    await baton.slack.wait_for("chat.postMessage", predicate=lambda c: c.args.get("thread_ts") == ts)
    ticket = baton.core.store.active_ticket(conversation_id=f"slack:{HELP}:{ts}")
    return ticket, ticket.card_refs["channel"], ticket.card_refs["message_id"], ts


async def test_an_external_users_click_on_claim_is_refused(baton, caplog):
    ticket, channel, card_ts, _ = await card_for(baton)
    for outsider, team in ((GRACE, "T0GLOBEX"), (MALLORY, "T0OUTSIDE")):
        await baton.action(baton.click(action="claim", value=ticket.id, user=outsider, channel=channel, message_ts=card_ts, team=team))
    refusals = await baton.slack.wait_for("chat.postEphemeral", count=2)
    assert {r.args["user"] for r in refusals} == {GRACE, MALLORY} and all("Only members" in r.args["text"] for r in refusals)
    assert baton.core.store.ticket(ticket_id=ticket.id).status == "open"
    assert baton.slack.calls_to("chat.update") == [] and baton.core.store.claims(ticket_id=ticket.id) == []
    assert any("refused card action claim" in r.getMessage() for r in caplog.records)


async def test_edit_and_send_opens_a_prefilled_modal_and_sends_the_edit(baton):
    ticket, channel, card_ts, ts = await card_for(baton)
    await baton.action(baton.click(action="edit_send", value=ticket.id, user=DANA, channel=channel, message_ts=card_ts))
    [opened] = await baton.slack.wait_for("views.open")
    view = opened.args["view"]
    assert view["blocks"][1]["element"].get("initial_value", "") == (ticket.suggested_reply or "")[:3000]
    submission = payload("view_submission_edit")
    submission["view"]["private_metadata"] = view["private_metadata"]
    empty = json.loads(json.dumps(submission))
    empty["view"]["state"]["values"]["reply"]["reply_text"]["value"] = "   "
    body = form_body(empty)
    response = await baton.post(body, headers=signed_headers(body, content_type="application/x-www-form-urlencoded"))
    assert (await response.json())["response_action"] == "errors"
    await baton.action(submission)
    calls = await baton.slack.wait_for("chat.postMessage", count=2, predicate=lambda c: c.args.get("thread_ts") == ts)
    assert calls[1].args["text"] == "*Dana (support):* Hi! I have refunded the duplicate charge."


async def test_release_only_by_the_owner_then_resolve_without_a_person(baton):
    ticket, channel, card_ts, _ = await card_for(baton)
    click = lambda action, user: baton.click(action=action, value=ticket.id, user=user, channel=channel, message_ts=card_ts)  # noqa: E731
    await baton.action(click("claim", DANA))
    await baton.slack.wait_for("chat.update")
    await baton.action(click("release", ERIN))
    [refusal] = await baton.slack.wait_for("chat.postEphemeral")
    assert refusal.args["user"] == ERIN and "Only the agent who claimed" in refusal.args["text"]
    await baton.action(click("release", DANA))
    await baton.slack.wait_for("chat.update", count=2)
    assert baton.core.store.ticket(ticket_id=ticket.id).status == "released"
    await baton.action(click("no_person_needed", ERIN))
    [update] = (await baton.slack.wait_for("chat.update", count=3))[2:]
    resolved = baton.core.store.ticket(ticket_id=ticket.id)
    assert resolved.status == "resolved" and resolved.needed_person is False
    assert "feedback_card_ok" in json.dumps(update.args["blocks"])
    await baton.action(click("feedback_card_ok", ERIN))
    await baton.slack.wait_for("chat.postEphemeral", count=2)
    assert baton.core.store.ticket(ticket_id=ticket.id).card_complete is True
    assert sorted(f.kind for f in baton.core.store.feedback()) == ["agent_card_ok", "agent_needed_no"]


async def test_card_threads_are_found_after_a_restart(baton):
    ticket, channel, card_ts, ts = await card_for(baton)
    baton.adapter.outbox._cards.clear()  # a new process knows the card only from the store
    await baton.event(baton.say(channel=channel, user=DANA, text="On it, Cora.", thread_ts=card_ts))
    calls = await baton.slack.wait_for("chat.postMessage", count=2, predicate=lambda c: c.args.get("thread_ts") == ts)
    assert calls[1].args["text"] == "*Dana (support):* On it, Cora."
