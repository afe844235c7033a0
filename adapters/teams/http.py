"""POST /api/messages: our replacement for ``CloudAdapter.process`` (botbuilder 4.17.1).

Why a replacement: ``ActivityHandler`` already serializes an invoke response body, and
``CloudAdapter.process`` serializes it again, so every ``Action.Execute`` click answers 500.
This handler calls ``adapter.process_activity`` and serializes the body only while it is still
an msrest model (``tests/teams/test_invoke_workaround.py`` shows when upstream changes). It
also answers malformed bodies with 400 instead of 500, and bad credentials with 401.

Messages and conversation updates go through the durable inbox (``adapters/teams/inbox.py``):
authenticated, stored, answered 201, then run by a worker task. Invokes run inside the request.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Awaitable, Callable

import jwt
from aiohttp import web
from botbuilder.schema import Activity
from msrest.exceptions import DeserializationError
from msrest.serialization import Model

from adapters.teams import texts
from adapters.teams.inbox import activity_key

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class BadActivity(ValueError):
    """The body is not a Bot Framework activity; the message says why."""


def parse_activity(*, body: bytes, content_type: str) -> Activity:
    """The request body as an ``Activity``, or BadActivity with a reason a person can act on."""
    if "json" not in (content_type or ""):
        raise BadActivity("the body must be JSON (Content-Type: application/json)")
    try:
        data = json.loads(body or b"")
    except (ValueError, UnicodeDecodeError):
        raise BadActivity("the body is not valid JSON") from None
    if not isinstance(data, dict) or not isinstance(data.get("type"), str) or not data["type"]:
        raise BadActivity("the body must be an activity object with a 'type'")
    try:
        return Activity().deserialize(data)
    except (DeserializationError, TypeError, ValueError, AttributeError):
        raise BadActivity("the activity does not match the Bot Framework schema") from None


def response_body(body: Any) -> Any:
    """An invoke response body as JSON-ready data: serialize only what is still a model."""
    return body.serialize() if isinstance(body, Model) else body


def messages_handler(*, adapter: Any, bot: Any, auth_required: bool, inbox: Any = None) -> Handler:
    """The aiohttp handler for ``POST /api/messages`` (``inbox``: a TeamsInbox, or None to run
    every turn inside the request)."""

    async def handle(request: web.Request) -> web.StreamResponse:
        if auth_required and not request.headers.get("Authorization", "").startswith("Bearer "):
            log.warning(texts.LOG_UNAUTHORIZED, "no Bearer token")
            return _error(401, "Unauthorized")
        try:
            activity = parse_activity(body=await request.read(), content_type=request.content_type)
        except BadActivity as problem:
            # an unauthenticated caller learns nothing about our parser: 401 before 400
            return _error(401, "Unauthorized") if auth_required else _error(400, str(problem))
        auth = request.headers.get("Authorization", "")
        key = activity_key(activity) if inbox is not None else None
        if key is not None:
            return await _store(adapter=adapter, inbox=inbox, key=key, activity=activity, auth=auth)
        return await _process(adapter=adapter, bot=bot, activity=activity, auth=auth)

    return handle


async def _store(*, adapter: Any, inbox: Any, key: str, activity: Activity, auth: str) -> web.StreamResponse:
    """Authenticate, store, then 201; 503 when the database cannot take it (delivered again)."""
    try:
        authenticated = await adapter.bot_framework_authentication.authenticate_request(activity, auth)
    except (PermissionError, jwt.InvalidTokenError) as problem:
        log.warning(texts.LOG_UNAUTHORIZED, type(problem).__name__)
        return _error(401, "Unauthorized")
    if await inbox.accept(key=key, activity=activity, authenticated=authenticated) is None:
        return _error(503, "The activity could not be stored; deliver it again")
    return web.Response(status=201)


async def _process(*, adapter: Any, bot: Any, activity: Activity, auth: str) -> web.StreamResponse:
    """Run the turn; map authentication failures to 401 and anything else to 500."""
    try:
        invoke_response = await adapter.process_activity(auth, activity, bot.on_turn)
    except (PermissionError, jwt.InvalidTokenError) as problem:  # PermissionError first: it is an OSError
        log.warning(texts.LOG_UNAUTHORIZED, type(problem).__name__)
        return _error(401, "Unauthorized")
    except Exception:
        log.exception(texts.LOG_TURN_FAILED, activity.id, activity.type)
        return _error(500, "The bot could not process this activity")
    if invoke_response is None:
        return web.Response(status=201)
    return web.json_response(response_body(invoke_response.body), status=invoke_response.status)


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": {"message": message}}, status=status)
