"""The durable inbox and delivery log through the real Slack door (issue 9).

A process that dies is modelled by what it leaves in the database: an event stored and acked
but never processed, or a turn cut short after Slack accepted a post but before the post was
recorded. A second core and web app on the same database and with the same instance name (a
restarted replica) must finish the work: exactly one reply, ticket and card per event.
"""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager

from slack_helpers import CUSTOMER, DANA, ERIN, HELP, Baton
from sqlalchemy import update
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, select

from aiohttp.test_utils import TestClient, TestServer
from bot.store.durable import DeliveryRow, InboxRow
from bot.store.models import DecisionRow, MessageRow, TicketRow

QUESTION = "Where do I add our VAT number so it shows on invoices?"
RISKY = "You charged my card twice on the 3rd and I want that reversed right now"


@asynccontextmanager
async def restarted(settings, slack):
    """A new process of the same instance on the same database: its start-up sweep recovers."""
    from bot.app import build_core
    from bot.server import build_web_app

    core = build_core(settings=settings)
    app = build_web_app(core=core, settings=settings)
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        baton = Baton(client=client, core=core, slack=slack, app=app)
        await settle(baton)
        yield baton


async def settle(baton, seconds: float = 0.3) -> None:
    await asyncio.sleep(seconds)
    await baton.adapter.drain(timeout=5)


def posts_in_thread(slack, channel: str, ts: str) -> list[dict]:
    return [m for m in slack.thread(channel, ts) if m.get("bot_id") and m["ts"] != ts]


def rows(core, model, *where):
    with Session(core.store.engine) as session:
        # In primary-key order: without ORDER BY, PostgreSQL returns rows in heap order, not insertion order.
        return list(session.exec(select(model).where(*where).order_by(*model.__table__.primary_key.columns)))


def as_if_died_mid_work(core, *, key: str) -> None:
    """Put an inbox row back as the dead process left it: leased by this instance, not done."""
    with core.store.engine.begin() as connection:
        connection.execute(update(InboxRow).where(InboxRow.key == key).values(status="working", owner=core.inbox.owner, finished_at=None))


def forget_sent(core, *, key: str) -> None:
    """The crash window: Slack accepted the post, the process died before recording it."""
    with core.store.engine.begin() as connection:
        connection.execute(update(DeliveryRow).where(DeliveryRow.key == key).values(sent_at=None, result={}))


async def test_an_acked_event_that_was_never_processed_is_answered_after_restart(baton, slack_settings, monkeypatch):
    async def died(**_):  # the process dies right after the ack: the event is stored, nothing else
        return None

    monkeypatch.setattr(baton.adapter.inbox, "process", died)
    question = baton.say(channel=HELP, user=CUSTOMER, text=QUESTION)
    assert (await baton.event(question)).status == 200
    await settle(baton)
    key = f"slack:{question['event_id']}"
    [row] = rows(baton.core, InboxRow, InboxRow.key == key)
    assert row.status == "pending" and posts_in_thread(baton.slack, HELP, question["event"]["ts"]) == []

    async with restarted(slack_settings, baton.slack) as again:
        [reply] = posts_in_thread(baton.slack, HELP, question["event"]["ts"])
        assert reply["metadata"]["event_payload"]["key"] == f"answer:{question['event_id']}"
        [row] = rows(again.core, InboxRow, InboxRow.key == key)
        assert row.status == "done" and row.attempts == 1


async def test_a_turn_cut_short_after_slack_took_the_answer_is_not_answered_twice(baton, slack_settings):
    question = baton.say(channel=HELP, user=CUSTOMER, text=QUESTION)
    qts, key = question["event"]["ts"], f"slack:{question['event_id']}"
    await baton.event(question)
    await settle(baton)
    assert len(posts_in_thread(baton.slack, HELP, qts)) == 1
    as_if_died_mid_work(baton.core, key=key)
    forget_sent(baton.core, key=f"answer:{question['event_id']}")

    async with restarted(slack_settings, baton.slack) as again:
        assert len(posts_in_thread(baton.slack, HELP, qts)) == 1, "the answer was posted twice"
        assert baton.slack.calls_to("conversations.replies"), "the recovery did not look for its earlier post"
        conversation = f"slack:{HELP}:{qts}"
        assert [m.role for m in rows(again.core, MessageRow, MessageRow.conversation_id == conversation)] == ["customer", "bot"]
        assert len(rows(again.core, DecisionRow, DecisionRow.conversation_id == conversation)) == 1
        assert rows(again.core, InboxRow, InboxRow.key == key)[0].status == "done"


