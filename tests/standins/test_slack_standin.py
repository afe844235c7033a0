"""The Slack stand-in behaves like Slack for the real slack_sdk and slack_bolt clients."""

from __future__ import annotations

import asyncio
import json
import time

import aiohttp
import pytest
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.app.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import builtin_async_handlers
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator
from slack_sdk.models.blocks import ButtonElement, DividerBlock, SectionBlock
from slack_sdk.web.async_client import AsyncWebClient

from .conftest import ALICE
from .slack_api import SlackStandIn, StandInTimeout, validate_blocks

CHANNEL = "C0QUEUE"


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------


def section(text: str) -> dict:
    """A mrkdwn section block."""
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def button(*, text: str = "Claim", action_id: str = "claim", value: str = "1") -> dict:
    """A button element."""
    return {"type": "button", "text": {"type": "plain_text", "text": text}, "action_id": action_id, "value": value}


def modal(*, title: str = "Escalate", blocks: list | None = None) -> dict:
    """A modal view."""
    return {"type": "modal", "title": {"type": "plain_text", "text": title}, "blocks": blocks or [section("hi")]}


async def expect_error(call, error: str) -> SlackApiError:
    """Await ``call`` and check it fails with Slack error ``error``."""
    with pytest.raises(SlackApiError) as caught:
        await call
    assert caught.value.response["error"] == error
    return caught.value


async def raw_post(slack: SlackStandIn, method: str, **kwargs) -> tuple[int, dict, dict]:
    """POST with plain aiohttp; return status, headers and JSON body."""
    async with aiohttp.ClientSession() as session:
        async with session.post(slack.base_url + method, **kwargs) as response:
            return response.status, dict(response.headers), await response.json()


# ---------------------------------------------------------------------------
# Web API basics
# ---------------------------------------------------------------------------


async def test_auth_test_returns_the_bot_identity(slack: SlackStandIn, web_client: AsyncWebClient) -> None:
    """auth.test answers who the bot is."""
    response = await web_client.auth_test()
    assert (response["team_id"], response["user_id"], response["bot_id"]) == ("T0HOME", "U0BATON", "B0BATON")
    assert response["url"] == "https://example.slack.com/"
    assert slack.calls_to("auth.test")[0].ok


async def test_post_message_stores_it_with_increasing_ts(slack: SlackStandIn, web_client: AsyncWebClient) -> None:
    """chat.postMessage returns ts/channel/message and the stand-in keeps the message."""
    first = await web_client.chat_postMessage(channel=CHANNEL, text="first")
    second = await web_client.chat_postMessage(channel=CHANNEL, text="second", blocks=[SectionBlock(text="*b*")])
    assert first["ts"] == "1700000000.000100" and float(second["ts"]) > float(first["ts"])
    assert first["channel"] == CHANNEL and first["message"]["bot_id"] == "B0BATON"
    stored = slack.messages(CHANNEL)
    assert [m["text"] for m in stored] == ["first", "second"]
    assert stored[1]["blocks"][0]["text"]["text"] == "*b*"
    assert slack.calls_to("chat.postMessage")[1].args["channel"] == CHANNEL


async def test_thread_replies_and_history(slack: SlackStandIn, web_client: AsyncWebClient) -> None:
    """Replies carry thread_ts; conversations.replies and history see the thread."""
    question = slack.add_user_message(channel=CHANNEL, user=ALICE, text="VPN is down")
    await web_client.chat_postMessage(channel=CHANNEL, text="Looking", thread_ts=question["ts"])
    replies = await web_client.conversations_replies(channel=CHANNEL, ts=question["ts"])
    assert [m["text"] for m in replies["messages"]] == ["VPN is down", "Looking"]
    assert replies["messages"][0]["reply_count"] == 1
    assert replies["messages"][1]["parent_user_id"] == ALICE
    history = await web_client.conversations_history(channel=CHANNEL)
    assert [m["text"] for m in history["messages"]] == ["VPN is down"]
    await expect_error(web_client.conversations_replies(channel=CHANNEL, ts="1.2"), "thread_not_found")


