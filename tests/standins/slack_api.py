"""A local stand-in of Slack's Web API and Socket Mode, served by aiohttp on 127.0.0.1.

Point the real clients at it::

    async with SlackStandIn() as slack:
        client = AsyncWebClient(base_url=slack.base_url, token=slack.bot_token)
        await client.chat_postMessage(channel="C0QUEUE", text="hi")
        assert slack.messages("C0QUEUE")[0]["text"] == "hi"

Every Web API call is recorded (failed ones too) in ``calls``.  Answers are shaped like
Slack's: HTTP 200 with ``{"ok": true, ...}`` or ``{"ok": false, "error": "..."}`` using
Slack's own error names; injected faults answer 429 (with ``Retry-After``) or 5xx.
Block Kit input is checked against the limits of Slack's Block Kit reference.

Socket Mode: ``apps.connections.open`` (app token) returns ``ws://127.0.0.1:PORT/socket?ticket=...``;
the socket greets with ``{"type": "hello"}``; ``push_socket_event`` sends envelopes and
``wait_socket_ack`` returns what the client acked.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import logging
import re
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web
from slack_sdk.models.blocks import Block

__all__ = ["RecordedCall", "SlackStandIn", "StandInTimeout", "validate_blocks", "validate_view"]

WORKSPACE_URL = "https://example.slack.com/"
MESSAGE_TEXT_LIMIT = 40_000
MESSAGE_BLOCK_LIMIT = 50
SURFACE_BLOCK_LIMIT = 100
_FIRST_TS_SECONDS = 1_700_000_000
_TS_STEP_MICROS = 100
_JSON_STRING_ARGS = ("blocks", "attachments", "view", "metadata")
_ERROR_FOR_STATUS = {
    429: "ratelimited",
    500: "internal_error",
    502: "bad_gateway",
    503: "service_unavailable",
    504: "request_timeout",
}
_EMOJI_NAME = re.compile(r"^[a-z0-9_+\-']+$")

log = logging.getLogger(__name__)


# ---------------------------------------------------------------------------
# Public records
# ---------------------------------------------------------------------------


@dataclass
class RecordedCall:
    """One Web API request as the stand-in saw it.

    ``args`` holds the decoded arguments without the token; ``at`` is ``time.monotonic()``
    when the request arrived; ``status`` is the HTTP status that was answered.
    """

    method: str
    args: dict
    ok: bool
    error: str | None
    at: float
    status: int = 200
    token: str | None = None


class StandInTimeout(AssertionError):
    """Raised when something a test waits for did not happen in time."""


class SlackError(Exception):
    """A Slack error answer: ``{"ok": false, "error": error, **extra}``."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra


@dataclass
class _Fault:
    """A fault waiting for the next calls of one method."""

    status: int
    retry_after: int | None
    delay: float
    remaining: int


@dataclass
class _Ephemeral:
    """An ephemeral message: visible only to ``user``, never stored in the channel."""

    channel: str
    user: str
    message: dict


@dataclass
class _SocketState:
    """Everything the Socket Mode side keeps."""

    connections: list[web.WebSocketResponse] = field(default_factory=list)
    opened: int = 0
    tickets: set[str] = field(default_factory=set)
    envelopes: list[dict] = field(default_factory=list)
    acks: dict[str, dict] = field(default_factory=dict)
    received: list[Any] = field(default_factory=list)


# ---------------------------------------------------------------------------
# Block Kit validation
# ---------------------------------------------------------------------------


def _pointer_error(message: str, pointer: str) -> str:
    """Format an error the way Slack does: ``message [json-pointer:/blocks/0/text]``."""
    return f"{message} [json-pointer:{pointer}]"