async def test_an_escalation_cut_short_after_the_card_keeps_one_card_and_sends_the_holding_reply(baton, slack_settings):
    risky = baton.say(channel=HELP, user=CUSTOMER, text=RISKY)
    rts, key = risky["event"]["ts"], f"slack:{risky['event_id']}"
    await baton.event(risky)
    await settle(baton)
    [ticket] = rows(baton.core, TicketRow, TicketRow.conversation_id == f"slack:{HELP}:{rts}")
    queue = ticket.card_refs["channel"]
    cards_before = [m for m in baton.slack.messages(queue) if ticket.id in m.get("text", "")]
    # The process died after Slack took the card, before the card's ts and the holding reply were kept.
    with baton.core.store.engine.begin() as connection:
        connection.execute(update(TicketRow).where(TicketRow.id == ticket.id).values(card_refs={}, card_message_id=None))
        connection.execute(update(DeliveryRow).where(DeliveryRow.key == f"holding:{risky['event_id']}").values(sent_at=None, result={}))
    forget_sent(baton.core, key=f"card:{ticket.id}")
    holding = posts_in_thread(baton.slack, HELP, rts)
    assert len(holding) == 1
    baton.slack._messages[HELP].remove(next(m for m in baton.slack._messages[HELP] if m["ts"] == holding[0]["ts"]))
    with baton.core.store.engine.begin() as connection:
        connection.execute(MessageRow.__table__.delete().where(MessageRow.platform_message_id == holding[0]["ts"]))
    as_if_died_mid_work(baton.core, key=key)

    async with restarted(slack_settings, baton.slack) as again:
        cards_after = [m for m in baton.slack.messages(queue) if ticket.id in m.get("text", "")]
        assert len(cards_before) == len(cards_after) == 1, "the card was posted twice"
        assert len(posts_in_thread(baton.slack, HELP, rts)) == 1, "the holding reply was not sent once"
        [kept] = rows(again.core, TicketRow, TicketRow.conversation_id == f"slack:{HELP}:{rts}")
        assert kept.id == ticket.id and kept.card_refs["message_id"] == cards_before[0]["ts"]


async def test_an_event_the_database_cannot_store_is_refused_and_taken_on_redelivery(baton, monkeypatch):
    question = baton.say(channel=HELP, user=CUSTOMER, text=QUESTION)
    real_accept = baton.core.inbox.accept

    def database_down(**_):
        raise OperationalError("INSERT", {}, Exception("database is down"))

    monkeypatch.setattr(baton.core.inbox, "accept", database_down)
    assert (await baton.event(question)).status == 503  # Slack will deliver it again
    monkeypatch.setattr(baton.core.inbox, "accept", real_accept)
    assert (await baton.event(question, retry=1)).status == 200
    await settle(baton)
    assert len(posts_in_thread(baton.slack, HELP, question["event"]["ts"])) == 1


async def test_concurrent_redeliveries_are_processed_once(baton):
    question = baton.say(channel=HELP, user=CUSTOMER, text=QUESTION)
    answers = await asyncio.gather(*(baton.event(question, retry=n) for n in range(4)))
    assert {a.status for a in answers} == {200}
    await settle(baton)
    assert len(posts_in_thread(baton.slack, HELP, question["event"]["ts"])) == 1
    assert rows(baton.core, InboxRow)[0].status == "done" and len(rows(baton.core, InboxRow)) == 1


async def escalated_ticket(baton):
    risky = baton.say(channel=HELP, user=CUSTOMER, text=RISKY)
    await baton.event(risky)
    await settle(baton)
    return baton.core.store.active_ticket(conversation_id=f"slack:{HELP}:{risky['event']['ts']}")


async def test_a_click_acked_before_a_crash_is_carried_out_after_restart(baton, slack_settings, monkeypatch):
    ticket = await escalated_ticket(baton)

    async def died(**_):
        return None

    monkeypatch.setattr(baton.adapter.inbox, "process", died)
    click = baton.click(action="claim", value=ticket.id, user=DANA, channel=ticket.card_refs["channel"], message_ts=ticket.card_refs["message_id"])
    assert (await baton.action(click)).status == 200
    await settle(baton)
    assert baton.core.store.ticket(ticket_id=ticket.id).claimed_by is None
    key = f"slack-card:{click['trigger_id']}"
    assert rows(baton.core, InboxRow, InboxRow.key == key)[0].status == "pending"

    async with restarted(slack_settings, baton.slack) as again:
        assert again.core.store.ticket(ticket_id=ticket.id).claimed_by == DANA
        assert rows(again.core, InboxRow, InboxRow.key == key)[0].status == "done"


async def test_a_click_delivered_twice_is_carried_out_once(baton):
    ticket = await escalated_ticket(baton)
    target = {"channel": ticket.card_refs["channel"], "message_ts": ticket.card_refs["message_id"]}
    click = baton.click(action="claim", value=ticket.id, user=ERIN, **target)
    answers = await asyncio.gather(baton.action(click), baton.action(click))
    assert [a.status for a in answers] == [200, 200]
    await settle(baton)
    attempts = baton.core.store.claims(ticket_id=ticket.id)
    assert [(c.agent_id, c.won) for c in attempts] == [(ERIN, True)]


async def sweep_now(baton) -> None:
    """The recovery sweep's next pass, without waiting for its period."""
    from datetime import timedelta

    await baton.adapter.worker.call(baton.adapter.inbox.sweep(older_than=timedelta(0)))
    await settle(baton)