async def test_update_delete_and_permalink(slack: SlackStandIn, web_client: AsyncWebClient) -> None:
    """chat.update edits, chat.delete removes, chat.getPermalink links; unknown ts fail."""
    posted = await web_client.chat_postMessage(channel=CHANNEL, text="draft")
    updated = await web_client.chat_update(channel=CHANNEL, ts=posted["ts"], text="final")
    assert updated["message"]["text"] == "final" and slack.messages(CHANNEL)[0]["edited"]["user"] == "U0BATON"
    link = await web_client.chat_getPermalink(channel=CHANNEL, message_ts=posted["ts"])
    assert link["permalink"] == f"https://example.slack.com/archives/{CHANNEL}/p{posted['ts'].replace('.', '')}"
    await web_client.chat_delete(channel=CHANNEL, ts=posted["ts"])
    assert slack.messages(CHANNEL) == []
    await expect_error(web_client.chat_update(channel=CHANNEL, ts=posted["ts"], text="x"), "message_not_found")
    await expect_error(web_client.chat_delete(channel=CHANNEL, ts=posted["ts"]), "message_not_found")


async def test_cannot_edit_someone_elses_message(slack: SlackStandIn, web_client: AsyncWebClient) -> None:
    """The bot may only update or delete its own messages."""
    theirs = slack.add_user_message(channel=CHANNEL, user=ALICE, text="mine")
    await expect_error(web_client.chat_update(channel=CHANNEL, ts=theirs["ts"], text="x"), "cant_update_message")
    await expect_error(web_client.chat_delete(channel=CHANNEL, ts=theirs["ts"]), "cant_delete_message")


async def test_ephemeral_messages(slack: SlackStandIn, web_client: AsyncWebClient) -> None:
    """chat.postEphemeral needs a known user and is not stored in the channel."""
    response = await web_client.chat_postEphemeral(channel=CHANNEL, user=ALICE, text="only you")
    assert response["message_ts"]
    assert slack.ephemeral_messages(CHANNEL, user=ALICE)[0]["text"] == "only you"
    assert slack.messages(CHANNEL) == []
    await expect_error(web_client.chat_postEphemeral(channel=CHANNEL, user="U0NOBODY", text="x"), "user_not_found")


async def test_reactions(slack: SlackStandIn, web_client: AsyncWebClient) -> None:
    """reactions.add / remove track the bot's reactions with Slack's errors."""
    ts = slack.add_user_message(channel=CHANNEL, user=ALICE, text="help")["ts"]
    await web_client.reactions_add(channel=CHANNEL, timestamp=ts, name="eyes")
    assert slack.messages(CHANNEL)[0]["reactions"] == [{"name": "eyes", "users": ["U0BATON"], "count": 1}]
    await expect_error(web_client.reactions_add(channel=CHANNEL, timestamp=ts, name="eyes"), "already_reacted")
    await web_client.reactions_remove(channel=CHANNEL, timestamp=ts, name="eyes")
    await expect_error(web_client.reactions_remove(channel=CHANNEL, timestamp=ts, name="eyes"), "no_reaction")
    await expect_error(web_client.reactions_add(channel=CHANNEL, timestamp="9.9", name="eyes"), "message_not_found")


async def test_users_and_conversations_info(web_client: AsyncWebClient) -> None:
    """users.info (a GET with query parameters) and conversations.info."""
    alice = (await web_client.users_info(user=ALICE))["user"]
    assert alice["profile"]["display_name"] == "alice.m" and alice["real_name"] == "Alice Martin"
    assert alice["team_id"] == "T0HOME" and alice["is_bot"] is False
    await expect_error(web_client.users_info(user="U0NOBODY"), "user_not_found")
    channel = (await web_client.conversations_info(channel=CHANNEL))["channel"]
    assert channel["id"] == CHANNEL and channel["is_channel"]


async def test_declared_channels_are_enforced() -> None:
    """With ``channels=`` given, other channel ids are channel_not_found."""
    async with SlackStandIn(channels={CHANNEL: {"name": "support-queue"}}) as slack:
        client = AsyncWebClient(base_url=slack.base_url, token=slack.bot_token)
        info = await client.conversations_info(channel=CHANNEL)
        assert info["channel"]["name"] == "support-queue"
        await expect_error(client.chat_postMessage(channel="C0OTHER", text="x"), "channel_not_found")


