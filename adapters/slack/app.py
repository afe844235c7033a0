"""All Slack wiring: the Web API client, the Bolt app and its listeners, HTTP and Socket Mode.

Bolt runs with ``process_before_response=False``: event listeners are acked before they run,
and action listeners call ``ack()`` first. Each listener then only hands the payload to the
worker loop (``worker.py``), so the HTTP loop does nothing but verify and ack, and Slack's
3-second deadline is met however busy the decisions are. Requests are checked at the door: a
bad or stale signature gets 401, a signed but malformed body 400, and only then does Bolt see it.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import time
from dataclasses import dataclass, field
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.app.async_app import AsyncApp
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import convert, render
from adapters.slack.actions import ANSWER_ACTIONS, CARD_ACTIONS, ActionHandler, submission_errors
from adapters.slack.channels import check_queue_channels
from adapters.slack.client import PooledWebClient
from adapters.slack.directory import SlackDirectory
from adapters.slack.events import MessageHandler
from adapters.slack.inbox import CONTEXT_KEY, SlackInbox, home_of
from adapters.slack.options import SlackOptions, options_from
from adapters.slack.outbox import ChannelPacer, SlackOutbox
from adapters.slack.worker import Worker

if TYPE_CHECKING:
    from bot.app import Core
    from bot.settings import Settings

log = logging.getLogger(__name__)
EVENTS_PATH = "/slack/events"
MAX_AGE_SECONDS = 5 * 60
ADAPTER_KEY = web.AppKey("baton_slack_adapter", object)  # for tests and diagnostics


def web_client(*, settings: Settings) -> AsyncWebClient:
    """The one Web API client (kept-alive connections, one pool per loop); its rate-limit
    handler is the single retry owner (one retry)."""
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    handlers = [AsyncRateLimitErrorRetryHandler(max_retry_count=1)]
    return PooledWebClient(token=token, base_url=settings.slack_api_url, retry_handlers=handlers)


def queue_channels(core: Core) -> set[str]:
    """Slack channels that hold handoff cards: from the rules and the stored channel refs."""
    channels = {q.slack for q in core.rules.queues.values() if getattr(q, "slack", None)}
    for name in core.rules.queues:
        stored = core.conversations.queue_channel(platform="slack", queue=name)
        if stored is not None:
            channels.add(stored.channel)
    return channels


def valid_signature(*, secret: str | None, body: bytes, headers: Any, now: float | None = None) -> bool:
    """Slack's v0 signature: HMAC-SHA256 of b'v0:{timestamp}:' + raw body, at most 5 minutes old."""
    timestamp, given = headers.get("X-Slack-Request-Timestamp", ""), headers.get("X-Slack-Signature", "")
    if not secret or not timestamp.isdigit() or abs((now or time.time()) - int(timestamp)) > MAX_AGE_SECONDS:
        return False
    expected = hmac.new(secret.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(f"v0={expected}", given)


@dataclass
class SlackAdapter:
    """Everything one mounted Slack adapter owns, with its HTTP handler and lifecycle hooks."""

    bolt: AsyncApp
    outbox: SlackOutbox
    messages: MessageHandler
    actions: ActionHandler
    worker: Worker
    inbox: SlackInbox
    signing_secret: str | None = field(repr=False)
    app_token: str | None = field(repr=False)
    socket: Any = field(default=None)

    async def handle_http(self, request: web.Request) -> web.Response:
        """POST /slack/events: verify, check the shape, then let Bolt ack and dispatch."""
        raw = await request.read()
        if not self._signed(raw, request.headers):
            return web.json_response({"error": "invalid signature"}, status=401)
        try:
            body = raw.decode("utf-8")
        except UnicodeDecodeError:
            return web.json_response({"error": "body is not UTF-8"}, status=400)
        problem = convert.body_problem(body=body, content_type=request.content_type)
        if problem:
            log.info("rejected a signed slack request: %s", problem)
            return web.json_response({"error": problem}, status=400)
        try:
            response = await self.bolt.async_dispatch(await to_bolt_request(request))
        except Exception:  # a shape Bolt cannot take: the sender's problem, never a 500
            log.warning("bolt could not take a signed slack request; answered 400")
            return web.json_response({"error": "payload could not be processed"}, status=400)
        if response.status == 500:  # Bolt answers 500 when its own matching fails on a shape it cannot take (503 is ours: "store failed, deliver again")
            log.warning("bolt failed on a signed slack request; answered 400")
            return web.json_response({"error": "payload could not be processed"}, status=400)
        return await to_aiohttp_response(response)

    def _signed(self, body: bytes, headers: Any) -> bool:
        return valid_signature(secret=self.signing_secret, body=body, headers=headers)

    async def start(self, app: web.Application) -> None:
        """on_startup: start the worker loop and the inbox's recovery sweep, check the queue
        channels (a clear error for each that cannot take cards); open Socket Mode when an app
        token is configured."""
        self.worker.start()
        self.worker.loop.call_soon_threadsafe(self.inbox.start_sweeping)
        await self.worker.call(check_queue_channels(core=self.messages.core, client=self.outbox.client))
        if self.app_token:
            from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

            self.socket = AsyncSocketModeHandler(self.bolt, app_token=self.app_token, web_client=self.outbox.client)
            await self.socket.connect_async()

    async def stop(self, app: web.Application) -> None:
        """on_cleanup: close the socket, let acked work and buffered turns finish, stop the worker."""
        if self.socket is not None:
            await self.socket.close_async()
        await self.drain(timeout=5.0)
        self.worker.loop.call_soon_threadsafe(self.inbox.stop_sweeping)
        await self._close_client()
        await self.worker.stop()

    async def _close_client(self) -> None:
        """Close the client's kept-alive sessions on the HTTP loop and on the worker loop."""
        client = self.outbox.client
        if isinstance(client, PooledWebClient):
            await client.close()
            await self.worker.call(client.close())

    async def drain(self, *, timeout: float = 5.0) -> None:
        """Wait for acked work: handed-over payloads first, then the turns they buffered."""
        await self.worker.idle(timeout=timeout)
        await self.worker.call(self.messages.turns.drain(timeout=timeout))


def inbox_handlers(*, messages: MessageHandler, actions: ActionHandler) -> dict[str, Any]:
    """What each kind of stored row runs: (payload, inbox key) -> True when a turn finishes it."""

    def interaction(handle: Callable[..., Awaitable[None]], *, resumable: bool = False) -> Callable[[dict, str], Awaitable[bool]]:
        async def run(payload: dict, key: str) -> bool:
            extra = {"delivery": key or None} if resumable else {}
            await handle(payload=payload["body"], home_team=payload.get("home_team"), **extra)
            return False

        return run

    async def event(payload: dict, key: str) -> bool:
        return await messages.on_event(body=payload.get("body") or {}, home_team=payload.get("home_team"), bot_user_id=payload.get("bot_user_id"), delivery=key)

    return {
        "event": event, "card": interaction(actions.on_card_action), "answer": interaction(actions.on_answer_action, resumable=True),
        "submit": interaction(actions.on_submission, resumable=True), "review": interaction(actions.on_review_action),
    }


def register_listeners(*, bolt: AsyncApp, messages: MessageHandler, actions: ActionHandler, worker: Worker, inbox: SlackInbox) -> None:
    """Bolt listeners: each acks at once and hands the payload to the worker loop. Events were
    stored by the inbox middleware first; only a new one is handed over (a redelivery is not)."""
    bolt.use(inbox.middleware)
    handlers = inbox.handlers

    async def on_event(body: dict, context: Any) -> None:
        key, new = context.get(CONTEXT_KEY) or (None, False)
        if new:
            worker.submit(inbox.process(key=key))

    async def interaction(kind: str, body: dict, context: Any, ack: Callable[[], Awaitable[Any]]) -> None:
        """Store the click, ack it, then hand it over (a repeat of a stored click is only acked)."""
        home_team = home_of(context)[0]
        key, new = await inbox.store_interaction(kind=kind, body=body, home_team=home_team)
        await ack()
        if key is not None and new:
            worker.submit(inbox.process(key=key))
        elif key is None:
            worker.submit(handlers[kind]({"body": body, "home_team": home_team}, ""))

    async def on_card(ack: Any, body: dict, context: Any) -> None:
        await interaction("card", body, context, ack)

    async def on_answer(ack: Any, body: dict, context: Any) -> None:
        await interaction("answer", body, context, ack)

    async def on_submit(ack: Any, body: dict, context: Any) -> None:
        errors = submission_errors(body.get("view") or {})
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        await interaction("submit", body, context, ack)

    bolt.event("message")(on_event)
    bolt.event("app_mention")(on_event)
    bolt.action(_exactly(CARD_ACTIONS))(on_card)
    bolt.action(_exactly(ANSWER_ACTIONS))(on_answer)
    bolt.view(render.EDIT_CALLBACK)(on_submit)

    async def on_review(ack: Any, body: dict, context: Any) -> None:
        await interaction("review", body, context, ack)

    async def on_command(ack: Any, body: dict, context: Any) -> None:
        await ack(text=actions.stats_reply(payload=body, home_team=home_of(context)[0]))

    bolt.action(REVIEW_ACTION)(on_review)
    bolt.command(STATS_COMMAND)(on_command)


REVIEW_ACTION = re.compile(r"^review_[a-z_]+:\d+$")
STATS_COMMAND = "/baton"


def _exactly(names: tuple[str, ...]) -> re.Pattern:
    return re.compile("^(" + "|".join(re.escape(n) for n in names) + ")$")


def bolt_app(*, client: AsyncWebClient, secret: str | None) -> AsyncApp:
    """Bolt, acking before listeners run. The door (``valid_signature``) is the one signature
    check, so Bolt's own is off; the assistant-thread middlewares are off too: Baton has no
    assistant surface, and they would run on every request on the ack path."""
    return AsyncApp(
        client=client, signing_secret=secret or "", process_before_response=False, request_verification_enabled=False,
        attaching_conversation_kwargs_enabled=False, ignoring_self_assistant_message_events_enabled=False,
    )


def build_adapter(*, core: Core, settings: Settings, options: SlackOptions | None = None) -> SlackAdapter:
    """The Slack adapter for one core: client, outbox, handlers and the Bolt app."""
    options = options or options_from(settings=settings)
    client = web_client(settings=settings)
    outbox = SlackOutbox(client=client, pacer=ChannelPacer(interval=options.post_interval_seconds))
    directory = SlackDirectory(client=client)
    messages = MessageHandler(core=core, outbox=outbox, directory=directory, options=options, queue_channels=queue_channels(core))
    actions = ActionHandler(core=core, outbox=outbox, directory=directory, turns=messages.turns)
    secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None
    bolt = bolt_app(client=client, secret=secret)
    worker = Worker()
    inbox = SlackInbox(inbox=core.inbox, threads=core.threads, handlers=inbox_handlers(messages=messages, actions=actions))
    register_listeners(bolt=bolt, messages=messages, actions=actions, worker=worker, inbox=inbox)
    app_token = settings.slack_app_token.get_secret_value() if settings.slack_app_token else None
    return SlackAdapter(bolt=bolt, outbox=outbox, messages=messages, actions=actions, worker=worker, inbox=inbox, signing_secret=secret, app_token=app_token)