class _BlockChecker:
    """Collects Block Kit errors for one surface (message, modal or home tab)."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self._block_ids: set[str] = set()

    def fail(self, message: str, pointer: str) -> None:
        """Record one error."""
        self.errors.append(_pointer_error(message, pointer))

    def max_chars(self, value: Any, limit: int, pointer: str) -> None:
        """Strings may hold at most ``limit`` characters."""
        if isinstance(value, str) and len(value) > limit:
            self.fail(f"must be less than {limit + 1} characters", pointer)

    def max_items(self, value: Any, limit: int, pointer: str, *, minimum: int = 0) -> None:
        """Arrays must hold between ``minimum`` and ``limit`` items."""
        if not isinstance(value, list):
            self.fail("must be an array", pointer)
        elif len(value) > limit:
            self.fail(f"no more than {limit} items allowed", pointer)
        elif len(value) < minimum:
            self.fail(f"must provide at least {minimum} items", pointer)

    def text(self, obj: Any, limit: int, pointer: str, *, plain_only: bool = False) -> None:
        """A text object: ``plain_text`` or ``mrkdwn`` with 1..limit characters."""
        if not isinstance(obj, dict):
            self.fail("must be a text object", pointer)
            return
        allowed = ("plain_text",) if plain_only else ("plain_text", "mrkdwn")
        if obj.get("type") not in allowed:
            self.fail(f"must be one of {', '.join(allowed)}", f"{pointer}/type")
        text = obj.get("text")
        if not isinstance(text, str) or not text:
            self.fail("must be more than 0 characters", f"{pointer}/text")
        else:
            self.max_chars(text, limit, f"{pointer}/text")

    def optional_text(self, obj: Any, limit: int, pointer: str, *, plain_only: bool = False) -> None:
        """A text object that may be absent."""
        if obj is not None:
            self.text(obj, limit, pointer, plain_only=plain_only)

    def blocks(self, blocks: Any, limit: int, pointer: str = "/blocks") -> None:
        """A list of blocks."""
        if not isinstance(blocks, list):
            self.fail("must be an array", pointer)
            return
        self.max_items(blocks, limit, pointer)
        for index, block in enumerate(blocks):
            self.block(block, f"{pointer}/{index}")

    def block(self, block: Any, pointer: str) -> None:
        """One block: common fields, its own rules, then slack_sdk's model checks."""
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            self.fail("must be an object with a type", pointer)
            return
        before = len(self.errors)
        self._block_id(block.get("block_id"), f"{pointer}/block_id")
        check = getattr(self, f"_block_{block['type']}", None)
        if check is None and block["type"] not in _UNCHECKED_BLOCKS:
            self.fail(f"unsupported type: {block['type']}", f"{pointer}/type")
            return
        if check is not None:
            check(block, pointer)
        if len(self.errors) == before:
            self._sdk_model(block, pointer)

    def _block_id(self, block_id: Any, pointer: str) -> None:
        if block_id is None:
            return
        if not isinstance(block_id, str) or not block_id:
            self.fail("must be a non-empty string", pointer)
            return
        self.max_chars(block_id, 255, pointer)
        if block_id in self._block_ids:
            self.fail("duplicate block_id", pointer)
        self._block_ids.add(block_id)

    def _sdk_model(self, block: dict, pointer: str) -> None:
        """Ask slack_sdk's Block model too: it must parse and pass its own validators."""
        try:
            parsed = Block.parse(block)
            if parsed is None:
                self.fail(f"unsupported type: {block['type']}", f"{pointer}/type")
            else:
                parsed.validate_json()
        except Exception as exc:  # noqa: BLE001 - any model error makes the block invalid
            self.fail(f"invalid block: {exc}", pointer)

    def _block_section(self, block: dict, pointer: str) -> None:
        text, fields = block.get("text"), block.get("fields")
        if text is None and fields is None:
            self.fail("must provide either text or fields", pointer)
        self.optional_text(text, 3000, f"{pointer}/text")
        if fields is not None:
            self.max_items(fields, 10, f"{pointer}/fields")
            for index, item in enumerate(fields if isinstance(fields, list) else []):
                self.text(item, 2000, f"{pointer}/fields/{index}")
        if block.get("accessory") is not None:
            self.element(block["accessory"], f"{pointer}/accessory")

    def _block_header(self, block: dict, pointer: str) -> None:
        self.text(block.get("text"), 150, f"{pointer}/text", plain_only=True)

    def _block_divider(self, block: dict, pointer: str) -> None:
        return None

    def _block_image(self, block: dict, pointer: str) -> None:
        if not block.get("image_url") and not block.get("slack_file"):
            self.fail("must provide image_url or slack_file", pointer)
        self.max_chars(block.get("image_url"), 3000, f"{pointer}/image_url")
        self._alt_text(block.get("alt_text"), f"{pointer}/alt_text")
        self.optional_text(block.get("title"), 2000, f"{pointer}/title", plain_only=True)

    def _alt_text(self, alt_text: Any, pointer: str) -> None:
        if not isinstance(alt_text, str) or not alt_text:
            self.fail("missing required field: alt_text", pointer)
        else:
            self.max_chars(alt_text, 2000, pointer)

    def _block_actions(self, block: dict, pointer: str) -> None:
        elements = block.get("elements")
        self.max_items(elements, 25, f"{pointer}/elements", minimum=1)
        for index, element in enumerate(elements if isinstance(elements, list) else []):
            self.element(element, f"{pointer}/elements/{index}")

    def _block_context(self, block: dict, pointer: str) -> None:
        elements = block.get("elements")
        self.max_items(elements, 10, f"{pointer}/elements", minimum=1)
        for index, element in enumerate(elements if isinstance(elements, list) else []):
            where = f"{pointer}/elements/{index}"
            if isinstance(element, dict) and element.get("type") == "image":
                self._alt_text(element.get("alt_text"), f"{where}/alt_text")
            else:
                self.text(element, 3000, where)

    def _block_input(self, block: dict, pointer: str) -> None:
        self.text(block.get("label"), 2000, f"{pointer}/label", plain_only=True)
        self.optional_text(block.get("hint"), 2000, f"{pointer}/hint", plain_only=True)
        if block.get("element") is None:
            self.fail("missing required field: element", f"{pointer}/element")
        else:
            self.element(block["element"], f"{pointer}/element")

    def _block_markdown(self, block: dict, pointer: str) -> None:
        text = block.get("text")
        if not isinstance(text, str) or not text:
            self.fail("must be more than 0 characters", f"{pointer}/text")
        self.max_chars(text, 12_000, f"{pointer}/text")

    def element(self, element: Any, pointer: str) -> None:
        """An interactive (or image) element."""
        if not isinstance(element, dict) or not isinstance(element.get("type"), str):
            self.fail("must be an object with a type", pointer)
            return
        self.max_chars(element.get("action_id"), 255, f"{pointer}/action_id")
        self.optional_text(element.get("placeholder"), 150, f"{pointer}/placeholder", plain_only=True)
        if element.get("confirm") is not None:
            self._confirm(element["confirm"], f"{pointer}/confirm")
        kind = element["type"]
        if kind == "button":
            self._button(element, pointer)
        elif kind == "image":
            self._alt_text(element.get("alt_text"), f"{pointer}/alt_text")
        elif kind == "overflow":
            self._options(element.get("options"), 5, pointer, minimum=1)
        elif kind in ("checkboxes", "radio_buttons"):
            self._options(element.get("options"), 10, pointer, minimum=1)
        elif kind in ("static_select", "multi_static_select"):
            self._select(element, pointer)
        elif kind == "plain_text_input":
            self.max_chars(element.get("initial_value"), 3000, f"{pointer}/initial_value")

    def _button(self, element: dict, pointer: str) -> None:
        self.text(element.get("text"), 75, f"{pointer}/text", plain_only=True)
        self.max_chars(element.get("value"), 2000, f"{pointer}/value")
        self.max_chars(element.get("url"), 3000, f"{pointer}/url")
        style = element.get("style")
        if style is not None and style not in ("primary", "danger"):
            self.fail("must be a valid enum value", f"{pointer}/style")

    def _select(self, element: dict, pointer: str) -> None:
        if element.get("options") is None and element.get("option_groups") is None:
            self.fail("must provide options or option_groups", pointer)
        if element.get("options") is not None:
            self._options(element["options"], 100, pointer)
        groups = element.get("option_groups")
        if groups is not None:
            self.max_items(groups, 100, f"{pointer}/option_groups")
            for index, group in enumerate(groups if isinstance(groups, list) else []):
                where = f"{pointer}/option_groups/{index}"
                group = group if isinstance(group, dict) else {}
                self.text(group.get("label"), 75, f"{where}/label", plain_only=True)
                self._options(group.get("options"), 100, where)

    def _options(self, options: Any, limit: int, pointer: str, *, minimum: int = 0) -> None:
        self.max_items(options, limit, f"{pointer}/options", minimum=minimum)
        for index, option in enumerate(options if isinstance(options, list) else []):
            where = f"{pointer}/options/{index}"
            option = option if isinstance(option, dict) else {}
            self.text(option.get("text"), 75, f"{where}/text")
            self.max_chars(option.get("value"), 150, f"{where}/value")
            self.optional_text(option.get("description"), 75, f"{where}/description")

    def _confirm(self, confirm: Any, pointer: str) -> None:
        confirm = confirm if isinstance(confirm, dict) else {}
        self.text(confirm.get("title"), 100, f"{pointer}/title", plain_only=True)
        self.text(confirm.get("text"), 300, f"{pointer}/text")
        self.text(confirm.get("confirm"), 30, f"{pointer}/confirm", plain_only=True)
        self.text(confirm.get("deny"), 30, f"{pointer}/deny", plain_only=True)