async def test_form_encoded_body_with_token_field(slack: SlackStandIn) -> None:
    """Form bodies with ``token=`` work; blocks arrive as a JSON string and are decoded."""
    form = {"token": slack.bot_token, "channel": CHANNEL, "text": "t", "blocks": json.dumps([section("hi")])}
    status, _, body = await raw_post(slack, "chat.postMessage", data=form)
    assert status == 200 and body["ok"] is True
    assert slack.messages(CHANNEL)[0]["blocks"] == [section("hi")]
    assert slack.calls[0].token == slack.bot_token and "token" not in slack.calls[0].args


async def test_unknown_method(slack: SlackStandIn, web_client: AsyncWebClient) -> None:
    """Methods the stand-in does not know answer unknown_method."""
    await expect_error(web_client.api_call("chat.scheduleTeleport"), "unknown_method")
    assert slack.calls[0].error == "unknown_method"


# ---------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------


async def test_tokens_are_checked(slack: SlackStandIn) -> None:
    """Missing token: not_authed; wrong: invalid_auth; app token on a bot method: not_allowed_token_type."""
    await expect_error(AsyncWebClient(base_url=slack.base_url).auth_test(), "not_authed")
    await expect_error(AsyncWebClient(base_url=slack.base_url, token="xoxb-wrong").auth_test(), "invalid_auth")
    app_client = AsyncWebClient(base_url=slack.base_url, token=slack.app_token)
    await expect_error(app_client.chat_postMessage(channel=CHANNEL, text="x"), "not_allowed_token_type")
    assert [c.error for c in slack.calls] == ["not_authed", "invalid_auth", "not_allowed_token_type"]


@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing")
async def test_required_arguments(web_client: AsyncWebClient) -> None:
    """No channel: channel_not_found; no text or blocks: no_text; too long: msg_too_long."""
    await expect_error(web_client.chat_postMessage(channel="", text="x"), "channel_not_found")
    await expect_error(web_client.chat_postMessage(channel=CHANNEL), "no_text")
    await expect_error(web_client.chat_postMessage(channel=CHANNEL, text="x" * 40_001), "msg_too_long")
    assert (await web_client.chat_postMessage(channel=CHANNEL, text="x" * 40_000))["ok"]


async def test_51_blocks_are_invalid(slack: SlackStandIn, web_client: AsyncWebClient) -> None:
    """At most 50 blocks per message."""
    assert (await web_client.chat_postMessage(channel=CHANNEL, text="ok", blocks=[DividerBlock()] * 50))["ok"]
    error = await expect_error(
        web_client.chat_postMessage(channel=CHANNEL, text="x", blocks=[DividerBlock()] * 51), "invalid_blocks"
    )
    assert error.response["errors"] == ["no more than 50 items allowed [json-pointer:/blocks]"]
    assert slack.calls[-1].ok is False and slack.calls[-1].error == "invalid_blocks"


async def test_long_section_is_invalid(web_client: AsyncWebClient) -> None:
    """Section text holds at most 3000 characters."""
    assert (await web_client.chat_postMessage(channel=CHANNEL, text="ok", blocks=[section("x" * 3000)]))["ok"]
    error = await expect_error(
        web_client.chat_postMessage(channel=CHANNEL, text="x", blocks=[section("x" * 3001)]), "invalid_blocks"
    )
    assert "json-pointer:/blocks/0/text/text" in error.response["errors"][0]


async def test_blocks_that_are_not_a_list(slack: SlackStandIn) -> None:
    """A blocks value that is not an array is invalid_blocks_format."""
    form = {"token": slack.bot_token, "channel": CHANNEL, "text": "t", "blocks": "not json"}
    _, _, body = await raw_post(slack, "chat.postMessage", data=form)
    assert body == {"ok": False, "error": "invalid_blocks_format"}


def _fields(count: int, size: int = 10) -> dict:
    return {"type": "section", "fields": [{"type": "mrkdwn", "text": "f" * size}] * count}


def _header(size: int) -> dict:
    return {"type": "header", "text": {"type": "plain_text", "text": "h" * size}}


def _actions(count: int, **kwargs) -> dict:
    return {"type": "actions", "elements": [button(**kwargs)] * count}


def _context(count: int) -> dict:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * count}


