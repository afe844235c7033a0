"""aiohttp plumbing shared by the sandbox's handlers: state, JSON in and out, error boundary.

Every API handler is wrapped by ``api``: bad input becomes a 400 with a clear message, an unknown
id a 404, and any other failure a logged 500, so one bad request never takes the server down.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

from aiohttp import web

from bot.app import Core

from adapters.sandbox.convert import BadRequest
from adapters.sandbox.outbox import SandboxOutbox

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class SandboxState:
    """What the sandbox's handlers need: the core, the sandbox outbox, one lock per chat."""

    core: Core
    outbox: SandboxOutbox
    locks: dict[str, asyncio.Lock] = field(default_factory=lambda: defaultdict(asyncio.Lock))

    def turn_lock(self, *, conversation_key: str) -> asyncio.Lock:
        """Customer turns of one chat run one at a time, in order (as the Slack adapter does)."""
        return self.locks[conversation_key]


STATE_KEY = web.AppKey("baton_sandbox", SandboxState)


class NotFound(LookupError):
    """An id in the URL names nothing; the message says what."""


def state(request: web.Request) -> SandboxState:
    return request.app[STATE_KEY]


def reply(data: Any, *, status: int = 200) -> web.Response:
    """A JSON response that never caches (the browser polls it)."""
    return web.json_response(data, status=status, headers={"Cache-Control": "no-store"})


def error(message: str, *, status: int) -> web.Response:
    return reply({"ok": False, "error": message}, status=status)


async def read_json(request: web.Request) -> Any:
    """The request body as JSON, or BadRequest naming the problem."""
    raw = await request.read()
    if not raw.strip():
        raise BadRequest("the body is empty: send a JSON object")
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadRequest(f"the body is not valid JSON ({exc})") from None


def api(handler: Handler) -> Handler:
    """The error boundary around one JSON endpoint."""

    @functools.wraps(handler)
    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except BadRequest as exc:
            return error(str(exc), status=400)
        except NotFound as exc:
            return error(str(exc), status=404)
        except web.HTTPException:
            raise
        except Exception:
            log.exception("sandbox request failed: %s %s", request.method, request.path)
            return error("something went wrong on the server; the log has the details", status=500)

    return wrapped
