"""Teams activities go through the durable inbox: stored before the 201, run once, recovered
after a crash, retried after a failure, and never run inside the request."""

from __future__ import annotations

import asyncio
import time

from sqlmodel import Session, select

from adapters.teams import INBOX_KEY
from adapters.teams.inbox import TeamsInbox
from bot.store.durable import DONE, PENDING, WORKING, InboxRow
from teams.harness import BILLING_CHANNEL, CUSTOMER_CHAT, HOME_TENANT, SUPPORT_CHANNEL, start_harness

QUESTION = "How do I add my company logo to invoices?"


def rows(harness) -> list[InboxRow]:
    with Session(harness.core.inbox.engine) as session:
        return list(session.exec(select(InboxRow).where(InboxRow.platform == "teams").order_by(InboxRow.id)))


def answers(harness) -> list[dict]:
    return [a for a in harness.sent(CUSTOMER_CHAT) if "Upload logo" in str(a)]  # answers are Adaptive Cards


async def test_a_message_is_stored_before_the_201_and_run_after_it(teams, monkeypatch):
    started = asyncio.Event()
    inbox: TeamsInbox = teams.client.app[INBOX_KEY]
    original = inbox._run

    async def slow_run(**kwargs):
        await started.wait()  # the turn cannot start until the test lets it
        return await original(**kwargs)

    monkeypatch.setattr(inbox, "_run", slow_run)
    response = await teams.client.post("/api/messages", json=teams.message(QUESTION))
    assert response.status == 201
    [row] = rows(teams)  # stored, acknowledged, not yet answered
    assert row.status in (PENDING, WORKING) and answers(teams) == []
    assert row.payload["activity"]["text"] == QUESTION and "Authorization" not in str(row.payload)
    started.set()
    await teams.settle()
    [row] = rows(teams)
    assert row.status == DONE and len(answers(teams)) == 1


async def test_a_redelivered_activity_is_run_once(teams):
    activity = teams.message(QUESTION)
    first, again = await teams.post(activity), await teams.post(activity)
    assert (first.status, again.status) == (201, 201)
    assert len(rows(teams)) == 1 and len(answers(teams)) == 1


async def test_when_the_database_cannot_store_it_the_connector_gets_503_and_nothing_is_lost(teams, monkeypatch):
    activity = teams.message(QUESTION)

    def broken(**kwargs):
        raise OSError("database is down")

    monkeypatch.setattr(teams.core.inbox, "accept", broken)
    response = await teams.post(activity)
    assert response.status == 503 and answers(teams) == []
    monkeypatch.undo()
    response = await teams.post(activity)  # the Bot Connector delivers it again
    assert response.status == 201 and len(answers(teams)) == 1


async def test_an_activity_acked_by_a_process_that_died_is_answered_after_the_restart(make_settings, connector, monkeypatch):
    settings = make_settings(teams_local_mode=True, microsoft_app_tenant_id=HOME_TENANT, admin_token="test-admin-token", instance="baton-teams-1")
    first = await start_harness(settings=settings, connector=connector)
    with monkeypatch.context() as dying:
        dying.setattr(TeamsInbox, "_spawn", lambda self, **kwargs: None)  # killed right after the 201
        assert (await first.post(first.message(QUESTION))).status == 201
    [row] = rows(first)
    assert first.core.inbox.take(key=row.key) is not None  # it had even begun the turn
    await first.client.close()
    assert answers(first) == []

    second = await start_harness(settings=settings, connector=connector)  # the same instance, restarted
    try:
        for _ in range(200):  # the start-up sweep takes the row back at once (no lease wait)
            if rows(second)[0].status == DONE:
                break
            await asyncio.sleep(0.05)
        [row] = rows(second)
        assert row.status == DONE and row.attempts == 2
        assert len(answers(second)) == 1
    finally:
        await second.client.close()


async def test_a_turn_whose_reply_failed_is_retried_by_the_sweep_and_answered_once(teams, connector):
    connector.fail_next(status=500, times=50, method="POST")  # every attempt at posting the answer fails
    await teams.say(QUESTION)
    connector.clear_faults()  # the Bot Connector recovers
    [row] = rows(teams)
    assert row.status == PENDING and row.attempts == 1 and row.error == "turn retry"
    assert answers(teams) == [] and teams.sent(CUSTOMER_CHAT) == []  # no apology yet
    assert await teams.sweep() == 1
    [row] = rows(teams)
    assert row.status == DONE and row.attempts == 2
    assert len(answers(teams)) == 1


async def test_one_conversation_is_answered_in_the_order_it_wrote(teams, monkeypatch):
    decide = teams.core.engine.decide

    def slow_on_the_first(conversation):
        if conversation.text == QUESTION:
            time.sleep(0.5)  # the first turn is slow; the second must still wait for it
        return decide(conversation)

    monkeypatch.setattr(teams.core.engine, "decide", slow_on_the_first)
    for text in (QUESTION, "Thanks! And where do I see my invoices?"):
        assert (await teams.client.post("/api/messages", json=teams.message(text))).status == 201
    await teams.settle()
    replies = teams.sent(CUSTOMER_CHAT)
    assert len(replies) >= 2 and "Upload logo" in str(replies[0])  # the first question's answer came first


async def test_card_clicks_are_still_answered_inside_the_request(teams):
    await teams.set_queue(queue="support", channel=SUPPORT_CHANNEL)
    await teams.say("I was charged twice this month and I want my money back")
    [card] = teams.cards_in(SUPPORT_CHANNEL) or teams.cards_in(BILLING_CHANNEL)
    status, body = await teams.click("claim", card=card)
    assert status == 200 and body["type"] == "application/vnd.microsoft.card.adaptive"  # the refreshed card, synchronously
    assert not [r for r in rows(teams) if r.kind != "activity"] and all(r.payload["activity"]["type"] != "invoke" for r in rows(teams))