_UNCHECKED_BLOCKS = frozenset({"rich_text", "video", "file", "call", "table", "context_actions"})


def validate_blocks(blocks: Any, *, limit: int = MESSAGE_BLOCK_LIMIT, pointer: str = "/blocks") -> list[str]:
    """Return Slack-style error strings for ``blocks``; an empty list means valid."""
    checker = _BlockChecker()
    checker.blocks(blocks, limit, pointer)
    return checker.errors


def validate_view(view: Any) -> list[str]:
    """Return Slack-style error strings for a modal or home tab ``view``."""
    checker = _BlockChecker()
    if not isinstance(view, dict):
        checker.fail("must be an object", "/view")
        return checker.errors
    kind = view.get("type")
    if kind not in ("modal", "home"):
        checker.fail("must be a valid enum value", "/view/type")
    if kind == "modal":
        checker.text(view.get("title"), 24, "/view/title", plain_only=True)
        checker.optional_text(view.get("submit"), 24, "/view/submit", plain_only=True)
        checker.optional_text(view.get("close"), 24, "/view/close", plain_only=True)
        has_input = any(isinstance(b, dict) and b.get("type") == "input" for b in view.get("blocks") or [])
        if has_input and view.get("submit") is None:
            checker.fail("submit is required when an input block is within blocks", "/view/submit")
    for name, limit in (("private_metadata", 3000), ("callback_id", 255), ("external_id", 255)):
        checker.max_chars(view.get(name), limit, f"/view/{name}")
    checker.blocks(view.get("blocks"), SURFACE_BLOCK_LIMIT, "/view/blocks")
    return checker.errors


# ---------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------


def _flag(value: Any) -> bool:
    """Booleans arrive as JSON booleans or as form strings."""
    return value is True or (isinstance(value, (str, int)) and str(value).lower() in ("true", "1"))


def _decode_json_strings(args: dict) -> None:
    """Form bodies carry blocks, views and attachments as JSON strings: decode them in place."""
    for name in _JSON_STRING_ARGS:
        value = args.get(name)
        if isinstance(value, str) and value.strip()[:1] in ("[", "{"):
            try:
                args[name] = json.loads(value)
            except ValueError:
                pass