async def test_a_turn_whose_answer_slack_refused_is_retried_not_apologised_for(baton):
    question = baton.say(channel=HELP, user=CUSTOMER, text=QUESTION)
    qts, key = question["event"]["ts"], f"slack:{question['event_id']}"
    baton.slack.fail_next("chat.postMessage", status=500)
    await baton.event(question)
    await settle(baton)
    [row] = rows(baton.core, InboxRow, InboxRow.key == key)
    assert row.status == "pending" and row.error == "turn retry"
    assert posts_in_thread(baton.slack, HELP, qts) == []  # no apology while a retry is ahead
    await sweep_now(baton)
    [answer] = posts_in_thread(baton.slack, HELP, qts)
    assert answer["metadata"]["event_payload"]["key"] == f"answer:{question['event_id']}"
    assert rows(baton.core, InboxRow, InboxRow.key == key)[0].status == "done"
    assert len(rows(baton.core, DecisionRow, DecisionRow.conversation_id == f"slack:{HELP}:{qts}")) == 1


async def test_a_card_slack_refused_is_posted_on_the_retry_and_the_ticket_is_not_doubled(baton):
    risky = baton.say(channel=HELP, user=CUSTOMER, text=RISKY)
    rts = risky["event"]["ts"]
    baton.slack.fail_next("chat.postMessage", status=500)  # the first post of the turn is the card
    await baton.event(risky)
    await settle(baton)
    [ticket] = rows(baton.core, TicketRow, TicketRow.conversation_id == f"slack:{HELP}:{rts}")
    assert not ticket.card_refs and posts_in_thread(baton.slack, HELP, rts) == []
    await sweep_now(baton)
    [ticket] = rows(baton.core, TicketRow, TicketRow.conversation_id == f"slack:{HELP}:{rts}")
    assert ticket.card_refs["message_id"] and len(posts_in_thread(baton.slack, HELP, rts)) == 1


async def test_after_the_last_attempt_the_card_is_re_posted_and_only_then_the_customer_is_promised_a_person(baton):
    """Issue 13: a card that failed every attempt is re-posted later; no promise before it is visible."""
    from bot.ops.cards import repost_missing_cards

    risky = baton.say(channel=HELP, user=CUSTOMER, text=RISKY)
    rts, key = risky["event"]["ts"], f"slack:{risky['event_id']}"
    baton.slack.fail_next("chat.postMessage", status=500, times=2)  # the card fails on the first two attempts
    await baton.event(risky)
    await settle(baton)
    await sweep_now(baton)
    baton.slack.fail_next("chat.postMessage", status=500)  # third and last attempt: the card fails once more
    await sweep_now(baton)
    [ticket] = rows(baton.core, TicketRow, TicketRow.conversation_id == f"slack:{HELP}:{rts}")
    assert not ticket.card_refs  # the card never made it: the ticket stays in the store for the dashboard
    assert posts_in_thread(baton.slack, HELP, rts) == []  # and nobody promised the customer a person yet
    [row] = rows(baton.core, InboxRow, InboxRow.key == key)
    assert (row.status, row.attempts) == ("done", 3)

    assert await repost_missing_cards(desk=baton.core.desk) == 1  # Slack answers again: the job posts it
    [ticket] = rows(baton.core, TicketRow, TicketRow.conversation_id == f"slack:{HELP}:{rts}")
    assert ticket.card_refs["message_id"]
    [told] = posts_in_thread(baton.slack, HELP, rts)
    assert "a member of our team" in told["text"] or "person" in told["text"]
    assert await repost_missing_cards(desk=baton.core.desk) == 0  # nothing twice
    assert len(posts_in_thread(baton.slack, HELP, rts)) == 1


async def test_a_talk_to_a_person_click_cut_short_is_finished_after_restart(baton, slack_settings, monkeypatch):
    """The click's marker was written, then the process died: the restarted one still hands over."""
    question = baton.say(channel=HELP, user=CUSTOMER, text=QUESTION)
    qts = question["event"]["ts"]
    await baton.event(question)
    await settle(baton)
    [answer] = posts_in_thread(baton.slack, HELP, qts)
    decision_id = answer["blocks"][-1]["elements"][0]["value"]
    real_request = baton.core.dialogue.request_person

    async def dies_after_marking(*, message):
        baton.core.store.mark_event(event_id=message.event_id, kind="person_request", owner=message.delivery)
        raise RuntimeError("the process died here")  # nothing after the marker happens

    monkeypatch.setattr(baton.core.dialogue, "request_person", dies_after_marking)
    click = baton.click(action="talk_to_person", value=decision_id, user=CUSTOMER, channel=HELP, message_ts=answer["ts"], thread_ts=qts)
    assert (await baton.action(click)).status == 200
    await settle(baton)
    monkeypatch.setattr(baton.core.dialogue, "request_person", real_request)
    assert baton.core.store.active_ticket(conversation_id=f"slack:{HELP}:{qts}") is None
    as_if_died_mid_work(baton.core, key=f"slack-answer:{click['trigger_id']}")

    async with restarted(slack_settings, baton.slack) as again:
        ticket = again.core.store.active_ticket(conversation_id=f"slack:{HELP}:{qts}")
        assert ticket is not None and ticket.reasons[0] == "human_requested" and ticket.card_refs
