"""All Slack wiring: the Web API client, the Bolt app and its listeners, HTTP and Socket Mode.

Bolt runs with ``process_before_response=False``: event listeners are acked before they run,
and action listeners call ``ack()`` first, so Slack's 3-second deadline is met before any
decision work. Requests are checked at the door: a bad or stale signature gets 401, a signed
but malformed body 400, and only then does Bolt see it.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.app.async_app import AsyncApp
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import convert, render
from adapters.slack.actions import ANSWER_ACTIONS, CARD_ACTIONS, ActionHandler, submission_errors
from adapters.slack.directory import SlackDirectory
from adapters.slack.events import MessageHandler
from adapters.slack.options import SlackOptions, options_from
from adapters.slack.outbox import ChannelPacer, SlackOutbox
from bot.types import Reply

if TYPE_CHECKING:
    from bot.app import Core
    from bot.settings import Settings

log = logging.getLogger(__name__)
EVENTS_PATH = "/slack/events"
ADAPTER_KEY = web.AppKey("baton_slack_adapter", object)  # for tests and diagnostics


def web_client(*, settings: Settings) -> AsyncWebClient:
    """The one Web API client; its rate-limit handler is the single retry owner (one retry)."""
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    handlers = [AsyncRateLimitErrorRetryHandler(max_retry_count=1)]
    return AsyncWebClient(token=token, base_url=settings.slack_api_url, retry_handlers=handlers)


def latest_answer(core: Core):
    """Find the decision behind an answer (until the core puts its id on the Reply)."""

    def lookup(reply: Reply) -> int | None:
        rows = core.store.decisions(conversation_id=reply.ref.key)
        return next((row.id for row in reversed(rows) if row.action == "answer"), None)

    return lookup


def queue_channels(core: Core) -> set[str]:
    """Slack channels that hold handoff cards: from the rules and the stored channel refs."""
    channels = {q.slack for q in core.rules.queues.values() if getattr(q, "slack", None)}
    for name in core.rules.queues:
        stored = core.store.channel_ref(platform="slack", name=name)
        if stored is not None:
            channels.add(stored.channel)
    return channels


def _home(context: Any) -> tuple[str | None, str | None]:
    """The installing team and the bot's user id, from Bolt's auth.test-based authorization."""
    result = context.authorize_result
    return (result.team_id if result else context.team_id), (result.bot_user_id if result else context.bot_user_id)


@dataclass
class SlackAdapter:
    """Everything one mounted Slack adapter owns, with its HTTP handler and lifecycle hooks."""

    bolt: AsyncApp
    outbox: SlackOutbox
    messages: MessageHandler
    actions: ActionHandler
    signing_secret: str | None
    app_token: str | None
    socket: Any = field(default=None)

    async def handle_http(self, request: web.Request) -> web.Response:
        """POST /slack/events: verify, check the shape, then let Bolt ack and dispatch."""
        body = await request.text()
        if not self._signed(body, request.headers):
            return web.json_response({"error": "invalid signature"}, status=401)
        problem = convert.body_problem(body=body, content_type=request.content_type)
        if problem:
            log.info("rejected a signed slack request: %s", problem)
            return web.json_response({"error": problem}, status=400)
        response = await self.bolt.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(response)

    def _signed(self, body: str, headers: Any) -> bool:
        """Slack's v0 HMAC-SHA256 signature, at most five minutes old."""
        try:
            return bool(self.signing_secret) and SignatureVerifier(self.signing_secret).is_valid_request(body, headers)
        except (TypeError, ValueError):
            return False

    async def start(self, app: web.Application) -> None:
        """on_startup: open the Socket Mode connection when an app token is configured."""
        if self.app_token:
            from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

            self.socket = AsyncSocketModeHandler(self.bolt, app_token=self.app_token, web_client=self.outbox.client)
            await self.socket.connect_async()

    async def stop(self, app: web.Application) -> None:
        """on_cleanup: close the socket, let buffered turns finish."""
        if self.socket is not None:
            await self.socket.close_async()
        await self.messages.turns.drain(timeout=5.0)


def register_listeners(*, bolt: AsyncApp, messages: MessageHandler, actions: ActionHandler) -> None:
    """Bolt listeners: each acks at once and hands the payload to the matching handler."""

    async def on_event(body: dict, context: Any) -> None:
        home_team, bot_user_id = _home(context)
        await messages.on_event(body=body, home_team=home_team, bot_user_id=bot_user_id)

    async def on_card(ack: Any, body: dict, context: Any) -> None:
        await ack()
        await actions.on_card_action(payload=body, home_team=_home(context)[0])

    async def on_answer(ack: Any, body: dict, context: Any) -> None:
        await ack()
        await actions.on_answer_action(payload=body, home_team=_home(context)[0])

    async def on_submit(ack: Any, body: dict, context: Any) -> None:
        errors = submission_errors(body.get("view") or {})
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        await ack()
        await actions.on_submission(payload=body, home_team=_home(context)[0])

    bolt.event("message")(on_event)
    bolt.event("app_mention")(on_event)
    bolt.action(_exactly(CARD_ACTIONS))(on_card)
    bolt.action(_exactly(ANSWER_ACTIONS))(on_answer)
    bolt.view(render.EDIT_CALLBACK)(on_submit)


def _exactly(names: tuple[str, ...]) -> re.Pattern:
    return re.compile("^(" + "|".join(re.escape(n) for n in names) + ")$")


def build_adapter(*, core: Core, settings: Settings, options: SlackOptions | None = None) -> SlackAdapter:
    """The Slack adapter for one core: client, outbox, handlers and the Bolt app."""
    options = options or options_from(settings=settings)
    client = web_client(settings=settings)
    outbox = SlackOutbox(client=client, pacer=ChannelPacer(interval=options.post_interval_seconds), decision_of=latest_answer(core))
    directory = SlackDirectory(client=client)
    messages = MessageHandler(core=core, outbox=outbox, directory=directory, options=options, queue_channels=queue_channels(core))
    actions = ActionHandler(core=core, outbox=outbox, directory=directory, turns=messages.turns)
    secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None
    bolt = AsyncApp(client=client, signing_secret=secret or "", process_before_response=False)
    register_listeners(bolt=bolt, messages=messages, actions=actions)
    app_token = settings.slack_app_token.get_secret_value() if settings.slack_app_token else None
    return SlackAdapter(bolt=bolt, outbox=outbox, messages=messages, actions=actions, signing_secret=secret, app_token=app_token)