@pytest.mark.parametrize(
    ("valid", "invalid", "pointer"),
    [
        (_fields(10), _fields(11), "/blocks/0/fields"),
        (_fields(1, 2000), _fields(1, 2001), "/blocks/0/fields/0/text"),
        (_header(150), _header(151), "/blocks/0/text/text"),
        (_actions(1, text="b" * 75), _actions(1, text="b" * 76), "/blocks/0/elements/0/text/text"),
        (_actions(1, action_id="a" * 255), _actions(1, action_id="a" * 256), "/blocks/0/elements/0/action_id"),
        (_actions(1, value="v" * 2000), _actions(1, value="v" * 2001), "/blocks/0/elements/0/value"),
        (_actions(25, action_id=None), _actions(26, action_id=None), "/blocks/0/elements"),
        (_context(10), _context(11), "/blocks/0/elements"),
    ],
    ids=["fields", "field-text", "header", "button-text", "action_id", "value", "actions", "context"],
)
def test_block_kit_limits(valid: dict, invalid: dict, pointer: str) -> None:
    """Each Block Kit limit accepts its maximum and rejects one more."""
    assert validate_blocks([valid]) == []
    errors = validate_blocks([invalid])
    assert errors and any(e.endswith(f"[json-pointer:{pointer}]") for e in errors), errors


def test_header_must_be_plain_text_and_types_must_exist() -> None:
    """mrkdwn headers and unknown block types are rejected."""
    assert validate_blocks([{"type": "header", "text": {"type": "mrkdwn", "text": "h"}}])
    assert validate_blocks([{"type": "sparkles"}]) == ["unsupported type: sparkles [json-pointer:/blocks/0/type]"]


def test_sdk_built_blocks_pass() -> None:
    """Blocks built with slack_sdk's models validate."""
    blocks = [SectionBlock(text="hi", accessory=ButtonElement(text="Go", action_id="go")).to_dict()]
    assert validate_blocks(blocks) == []


async def test_modals(slack: SlackStandIn, web_client: AsyncWebClient) -> None:
    """views.open validates the title (24 chars) and 100 blocks; trigger ids are single-use."""
    trigger = slack.new_trigger_id()
    opened = await web_client.views_open(trigger_id=trigger, view=modal(title="t" * 24, blocks=[section("x")] * 100))
    assert opened["view"]["id"].startswith("V")
    await expect_error(web_client.views_open(trigger_id=trigger, view=modal()), "exchanged_trigger_id")
    long_title = await expect_error(
        web_client.views_open(trigger_id=slack.new_trigger_id(), view=modal(title="t" * 25)), "invalid_arguments"
    )
    assert "json-pointer:/view/title/text" in long_title.response["response_metadata"]["messages"][0]
    too_many = modal(blocks=[section("x")] * 101)
    await expect_error(web_client.views_open(trigger_id=slack.new_trigger_id(), view=too_many), "invalid_arguments")


async def test_views_update_and_hash(slack: SlackStandIn, web_client: AsyncWebClient) -> None:
    """views.update replaces a view; a stale hash is hash_conflict; unknown view not_found."""
    view = (await web_client.views_open(trigger_id=slack.new_trigger_id(), view=modal()))["view"]
    updated = await web_client.views_update(view_id=view["id"], hash=view["hash"], view=modal(title="Done"))
    assert updated["view"]["title"]["text"] == "Done" and slack.views()[0]["title"]["text"] == "Done"
    await expect_error(web_client.views_update(view_id=view["id"], hash="stale", view=modal()), "hash_conflict")
    await expect_error(web_client.views_update(view_id="V0NONE", view=modal()), "not_found")


async def test_home_tab_and_pushed_views(slack: SlackStandIn, web_client: AsyncWebClient) -> None:
    """views.publish stores a home tab per user; views.push stacks on the open modal."""
    home = {"type": "home", "blocks": [section("Your tickets")]}
    await web_client.views_publish(user_id=ALICE, view=home)
    assert slack.home_view(ALICE)["blocks"] == [section("Your tickets")]
    root = (await web_client.views_open(trigger_id=slack.new_trigger_id(), view=modal()))["view"]
    pushed = (await web_client.views_push(trigger_id=slack.new_trigger_id(), view=modal(title="Step 2")))["view"]
    assert pushed["root_view_id"] == root["id"] and len(slack.views()) == 2