def _bearer(request: web.Request) -> str | None:
    """The token of an ``Authorization: Bearer`` header, if any."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def _text_of(args: dict) -> str | None:
    """The ``text`` argument as a string (None when absent)."""
    text = args.get("text")
    return None if text is None else str(text)


def _has_content(args: dict) -> bool:
    """A message needs text, blocks or attachments."""
    return bool(_text_of(args)) or bool(args.get("blocks")) or bool(args.get("attachments"))


# ---------------------------------------------------------------------------
# The stand-in
# ---------------------------------------------------------------------------


class SlackStandIn:
    """Slack's Web API and Socket Mode on a free loopback port, with recording and fault injection."""

    def __init__(
        self,
        *,
        bot_token: str = "xoxb-test",
        app_token: str = "xapp-test",
        team_id: str = "T0HOME",
        bot_user_id: str = "U0BATON",
        bot_id: str = "B0BATON",
        app_id: str = "A0BATON",
        users: dict[str, dict] | None = None,
        channels: dict[str, dict] | None = None,
    ) -> None:
        """Create a stopped stand-in.

        ``users`` maps user ids to profile fields (``display_name``, ``real_name``, ``name``,
        ``email``, ``is_bot``, ``team_id``, ``tz``, ...); the bot user is always known.
        ``channels`` maps channel ids to ``conversations.info`` fields; when given, other
        channel ids answer ``channel_not_found``, when omitted every channel id is accepted.
        """
        self.bot_token = bot_token
        self.app_token = app_token
        self.team_id = team_id
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.app_id = app_id
        self.users: dict[str, dict] = dict(users or {})
        self.channels: dict[str, dict] | None = None if channels is None else dict(channels)
        self.calls: list[RecordedCall] = []
        self.ephemerals: list[_Ephemeral] = []
        self._messages: dict[str, list[dict]] = {}
        self._views: dict[str, dict] = {}
        self._home_views: dict[str, dict] = {}
        self._used_triggers: set[str] = set()
        self._faults: dict[str, list[_Fault]] = {}
        self._socket = _SocketState()
        self._ts_counter = itertools.count(1)
        self._ids = itertools.count(1)
        self._tick = asyncio.Event()
        self._stopping = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._handlers: dict[str, Callable[[dict], dict]] = self._handler_table()

    # -- lifecycle -----------------------------------------------------------

    async def start(self) -> None:
        """Serve on 127.0.0.1 on a free port."""
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_get("/socket", self._handle_socket)
        self._runner = web.AppRunner(app, shutdown_timeout=1.0, access_log=None)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self._port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()

    async def stop(self) -> None:
        """Close the sockets, cut short injected delays and stop serving.

        Close Socket Mode clients first: a client that sees the server close its socket
        reconnects, and keeps retrying against a stopped stand-in.
        """
        self._stopping.set()
        for ws in list(self._socket.connections):
            await ws.close(code=1001, message=b"stand-in stopping")
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> SlackStandIn:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        """The port the stand-in listens on (after ``start``)."""
        if self._port is None:
            raise RuntimeError("SlackStandIn.start() has not been called")
        return self._port

    @property
    def base_url(self) -> str:
        """The Web API base URL for ``AsyncWebClient(base_url=...)``, with its trailing slash."""
        return f"http://127.0.0.1:{self.port}/api/"

    # -- assertions and waiting ------------------------------------------------

    def calls_to(self, method: str) -> list[RecordedCall]:
        """Recorded calls of one Web API method, oldest first."""
        return [call for call in self.calls if call.method == method]

    async def wait_for(
        self,
        method: str,
        *,
        count: int = 1,
        timeout: float = 5.0,
        predicate: Callable[[RecordedCall], bool] | None = None,
    ) -> list[RecordedCall]:
        """Wait until ``count`` calls of ``method`` (matching ``predicate``) were recorded; return them all."""

        def matching() -> list[RecordedCall] | None:
            found = [c for c in self.calls_to(method) if predicate is None or predicate(c)]
            return found if len(found) >= count else None

        def describe() -> str:
            seen = [(c.method, c.error) for c in self.calls]
            return f"expected {count} call(s) to {method} within {timeout}s; recorded: {seen}"

        return await self._wait_until(matching, timeout=timeout, describe=describe)

    async def _wait_until(self, check: Callable[[], Any], *, timeout: float, describe: Callable[[], str]) -> Any:
        """Re-run ``check`` whenever state changes until it returns something other than None."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            result = check()
            if result is not None:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise StandInTimeout(describe())
            tick = self._tick
            try:
                await asyncio.wait_for(tick.wait(), remaining)
            except asyncio.TimeoutError:
                pass

    def _changed(self) -> None:
        """Wake every waiter."""
        self._tick.set()
        self._tick = asyncio.Event()

    # -- fault injection -------------------------------------------------------

    def fail_next(
        self,
        method: str,
        *,
        status: int = 500,
        retry_after: int | None = None,
        times: int = 1,
        delay: float = 0,
    ) -> None:
        """Make the next ``times`` calls of ``method`` (``"*"``: any method) misbehave.

        ``status=429`` answers ``ratelimited`` with ``Retry-After`` (``retry_after``, default 1);
        5xx answers an error body with that status; ``status=200`` only delays and then
        answers normally.  ``delay`` seconds are waited first (slow responses, timeouts).
        """
        if times < 1:
            raise ValueError("times must be at least 1")
        self._faults.setdefault(method, []).append(_Fault(status, retry_after, delay, times))

    def _take_fault(self, method: str) -> _Fault | None:
        """Consume one use of the first fault queued for ``method`` (or for ``"*"``)."""
        for key in (method, "*"):
            queue = self._faults.get(key)
            if queue:
                fault = queue[0]
                fault.remaining -= 1
                if fault.remaining == 0:
                    queue.pop(0)
                return fault
        return None

    async def _pause(self, delay: float) -> None:
        """Sleep ``delay`` seconds, or less if the stand-in stops meanwhile."""
        if delay > 0:
            try:
                await asyncio.wait_for(self._stopping.wait(), delay)
            except asyncio.TimeoutError:
                pass

    # -- state helpers for tests -------------------------------------------------

    def next_ts(self) -> str:
        """A new message timestamp, increasing: ``1700000000.000100``, ``1700000000.000200``, ..."""
        micros = next(self._ts_counter) * _TS_STEP_MICROS
        return f"{_FIRST_TS_SECONDS + micros // 1_000_000}.{micros % 1_000_000:06d}"

    def new_trigger_id(self) -> str:
        """A fresh trigger id, usable once with ``views.open`` / ``views.push``."""
        return f"{next(self._ids)}.{self.team_id}.{uuid.uuid4().hex[:16]}"

    def add_user(self, user_id: str, **profile: Any) -> None:
        """Make ``users.info`` know ``user_id`` (fields as in the ``users`` constructor argument)."""
        self.users[user_id] = profile

    def messages(self, channel: str) -> list[dict]:
        """Copies of the messages stored in ``channel`` (replies included), oldest first."""
        return copy.deepcopy(self._messages.get(channel, []))

    def thread(self, channel: str, thread_ts: str) -> list[dict]:
        """The parent and replies of one thread, oldest first."""
        return [m for m in self.messages(channel) if thread_ts in (m["ts"], m.get("thread_ts"))]

    def ephemeral_messages(self, channel: str, *, user: str | None = None) -> list[dict]:
        """Copies of the ephemeral messages posted in ``channel`` (to ``user`` if given)."""
        return [
            copy.deepcopy(e.message)
            for e in self.ephemerals
            if e.channel == channel and (user is None or e.user == user)
        ]

    def views(self) -> list[dict]:
        """Copies of the modal views opened, pushed or updated so far, oldest first."""
        return copy.deepcopy(list(self._views.values()))

    def home_view(self, user_id: str) -> dict | None:
        """A copy of the home tab published for ``user_id``."""
        return copy.deepcopy(self._home_views.get(user_id))

    def add_user_message(self, *, channel: str, user: str, text: str, thread_ts: str | None = None) -> dict:
        """Store a message written by a person (as if typed in Slack) and return a copy."""
        message = {"type": "message", "user": user, "text": text, "ts": self.next_ts(), "team": self.team_id}
        message["client_msg_id"] = str(uuid.uuid4())
        if thread_ts is not None:
            self._attach_to_thread(channel, message, thread_ts)
        self._messages.setdefault(channel, []).append(message)
        return copy.deepcopy(message)

    def _attach_to_thread(self, channel: str, message: dict, thread_ts: str) -> None:
        """Make ``message`` a reply in the thread of ``thread_ts``."""
        message["thread_ts"] = thread_ts
        parent = self._find_message(channel, thread_ts)
        if parent is not None and parent.get("user"):
            message["parent_user_id"] = parent["user"]

    # -- building events -----------------------------------------------------

    def message_event(self, *, channel: str, user: str, text: str, thread_ts: str | None = None) -> dict:
        """Store a person's message and return the matching ``message`` event."""
        message = self.add_user_message(channel=channel, user=user, text=text, thread_ts=thread_ts)
        channel_type = "im" if channel.startswith("D") else "channel"
        return {**message, "channel": channel, "event_ts": message["ts"], "channel_type": channel_type}

    def app_mention_event(self, *, channel: str, user: str, text: str, thread_ts: str | None = None) -> dict:
        """Store a person's message mentioning the bot and return the ``app_mention`` event.

        Include ``<@BOT_USER_ID>`` in ``text`` yourself, as Slack would.
        """
        event = self.message_event(channel=channel, user=user, text=text, thread_ts=thread_ts)
        event["type"] = "app_mention"
        event.pop("channel_type")
        return event

    def event_callback(self, event: dict, *, event_id: str | None = None) -> dict:
        """Wrap ``event`` the way the Events API delivers it (``type: event_callback``)."""
        return {
            "token": "verification-token",
            "team_id": self.team_id,
            "api_app_id": self.app_id,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{next(self._ids):08d}",
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": self.team_id,
                    "user_id": self.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": f"4-{uuid.uuid4().hex}",
        }

    # -- Socket Mode -------------------------------------------------------------

    @property
    def socket_connections(self) -> int:
        """How many Socket Mode connections were opened so far."""
        return self._socket.opened

    @property
    def envelopes(self) -> list[dict]:
        """Every envelope pushed so far."""
        return list(self._socket.envelopes)

    @property
    def socket_received(self) -> list[Any]:
        """Every message the clients sent over Socket Mode (decoded JSON, or raw text)."""
        return list(self._socket.received)

    async def wait_socket_connected(self, *, count: int = 1, timeout: float = 5.0) -> None:
        """Wait until ``count`` Socket Mode connections were opened in total."""
        await self._wait_until(
            lambda: True if self._socket.opened >= count and self._socket.connections else None,
            timeout=timeout,
            describe=lambda: f"expected {count} socket connection(s); saw {self._socket.opened}",
        )

    async def push_socket_event(
        self,
        payload: dict,
        *,
        type: str = "events_api",  # noqa: A002 - the envelope field is called "type"
        accepts_response_payload: bool | None = None,
        retry_attempt: int = 0,
        retry_reason: str = "",
        timeout: float = 2.0,
    ) -> str:
        """Send ``payload`` in an envelope to the newest connected client; return the envelope_id.

        ``type`` is ``events_api``, ``interactive`` or ``slash_commands``; waits up to
        ``timeout`` seconds for a client to be connected.
        """
        await self.wait_socket_connected(timeout=timeout)
        envelope_id = str(uuid.uuid4())
        envelope: dict[str, Any] = {"envelope_id": envelope_id, "type": type, "payload": payload}
        if accepts_response_payload is None:
            accepts_response_payload = type != "events_api"
        envelope["accepts_response_payload"] = accepts_response_payload
        if type == "events_api":
            envelope.update(retry_attempt=retry_attempt, retry_reason=retry_reason)
        self._socket.envelopes.append(envelope)
        await self._socket.connections[-1].send_json(envelope)
        return envelope_id

    async def push_event(self, event: dict, **options: Any) -> str:
        """Push ``event`` wrapped in an ``event_callback`` over Socket Mode; return the envelope_id."""
        return await self.push_socket_event(self.event_callback(event), **options)

    async def wait_socket_ack(self, envelope_id: str, *, timeout: float = 5.0) -> dict:
        """Wait for the client's ack of ``envelope_id`` and return it (``payload`` included if sent)."""
        return await self._wait_until(
            lambda: self._socket.acks.get(envelope_id),
            timeout=timeout,
            describe=lambda: f"no ack for envelope {envelope_id}; acked: {list(self._socket.acks)}",
        )

    def socket_ack(self, envelope_id: str) -> dict | None:
        """The ack of ``envelope_id`` if one arrived."""
        return self._socket.acks.get(envelope_id)

    async def send_disconnect(self, *, reason: str = "refresh_requested") -> None:
        """Send Slack's ``disconnect`` message: the client should fetch a new URL and reconnect."""
        await self.wait_socket_connected(timeout=2.0)
        message = {"type": "disconnect", "reason": reason, "debug_info": {"host": "slack-standin"}}
        await self._socket.connections[-1].send_json(message)

    async def drop_socket_connections(self) -> None:
        """Close every Socket Mode connection from the server side."""
        for ws in list(self._socket.connections):
            await ws.close(code=1001, message=b"going away")

    async def _handle_socket(self, request: web.Request) -> web.StreamResponse:
        """The Socket Mode websocket: hello first, then collect acks until the client leaves."""
        if request.query.get("ticket") not in self._socket.tickets:
            return web.Response(status=401, text="invalid ticket")
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        await ws.send_json(self._hello(num_connections=len(self._socket.connections) + 1))
        self._socket.connections.append(ws)
        self._socket.opened += 1
        self._changed()
        try:
            async for message in ws:
                if message.type == WSMsgType.TEXT:
                    self._on_socket_text(message.data)
        finally:
            self._socket.connections.remove(ws)
            self._changed()
        return ws

    def _hello(self, *, num_connections: int) -> dict:
        return {
            "type": "hello",
            "num_connections": num_connections,
            "debug_info": {"host": "slack-standin", "build_number": 1, "approximate_connection_time": 18060},
            "connection_info": {"app_id": self.app_id},
        }

    def _on_socket_text(self, data: str) -> None:
        """Record what a client sent; acks carry an ``envelope_id``."""
        try:
            message = json.loads(data)
        except ValueError:
            self._socket.received.append(data)
            return
        self._socket.received.append(message)
        if isinstance(message, dict) and message.get("envelope_id"):
            self._socket.acks[message["envelope_id"]] = message
        self._changed()

    # -- the Web API ---------------------------------------------------------------

    async def _handle_api(self, request: web.Request) -> web.Response:
        """Decode, fault-inject, authenticate, dispatch, record, answer."""
        method = request.match_info["method"]
        arrived = time.monotonic()
        token: str | None = None
        args: dict = {}
        try:
            args, token = await self._read_args(request)
        except SlackError as exc:
            return self._answer(RecordedCall(method, args, False, exc.error, arrived), {"error": exc.error})
        fault = self._take_fault(method)
        if fault is not None:
            await self._pause(fault.delay)
        if fault is not None and fault.status != 200:
            return self._fault_answer(method, args, token, arrived, fault)
        try:
            body = self._dispatch(method, args, token)
            record = RecordedCall(method, args, True, None, arrived, token=token)
        except SlackError as exc:
            body = {"error": exc.error, **exc.extra}
            record = RecordedCall(method, args, False, exc.error, arrived, token=token)
        return self._answer(record, body)

    def _answer(self, record: RecordedCall, body: dict, headers: dict | None = None) -> web.Response:
        """Record the call and send Slack's JSON answer."""
        self.calls.append(record)
        self._changed()
        return web.json_response({"ok": record.ok, **body}, status=record.status, headers=headers)

    def _fault_answer(self, method: str, args: dict, token: str | None, arrived: float, fault: _Fault) -> web.Response:
        """An injected 429 or 5xx."""
        error = _ERROR_FOR_STATUS.get(fault.status, "fatal_error" if fault.status >= 500 else "invalid_request")
        headers = None
        if fault.status == 429:
            headers = {"Retry-After": str(1 if fault.retry_after is None else fault.retry_after)}
        record = RecordedCall(method, args, False, error, arrived, status=fault.status, token=token)
        return self._answer(record, {"error": error}, headers)

    async def _read_args(self, request: web.Request) -> tuple[dict, str | None]:
        """Merge query, JSON or form arguments; take the token from the header or ``token=``."""
        args: dict = dict(request.query)
        if request.method == "POST" and request.can_read_body:
            if request.content_type == "application/json":
                try:
                    body = await request.json()
                except ValueError as exc:
                    raise SlackError("invalid_json") from exc
                if not isinstance(body, dict):
                    raise SlackError("invalid_json")
                args.update(body)
            else:
                args.update((await request.post()).items())
        form_token = args.pop("token", None)
        _decode_json_strings(args)
        return args, _bearer(request) or form_token

    def _dispatch(self, method: str, args: dict, token: str | None) -> dict:
        """Find the method, check the token, run it."""
        handler = self._handlers.get(method)
        if handler is None:
            raise SlackError("unknown_method", req_method=method)
        self._check_token(method, token)
        return handler(args)

    def _check_token(self, method: str, token: str | None) -> None:
        """Bot token for everything except ``apps.connections.open``, which wants the app token."""
        if not token:
            raise SlackError("not_authed")
        expected = self.app_token if method == "apps.connections.open" else self.bot_token
        if token == expected:
            return
        if token in (self.app_token, self.bot_token):
            raise SlackError("not_allowed_token_type")
        raise SlackError("invalid_auth")

    def _handler_table(self) -> dict[str, Callable[[dict], dict]]:
        return {
            "auth.test": self._auth_test,
            "chat.postMessage": self._chat_post_message,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.update": self._chat_update,
            "chat.delete": self._chat_delete,
            "chat.getPermalink": self._chat_get_permalink,
            "reactions.add": self._reactions_add,
            "reactions.remove": self._reactions_remove,
            "users.info": self._users_info,
            "conversations.info": self._conversations_info,
            "conversations.history": self._conversations_history,
            "conversations.replies": self._conversations_replies,
            "views.open": self._views_open,
            "views.push": self._views_push,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
            "apps.connections.open": self._apps_connections_open,
        }

    # -- argument checks ------------------------------------------------------------

    def _channel(self, args: dict) -> str:
        """The ``channel`` argument, which must name a known channel."""
        channel = args.get("channel")
        if not channel or not isinstance(channel, str):
            raise SlackError("channel_not_found")
        if self.channels is not None and channel not in self.channels:
            raise SlackError("channel_not_found")
        return channel

    def _check_message_content(self, args: dict) -> None:
        """``no_text``, ``msg_too_long``, ``invalid_blocks_format`` and ``invalid_blocks``."""
        if not _has_content(args):
            raise SlackError("no_text")
        self._check_text_and_blocks(args)

    def _check_text_and_blocks(self, args: dict) -> None:
        """``msg_too_long``, ``invalid_blocks_format`` and ``invalid_blocks``."""
        text = _text_of(args)
        if text is not None and len(text) > MESSAGE_TEXT_LIMIT:
            raise SlackError("msg_too_long")
        self._check_blocks(args.get("blocks"))

    def _check_blocks(self, blocks: Any) -> None:
        if blocks is None:
            return
        if not isinstance(blocks, list):
            raise SlackError("invalid_blocks_format")
        errors = validate_blocks(blocks)
        if errors:
            raise SlackError("invalid_blocks", errors=errors, response_metadata={"messages": errors})

    def _find_message(self, channel: str, ts: Any) -> dict | None:
        for message in self._messages.get(channel, []):
            if message["ts"] == ts:
                return message
        return None

    def _own_message(self, channel: str, ts: Any, forbidden: str) -> dict:
        """A stored message the bot wrote; ``message_not_found`` or ``forbidden`` otherwise."""
        message = self._find_message(channel, ts) if ts else None
        if message is None:
            raise SlackError("message_not_found")
        if message.get("bot_id") != self.bot_id:
            raise SlackError(forbidden)
        return message

    def _bot_message(self, args: dict) -> dict:
        """A new message written by the bot from chat.postMessage arguments."""
        message: dict[str, Any] = {
            "type": "message",
            "ts": self.next_ts(),
            "text": _text_of(args) or "",
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "app_id": self.app_id,
            "team": self.team_id,
        }
        for name in ("blocks", "attachments", "metadata", "username", "icon_emoji", "icon_url"):
            if args.get(name) is not None:
                message[name] = args[name]
        return message

    # -- methods: auth and chat --------------------------------------------------------

    def _auth_test(self, args: dict) -> dict:
        return {
            "url": WORKSPACE_URL,
            "team": "Home",
            "user": "baton",
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _chat_post_message(self, args: dict) -> dict:
        channel = self._channel(args)
        self._check_message_content(args)
        message = self._bot_message(args)
        thread_ts = args.get("thread_ts")
        if thread_ts:
            self._attach_to_thread(channel, message, str(thread_ts))
            if _flag(args.get("reply_broadcast")):
                message["subtype"] = "thread_broadcast"
        self._messages.setdefault(channel, []).append(message)
        return {"channel": channel, "ts": message["ts"], "message": copy.deepcopy(message)}

    def _chat_post_ephemeral(self, args: dict) -> dict:
        channel = self._channel(args)
        user = args.get("user")
        if not user or user not in self.users:
            raise SlackError("user_not_found")
        self._check_message_content(args)
        message = self._bot_message(args)
        if args.get("thread_ts"):
            message["thread_ts"] = str(args["thread_ts"])
        self.ephemerals.append(_Ephemeral(channel, user, message))
        return {"message_ts": message["ts"]}

    def _chat_update(self, args: dict) -> dict:
        channel = self._channel(args)
        message = self._own_message(channel, args.get("ts"), "cant_update_message")
        if not any(name in args for name in ("text", "blocks", "attachments")):
            raise SlackError("no_text")
        self._check_text_and_blocks(args)
        if "text" in args:
            message["text"] = _text_of(args) or ""
        for name in ("blocks", "attachments", "metadata"):
            if name in args:
                message[name] = args[name]
        message["edited"] = {"user": self.bot_user_id, "ts": self.next_ts()}
        return {"channel": channel, "ts": message["ts"], "text": message["text"], "message": copy.deepcopy(message)}

    def _chat_delete(self, args: dict) -> dict:
        channel = self._channel(args)
        message = self._own_message(channel, args.get("ts"), "cant_delete_message")
        self._messages[channel].remove(message)
        return {"channel": channel, "ts": message["ts"]}

    def _chat_get_permalink(self, args: dict) -> dict:
        channel = self._channel(args)
        message = self._find_message(channel, args.get("message_ts"))
        if message is None:
            raise SlackError("message_not_found")
        link = f"{WORKSPACE_URL}archives/{channel}/p{message['ts'].replace('.', '')}"
        thread_ts = message.get("thread_ts")
        if thread_ts and thread_ts != message["ts"]:
            link += f"?thread_ts={thread_ts}&cid={channel}"
        return {"channel": channel, "permalink": link}

    # -- methods: reactions ----------------------------------------------------------

    def _reaction_target(self, args: dict) -> tuple[dict, str]:
        """The message and emoji name of a reactions.add / reactions.remove call."""
        if not args.get("channel") or not args.get("timestamp"):
            raise SlackError("no_item_specified")
        channel = self._channel(args)
        name = str(args.get("name") or "").strip(":")
        if not name or not _EMOJI_NAME.match(name):
            raise SlackError("invalid_name")
        message = self._find_message(channel, args["timestamp"])
        if message is None:
            raise SlackError("message_not_found")
        return message, name

    def _reactions_add(self, args: dict) -> dict:
        message, name = self._reaction_target(args)
        reactions = message.setdefault("reactions", [])
        reaction = next((r for r in reactions if r["name"] == name), None)
        if reaction is None:
            reaction = {"name": name, "users": [], "count": 0}
            reactions.append(reaction)
        if self.bot_user_id in reaction["users"]:
            raise SlackError("already_reacted")
        reaction["users"].append(self.bot_user_id)
        reaction["count"] = len(reaction["users"])
        return {}

    def _reactions_remove(self, args: dict) -> dict:
        message, name = self._reaction_target(args)
        reactions = message.get("reactions", [])
        reaction = next((r for r in reactions if r["name"] == name), None)
        if reaction is None or self.bot_user_id not in reaction["users"]:
            raise SlackError("no_reaction")
        reaction["users"].remove(self.bot_user_id)
        reaction["count"] = len(reaction["users"])
        if not reaction["users"]:
            reactions.remove(reaction)
        if not reactions:
            message.pop("reactions", None)
        return {}

    # -- methods: users and conversations ----------------------------------------------

    def _users_info(self, args: dict) -> dict:
        user_id = args.get("user")
        if user_id == self.bot_user_id and user_id not in self.users:
            return {"user": self._user_object(user_id, {"name": "baton", "real_name": "Baton", "is_bot": True})}
        if not user_id or user_id not in self.users:
            raise SlackError("user_not_found")
        return {"user": self._user_object(user_id, self.users[user_id])}

    def _user_object(self, user_id: str, spec: dict) -> dict:
        """A users.info ``user`` built from the profile fields a test gave."""
        name = spec.get("name", user_id.lower())
        real_name = spec.get("real_name", name)
        profile = {
            "display_name": spec.get("display_name", name),
            "real_name": real_name,
            "email": spec.get("email"),
            "team": spec.get("team_id", self.team_id),
        }
        return {
            "id": user_id,
            "team_id": spec.get("team_id", self.team_id),
            "name": name,
            "real_name": real_name,
            "deleted": spec.get("deleted", False),
            "is_bot": spec.get("is_bot", False),
            "is_admin": spec.get("is_admin", False),
            "tz": spec.get("tz", "Europe/Paris"),
            "profile": {k: v for k, v in profile.items() if v is not None},
        }

    def _conversations_info(self, args: dict) -> dict:
        channel = self._channel(args)
        info = {
            "id": channel,
            "name": channel.lower(),
            "is_channel": channel.startswith("C"),
            "is_group": channel.startswith("G"),
            "is_im": channel.startswith("D"),
            "is_private": not channel.startswith("C"),
            "is_archived": False,
            "is_member": True,
            "created": _FIRST_TS_SECONDS,
            "context_team_id": self.team_id,
        }
        info.update((self.channels or {}).get(channel, {}))
        return {"channel": info}

    def _with_thread_info(self, channel: str, message: dict) -> dict:
        """A copy of ``message``; thread parents get reply_count, reply_users and latest_reply."""
        out = copy.deepcopy(message)
        replies = [m for m in self._messages.get(channel, []) if m.get("thread_ts") == message["ts"] and m is not message]
        if replies:
            out.update(
                thread_ts=message["ts"],
                reply_count=len(replies),
                reply_users=sorted({r.get("user") for r in replies if r.get("user")}),
                latest_reply=replies[-1]["ts"],
            )
        return out

    def _conversations_history(self, args: dict) -> dict:
        channel = self._channel(args)
        stored = self._messages.get(channel, [])
        top = [m for m in stored if m.get("thread_ts") in (None, m["ts"]) or m.get("subtype") == "thread_broadcast"]
        limit = int(args.get("limit") or 100)
        newest_first = [self._with_thread_info(channel, m) for m in reversed(top)]
        return {"messages": newest_first[:limit], "has_more": len(newest_first) > limit}

    def _conversations_replies(self, args: dict) -> dict:
        channel = self._channel(args)
        ts = args.get("ts")
        parent = self._find_message(channel, ts) if ts else None
        if parent is None:
            raise SlackError("thread_not_found")
        replies = [m for m in self._messages.get(channel, []) if m.get("thread_ts") == ts and m is not parent]
        messages = [self._with_thread_info(channel, parent)] + copy.deepcopy(replies)
        return {"messages": messages, "has_more": False}

    # -- methods: views ------------------------------------------------------------------

    def _check_view(self, args: dict) -> dict:
        """The ``view`` argument, validated; ``invalid_arguments`` like Slack otherwise."""
        view = args.get("view")
        errors = ["missing required field: view"] if view is None else validate_view(view)
        if errors:
            messages = [f"[ERROR] {e}" for e in errors]
            raise SlackError("invalid_arguments", errors=errors, response_metadata={"messages": messages})
        return view

    def _use_trigger(self, args: dict) -> None:
        trigger_id = args.get("trigger_id")
        if not trigger_id:
            messages = ["[ERROR] missing required field: trigger_id"]
            raise SlackError("invalid_arguments", response_metadata={"messages": messages})
        if trigger_id in self._used_triggers:
            raise SlackError("exchanged_trigger_id")
        self._used_triggers.add(trigger_id)

    def _store_view(self, view: dict, *, view_id: str | None = None, root_view_id: str | None = None) -> dict:
        """Save a view with Slack's server-side fields; return a copy."""
        view_id = view_id or f"V{next(self._ids):08d}"
        stored = {
            **copy.deepcopy(view),
            "id": view_id,
            "team_id": self.team_id,
            "app_id": self.app_id,
            "bot_id": self.bot_id,
            "hash": f"{int(time.time())}.{uuid.uuid4().hex[:8]}",
            "root_view_id": root_view_id or view_id,
            "previous_view_id": None,
            "state": {"values": {}},
        }
        stored.setdefault("private_metadata", "")
        stored.setdefault("callback_id", "")
        stored.setdefault("external_id", "")
        self._views[view_id] = stored
        return copy.deepcopy(stored)

    def _views_open(self, args: dict) -> dict:
        self._use_trigger(args)
        return {"view": self._store_view(self._check_view(args))}

    def _views_push(self, args: dict) -> dict:
        self._use_trigger(args)
        view = self._check_view(args)
        root = next(reversed(self._views.values()), None)
        return {"view": self._store_view(view, root_view_id=root["root_view_id"] if root else None)}

    def _views_update(self, args: dict) -> dict:
        current = self._existing_view(args)
        view = self._check_view(args)
        if args.get("hash") and args["hash"] != current["hash"]:
            raise SlackError("hash_conflict")
        return {"view": self._store_view(view, view_id=current["id"], root_view_id=current["root_view_id"])}

    def _existing_view(self, args: dict) -> dict:
        """The view named by ``view_id`` or ``external_id``."""
        view_id, external_id = args.get("view_id"), args.get("external_id")
        if not view_id and not external_id:
            messages = ["[ERROR] either view_id or external_id is required"]
            raise SlackError("invalid_arguments", response_metadata={"messages": messages})
        for view in self._views.values():
            if (view_id and view["id"] == view_id) or (external_id and view.get("external_id") == external_id):
                return view
        raise SlackError("not_found")

    def _views_publish(self, args: dict) -> dict:
        user_id = args.get("user_id")
        if not user_id or (user_id not in self.users and user_id != self.bot_user_id):
            raise SlackError("user_not_found")
        view = self._check_view(args)
        if view.get("type") != "home":
            raise SlackError("invalid_arguments", response_metadata={"messages": ["[ERROR] type must be home"]})
        stored = self._store_view(view)
        self._views.pop(stored["id"])
        self._home_views[user_id] = stored
        return {"view": copy.deepcopy(stored)}

    # -- methods: Socket Mode ------------------------------------------------------------

    def _apps_connections_open(self, args: dict) -> dict:
        ticket = uuid.uuid4().hex
        self._socket.tickets.add(ticket)
        return {"url": f"ws://127.0.0.1:{self.port}/socket?ticket={ticket}&app_id={self.app_id}"}
