"""SlackOutbox against the stand-in: one retry owner for 429, channel pacing, idempotent replies."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

import pytest
from slack_sdk.errors import SlackApiError

from adapters.slack.app import web_client
from adapters.slack.outbox import ChannelPacer, SlackOutbox
from bot.cards import OPEN_BUTTONS
from bot.dialogue import ANSWER_BUTTONS
from bot.outbox import QueueTarget
from bot.types import ConversationRef, HandoffCard, Reply, Source

REF = ConversationRef("slack", "C0HELP", "1700000000.000100")


@pytest.fixture
def outbox(make_settings, slack_api) -> SlackOutbox:
    settings = make_settings(slack_bot_token=slack_api.bot_token, slack_api_url=slack_api.base_url)
    return SlackOutbox(client=web_client(settings=settings), pacer=ChannelPacer(interval=0))


def card() -> HandoffCard:
    return HandoffCard(
        ticket_id="T-1", title="NORMAL · Low confidence · T-1", priority="normal", sla_due=datetime(2025, 1, 1, tzinfo=timezone.utc),
        customer="Cora", organisation=None, tier="standard", channel="slack #help", thread_link=None, original_message="hi",
        summary="s", intent="i", reasons=(), sources=(), missing_knowledge=True, suggested_reply="r", internal_action="a",
        queue="support", status="open", buttons=OPEN_BUTTONS,
    )


async def test_a_429_is_retried_exactly_once_after_retry_after(outbox, slack_api):
    slack_api.fail_next("chat.postMessage", status=429, retry_after=0)
    ts = await outbox.send_reply(Reply(ref=REF, text="hello"))
    calls = slack_api.calls_to("chat.postMessage")
    assert [c.status for c in calls] == [429, 200] and calls[1].args["thread_ts"] == REF.thread
    assert slack_api.messages("C0HELP")[0]["ts"] == ts


async def test_a_second_429_is_not_retried_again(outbox, slack_api):
    slack_api.fail_next("chat.postMessage", status=429, retry_after=0, times=2)
    with pytest.raises(SlackApiError):
        await outbox.send_reply(Reply(ref=REF, text="hello"))
    assert len(slack_api.calls_to("chat.postMessage")) == 2


async def test_server_errors_are_not_blindly_reposted(outbox, slack_api):
    slack_api.fail_next("chat.postMessage", status=500)
    with pytest.raises(SlackApiError):
        await outbox.send_reply(Reply(ref=REF, text="hello"))
    assert len(slack_api.calls_to("chat.postMessage")) == 1


async def test_pacing_spaces_posts_per_channel_only(outbox, slack_api):
    """The pacer spaces the moments Baton starts each call (arrival at the server adds HTTP jitter)."""
    outbox.pacer = ChannelPacer(interval=0.2)
    started: list[tuple[str, float]] = []
    send = outbox.client.chat_postMessage

    async def timed_send(**kwargs):
        started.append((kwargs["channel"], asyncio.get_running_loop().time()))
        return await send(**kwargs)

    outbox.client.chat_postMessage = timed_send
    same = [outbox.post(channel="C0ONE", text=f"m{i}") for i in range(3)]
    await asyncio.gather(*same, outbox.post(channel="C0TWO", text="other"))
    times = [at for channel, at in started if channel == "C0ONE"]
    gaps = [later - earlier for earlier, later in zip(times, times[1:])]
    assert len(times) == 3 and all(gap >= 0.19 for gap in gaps), gaps
    other = next(at for channel, at in started if channel == "C0TWO")
    assert other - times[0] < 0.1
    assert len(slack_api.messages("C0ONE")) == 3 and len(slack_api.messages("C0TWO")) == 1


async def test_keyed_posts_carry_their_key_and_can_be_found_again(outbox, slack_api):
    """The delivery log's crash window: a keyed post is tagged with message metadata and found by key."""
    question = slack_api.add_user_message(channel="C0HELP", user="U1", text="how do I export?")
    ref = ConversationRef("slack", "C0HELP", question["ts"])
    reply = Reply(ref=ref, text="answer", sources=(Source("d", "Doc", "a", "https://kb.example/d", 0.9),), buttons=ANSWER_BUTTONS, idempotency_key="answer:Ev1", decision_id=7)
    ts = await outbox.send_reply(reply)
    card_ref = await outbox.post_card(target=QueueTarget("support", "slack", "C0QUEUE"), card=card())
    assert slack_api.calls_to("chat.postMessage")[0].args["metadata"] == {"event_type": "baton_post", "event_payload": {"key": "answer:Ev1"}}
    assert await outbox.find_post(key="answer:Ev1", channel="C0HELP", thread=question["ts"]) == ts
    assert await outbox.find_post(key="card:T-1", channel="C0QUEUE", thread=None) == card_ref["message_id"]
    assert await outbox.find_post(key="answer:Ev2", channel="C0HELP", thread=question["ts"]) is None
    assert await outbox.find_post(key="card:T-1", channel="C0HELP", thread=None) is None
    blocks = [m for m in slack_api.messages("C0HELP") if m.get("blocks")][0]["blocks"]
    assert [e["value"] for e in blocks[-1]["elements"]] == ["7", "7", "7"]


async def test_cards_update_and_threads(outbox, slack_api):
    ref = await outbox.post_card(target=QueueTarget("support", "slack", "C0SUPPORT1"), card=card())
    assert ref["platform"] == "slack" and ref["channel"] == "C0SUPPORT1"
    assert outbox.ticket_for_card(channel="C0SUPPORT1", ts=ref["message_id"]) == "T-1"
    await outbox.update_card(card_ref=ref, card=card())
    await outbox.post_in_card_thread(card_ref=ref, text="Cora wrote: <hi>")
    await outbox.notify_agent(card_ref=ref, agent_id="U0DANA", text="already claimed")
    assert slack_api.thread("C0SUPPORT1", ref["message_id"])[-1]["text"] == "Cora wrote: &lt;hi&gt;"
    assert len(slack_api.calls_to("chat.update")) == 1
    assert slack_api.ephemeral_messages("C0SUPPORT1", user="U0DANA")[0]["text"] == "already claimed"


async def test_calls_on_one_loop_share_one_kept_alive_session(outbox, slack_api):
    """The client keeps one HTTP session per event loop (slack_sdk alone opens one per call)."""
    first = outbox.client.session
    await outbox.send_reply(Reply(ref=REF, text="one"))
    await outbox.send_reply(Reply(ref=REF, text="two"))
    assert outbox.client.session is first and not first.closed
    assert len(slack_api.messages("C0HELP")) == 2
    await outbox.client.close()
    assert first.closed and outbox.client.session is not first
    await outbox.client.close()