# ---------------------------------------------------------------------------
# Fault injection
# ---------------------------------------------------------------------------


async def test_429_carries_retry_after(slack: SlackStandIn) -> None:
    """An injected 429 answers ratelimited with the Retry-After header."""
    slack.fail_next("auth.test", status=429, retry_after=7)
    status, headers, body = await raw_post(slack, "auth.test", headers={"Authorization": f"Bearer {slack.bot_token}"})
    assert (status, headers["Retry-After"], body) == (429, "7", {"ok": False, "error": "ratelimited"})
    assert slack.calls[0].status == 429


async def test_429_is_not_retried_without_a_handler(slack: SlackStandIn, web_client: AsyncWebClient) -> None:
    """The default AsyncWebClient surfaces the 429."""
    slack.fail_next("chat.postMessage", status=429, retry_after=0)
    error = await expect_error(web_client.chat_postMessage(channel=CHANNEL, text="x"), "ratelimited")
    assert error.response.status_code == 429
    assert len(slack.calls_to("chat.postMessage")) == 1 and slack.messages(CHANNEL) == []


async def test_429_retry_handler_honours_retry_after(slack: SlackStandIn, monkeypatch: pytest.MonkeyPatch) -> None:
    """AsyncRateLimitErrorRetryHandler waits Retry-After seconds, then the retry succeeds."""
    monkeypatch.setattr(builtin_async_handlers.random, "random", lambda: 0.0)  # no jitter: exact timing
    client = AsyncWebClient(base_url=slack.base_url, token=slack.bot_token)
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=1))
    slack.fail_next("chat.postMessage", status=429, retry_after=1)
    assert (await client.chat_postMessage(channel=CHANNEL, text="eventually"))["ok"]
    first, second = slack.calls_to("chat.postMessage")
    assert (first.status, second.status) == (429, 200)
    assert second.at - first.at >= 1.0
    assert [m["text"] for m in slack.messages(CHANNEL)] == ["eventually"]


async def test_server_errors(slack: SlackStandIn, web_client: AsyncWebClient) -> None:
    """5xx faults fail a plain client and are retried by AsyncServerErrorRetryHandler."""
    slack.fail_next("chat.postMessage", status=503)
    error = await expect_error(web_client.chat_postMessage(channel=CHANNEL, text="x"), "service_unavailable")
    assert error.response.status_code == 503
    retrying = AsyncWebClient(base_url=slack.base_url, token=slack.bot_token)
    quick = FixedValueRetryIntervalCalculator(fixed_internal=0.01)
    retrying.retry_handlers.append(AsyncServerErrorRetryHandler(max_retry_count=1, interval_calculator=quick))
    slack.fail_next("chat.postMessage", status=500)
    assert (await retrying.chat_postMessage(channel=CHANNEL, text="y"))["ok"]
    assert [c.status for c in slack.calls_to("chat.postMessage")] == [503, 500, 200]


async def test_slow_response_times_out_but_is_still_recorded(slack: SlackStandIn) -> None:
    """A delayed answer makes the client time out; the stand-in still performs and records the call."""
    client = AsyncWebClient(base_url=slack.base_url, token=slack.bot_token, timeout=0.1)
    slack.fail_next("chat.postMessage", status=200, delay=0.4)
    with pytest.raises(asyncio.TimeoutError):
        await client.chat_postMessage(channel=CHANNEL, text="slow")
    (call,) = await slack.wait_for("chat.postMessage", timeout=1.0)
    assert call.ok and slack.messages(CHANNEL)[0]["text"] == "slow"


async def test_faults_apply_times_then_stop(slack: SlackStandIn, web_client: AsyncWebClient) -> None:
    """``times`` faults are consumed in order, then calls succeed again."""
    slack.fail_next("auth.test", status=500, times=2)
    for _ in range(2):
        await expect_error(web_client.auth_test(), "internal_error")
    assert (await web_client.auth_test())["ok"]


async def test_stop_cuts_a_pending_delay_short() -> None:
    """stop() does not wait for an injected delay to run out."""
    slack = SlackStandIn()
    await slack.start()
    slack.fail_next("auth.test", status=500, delay=30)
    client = AsyncWebClient(base_url=slack.base_url, token=slack.bot_token)
    pending = asyncio.ensure_future(client.auth_test())
    await asyncio.sleep(0.05)
    started = time.monotonic()
    await slack.stop()
    assert time.monotonic() - started < 1.5
    await expect_error(pending, "internal_error")


async def test_wait_for_times_out_with_a_helpful_message(slack: SlackStandIn) -> None:
    """wait_for raises StandInTimeout (an AssertionError) listing what was recorded."""
    with pytest.raises(StandInTimeout, match="chat.postMessage"):
        await slack.wait_for("chat.postMessage", timeout=0.05)


# ---------------------------------------------------------------------------
# Socket Mode
# ---------------------------------------------------------------------------


def bolt_app(slack: SlackStandIn) -> AsyncApp:
    """A Bolt app using the stand-in, replying in thread to every mention."""
    client = AsyncWebClient(base_url=slack.base_url, token=slack.bot_token)
    app = AsyncApp(client=client, signing_secret="unused-in-socket-mode")

    @app.event("app_mention")
    async def on_mention(event: dict, say) -> None:
        await say(text=f"On it, <@{event['user']}>", thread_ts=event["ts"])

    return app


async def test_bolt_socket_mode_app_mention_round_trip(slack: SlackStandIn) -> None:
    """A Bolt app over Socket Mode receives an app_mention, acks it and replies via chat.postMessage."""
    handler = AsyncSocketModeHandler(bolt_app(slack), slack.app_token)
    await handler.connect_async()
    try:
        mention = slack.app_mention_event(channel=CHANNEL, user=ALICE, text="<@U0BATON> my laptop is on fire")
        envelope_id = await slack.push_event(mention)
        ack = await slack.wait_socket_ack(envelope_id, timeout=2)
        (reply,) = await slack.wait_for("chat.postMessage", timeout=2)
    finally:
        await handler.close_async()
    assert ack == {"envelope_id": envelope_id}
    assert reply.ok and reply.args["thread_ts"] == mention["ts"] and reply.args["text"] == f"On it, <@{ALICE}>"
    assert slack.calls_to("apps.connections.open")[0].token == slack.app_token
    assert [m["text"] for m in slack.thread(CHANNEL, mention["ts"])][1] == f"On it, <@{ALICE}>"


async def test_socket_mode_disconnect_makes_the_client_reconnect(slack: SlackStandIn) -> None:
    """After Slack's disconnect message the client fetches a new URL and reconnects."""
    handler = AsyncSocketModeHandler(bolt_app(slack), slack.app_token)
    await handler.connect_async()
    try:
        await slack.send_disconnect()
        await slack.wait_socket_connected(count=2, timeout=2)
        await slack.wait_for("apps.connections.open", count=2, timeout=2)
        envelope_id = await slack.push_event(slack.app_mention_event(channel=CHANNEL, user=ALICE, text="<@U0BATON>"))
        await slack.wait_socket_ack(envelope_id, timeout=2)
    finally:
        await handler.close_async()


async def test_raw_socket_hello_and_ack_with_payload(slack: SlackStandIn) -> None:
    """The socket says hello first and records acks, response payload included."""
    url = (await AsyncWebClient(base_url=slack.base_url).apps_connections_open(app_token=slack.app_token))["url"]
    assert url.startswith(f"ws://127.0.0.1:{slack.port}/socket?")
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
        assert (await ws.receive_json())["type"] == "hello"
        envelope_id = await slack.push_socket_event({"command": "/baton"}, type="slash_commands")
        envelope = await ws.receive_json()
        assert envelope["accepts_response_payload"] is True and envelope["type"] == "slash_commands"
        await ws.send_json({"envelope_id": envelope_id, "payload": {"text": "ack text"}})
        ack = await slack.wait_socket_ack(envelope_id, timeout=1)
    assert ack["payload"] == {"text": "ack text"}


async def test_socket_rejects_unknown_ticket_and_bot_token(slack: SlackStandIn, web_client: AsyncWebClient) -> None:
    """apps.connections.open wants the app token; the socket wants an issued ticket."""
    await expect_error(web_client.apps_connections_open(app_token=slack.bot_token), "not_allowed_token_type")
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.WSServerHandshakeError):
            await session.ws_connect(f"ws://127.0.0.1:{slack.port}/socket?ticket=forged")
