"""A local OpenAI-compatible HTTP server for tests.

Point the real client at it::

    llm = OpenAIStandIn()
    await llm.start()
    client = openai.AsyncOpenAI(base_url=llm.base_url, api_key="test", max_retries=0)
    llm.queue_response(content={"answer": "42", "confidence": 0.9})
    ...
    await llm.stop()

What it serves (``base_url`` is ``http://127.0.0.1:PORT/v1``):

* ``POST /v1/chat/completions``: validates the request the way the API does
  (messages, roles, ``response_format`` with a strict JSON schema, tools) and
  answers 400 with an OpenAI error body when it is malformed; otherwise returns a
  ``chat.completion`` built from, in order: the queued responses
  (:meth:`OpenAIStandIn.queue_response`), the responder
  (:meth:`OpenAIStandIn.set_responder`), or an echo of the last user message
  (for a JSON ``response_format`` with nothing queued it answers 500 and notes
  the mistake in :attr:`OpenAIStandIn.errors`).
* ``POST /v1/embeddings``: deterministic feature-hashed vectors (texts that share
  words are similar), as floats or base64 float32 (the client's default).
* ``GET /v1/models`` and ``GET /v1/models/{id}``.

Faults (:meth:`OpenAIStandIn.fail_next`) apply to the next POST requests, before
validation, and never consume a queued response.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import itertools
import json
import math
import re
import struct
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from aiohttp import web

__all__ = [
    "OpenAIStandIn",
    "RecordedRequest",
    "CannedReply",
    "MALFORMED_CONTENT",
    "embed_text",
    "count_tokens",
]

MALFORMED_CONTENT = '{"answer": "This JSON object is cut off in the mid'
_ROLES = ("system", "user", "assistant", "developer", "tool", "function")
_CONTENT_REQUIRED_ROLES = ("system", "user", "developer", "tool")
_NAME_PATTERN = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_TOKEN_PATTERN = re.compile(r"\w+|[^\w\s]")
_SERVER_ERRORS = {
    429: ("Rate limit reached for requests. Please try again later.", "requests", "rate_limit_exceeded"),
    500: ("The server had an error while processing your request. Sorry about that!", "server_error", None),
    502: ("Bad gateway.", "server_error", None),
    503: ("The engine is currently overloaded, please try again later.", "server_error", None),
}


# --------------------------------------------------------------------- records and replies
@dataclass(frozen=True)
class RecordedRequest:
    """One HTTP request as received (recorded even when rejected or failed)."""

    method: str
    path: str
    body: Any
    headers: dict[str, str]
    status: int
    at: float

    @property
    def messages(self) -> list[dict]:
        """The chat ``messages`` of the request (empty for other endpoints)."""
        return (self.body or {}).get("messages", []) if isinstance(self.body, dict) else []


@dataclass(frozen=True)
class CannedReply:
    """What the next chat completion says; a responder may return one too.

    ``content`` may be a dict (sent as JSON text).  ``tool_args`` makes the reply a
    tool call (to ``tool_name``, or the tool the request forces, or its first
    tool).  ``usage`` is ``(prompt_tokens, completion_tokens)``; counted from the
    text when omitted.
    """

    content: str | dict | None = None
    tool_args: dict | None = None
    tool_name: str | None = None
    refusal: str | None = None
    usage: tuple[int, int] | None = None
    finish_reason: str | None = None


@dataclass
class _Fault:
    """An injected failure for the next POST request(s)."""

    status: int | None
    retry_after: float | None
    delay: float
    malformed: bool
    remaining: int


class _Invalid(Exception):
    """A request the real API would reject; carries the OpenAI error fields."""

    def __init__(self, message: str, *, param: str | None = None, code: str | None = None, status: int = 400):
        super().__init__(message)
        self.message, self.param, self.code, self.status = message, param, code, status


@dataclass
class _State:
    """Recording and scripting state, kept apart so ``reset()`` is trivial."""

    requests: list[RecordedRequest] = field(default_factory=list)
    queue: deque[CannedReply] = field(default_factory=deque)
    faults: list[_Fault] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    usage: dict[str, int] = field(
        default_factory=lambda: {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
    )


# --------------------------------------------------------------------- public helpers
def count_tokens(text: str) -> int:
    """A rough, deterministic token count (words and punctuation marks)."""
    return len(_TOKEN_PATTERN.findall(text or ""))


def embed_text(text: str, *, dimensions: int) -> list[float]:
    """A deterministic unit vector: signed feature hashing of the lower-cased words.

    Identical texts give identical vectors; texts sharing words have a positive
    cosine similarity; the empty text hashes as a whole.
    """
    vector = [0.0] * dimensions
    for token in re.findall(r"\w+", text.lower()) or [text]:
        digest = hashlib.sha256(token.encode()).digest()
        index = int.from_bytes(digest[:4], "little") % dimensions
        vector[index] += 1.0 if digest[4] & 1 else -1.0
    norm = math.sqrt(sum(v * v for v in vector)) or 1.0
    return [v / norm for v in vector]


def _encode_base64(vector: list[float]) -> str:
    """Little-endian float32, base64: the API's ``encoding_format="base64"``."""
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()


# --------------------------------------------------------------------- request validation
def _require_model(body: dict) -> str:
    """The ``model`` field, or the API's error."""
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise _Invalid("you must provide a model parameter")
    return model


def _content_is_valid(content: Any) -> bool:
    """A string, or a list of typed content parts."""
    if isinstance(content, str):
        return True
    return isinstance(content, list) and all(isinstance(p, dict) and "type" in p for p in content)


def _validate_message(index: int, message: Any, tool_call_ids: set[str]) -> None:
    """One entry of ``messages``; ``tool_call_ids`` holds ids a tool message may answer."""
    where = f"messages[{index}]"
    if not isinstance(message, dict):
        raise _Invalid(f"Invalid type for '{where}': expected an object.", param=where, code="invalid_type")
    role = message.get("role")
    if role is None:
        raise _Invalid(f"Missing required parameter: '{where}.role'.", param=f"{where}.role", code="missing_required_parameter")
    if role not in _ROLES:
        supported = ", ".join(f"'{r}'" for r in _ROLES)
        raise _Invalid(f"Invalid value: '{role}'. Supported values are: {supported}.", param=f"{where}.role", code="invalid_value")
    content = message.get("content")
    if content is None and (role in _CONTENT_REQUIRED_ROLES or not (message.get("tool_calls") or message.get("refusal"))):
        raise _Invalid(f"Missing required parameter: '{where}.content'.", param=f"{where}.content", code="missing_required_parameter")
    if content is not None and not _content_is_valid(content):
        raise _Invalid(f"Invalid type for '{where}.content': expected one of a string or array of objects.", param=f"{where}.content", code="invalid_type")
    if role == "tool" and message.get("tool_call_id") not in tool_call_ids:
        raise _Invalid(
            "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.",
            param=f"{where}.role",
        )


def _validate_messages(body: dict) -> None:
    """``messages``: a non-empty list of well-formed messages."""
    messages = body.get("messages")
    if messages is None:
        raise _Invalid("Missing required parameter: 'messages'.", param="messages", code="missing_required_parameter")
    if not isinstance(messages, list):
        raise _Invalid("Invalid type for 'messages': expected an array of objects.", param="messages", code="invalid_type")
    if not messages:
        raise _Invalid(
            "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.",
            param="messages",
            code="empty_array",
        )
    tool_call_ids: set[str] = set()
    for index, message in enumerate(messages):
        _validate_message(index, message, tool_call_ids)
        for call in message.get("tool_calls") or []:
            tool_call_ids.add(call.get("id"))


def _strict_schema_problem(schema: Any, context: tuple = ()) -> str | None:
    """Why ``schema`` breaks the structured-outputs strict rules, or ``None``."""
    if not isinstance(schema, dict):
        return f"In context={context}, schema must be an object."
    types = schema.get("type")
    if types == "object" or (isinstance(types, list) and "object" in types):
        if schema.get("additionalProperties", True) is not False:
            return f"In context={context}, 'additionalProperties' is required to be supplied and to be false."
        properties = schema.get("properties", {})
        missing = [key for key in properties if key not in (schema.get("required") or [])]
        if missing:
            return (
                f"In context={context}, 'required' is required to be supplied and to be an array "
                f"including every key in properties. Missing '{missing[0]}'."
            )
        for key, sub in properties.items():
            if problem := _strict_schema_problem(sub, (*context, "properties", key)):
                return problem
    for suffix, sub in _subschemas(schema):
        if problem := _strict_schema_problem(sub, (*context, *suffix)):
            return problem
    return None


def _subschemas(schema: dict) -> list[tuple[tuple, Any]]:
    """Nested schemas other than properties: items, $defs / definitions, anyOf."""
    children: list[tuple[tuple, Any]] = []
    if isinstance(schema.get("items"), dict):
        children.append((("items",), schema["items"]))
    for keyword in ("$defs", "definitions"):
        children += [((keyword, name), sub) for name, sub in (schema.get(keyword) or {}).items()]
    children += [(("anyOf", i), sub) for i, sub in enumerate(schema.get("anyOf") or [])]
    return children


def _validate_strict_root(schema: Any, *, label: str, param: str) -> None:
    """A strict schema: an object at the root, and every object closed and fully required."""
    if not isinstance(schema, dict) or schema.get("type") != "object":
        got = schema.get("type") if isinstance(schema, dict) else type(schema).__name__
        raise _Invalid(f"Invalid schema for {label}: schema must be a JSON Schema of 'type: \"object\"', got 'type: \"{got}\"'.", param=param)
    if problem := _strict_schema_problem(schema):
        raise _Invalid(f"Invalid schema for {label}: {problem}", param=param)


def _validate_response_format(body: dict) -> None:
    """``response_format``: ``text``, ``json_object`` or a named ``json_schema``."""
    response_format = body.get("response_format")
    if response_format is None:
        return
    kind = response_format.get("type") if isinstance(response_format, dict) else None
    if kind not in ("text", "json_object", "json_schema"):
        raise _Invalid(f"Invalid value: '{kind}'. Supported values are: 'json_object', 'json_schema', and 'text'.", param="response_format.type", code="invalid_value")
    if kind == "json_object" and "json" not in json.dumps(body.get("messages", [])).lower():
        raise _Invalid("'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'.", param="messages")
    if kind != "json_schema":
        return
    spec = response_format.get("json_schema")
    if not isinstance(spec, dict):
        raise _Invalid("Missing required parameter: 'response_format.json_schema'.", param="response_format.json_schema", code="missing_required_parameter")
    name = spec.get("name")
    if not isinstance(name, str) or not _NAME_PATTERN.match(name):
        raise _Invalid("Invalid 'response_format.json_schema.name': expected a string of letters, digits, '_' or '-', at most 64.", param="response_format.json_schema.name", code="invalid_value")
    if "schema" not in spec:
        raise _Invalid("Missing required parameter: 'response_format.json_schema.schema'.", param="response_format.json_schema.schema", code="missing_required_parameter")
    if spec.get("strict"):
        _validate_strict_root(spec["schema"], label=f"response_format '{name}'", param="response_format")


def _validate_tools(body: dict) -> None:
    """``tools``: function tools with names; strict ones with strict parameter schemas."""
    tools = body.get("tools")
    if tools is None:
        return
    if not isinstance(tools, list):
        raise _Invalid("Invalid type for 'tools': expected an array of objects.", param="tools", code="invalid_type")
    for index, tool in enumerate(tools):
        function = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(function, dict) or not isinstance(function.get("name"), str):
            raise _Invalid(f"Missing required parameter: 'tools[{index}].function.name'.", param=f"tools[{index}].function.name", code="missing_required_parameter")
        if function.get("strict"):
            _validate_strict_root(
                function.get("parameters"), label=f"function '{function['name']}'", param=f"tools[{index}].function.parameters"
            )


def _validate_chat_request(body: Any) -> None:
    """Everything ``POST /v1/chat/completions`` checks before answering."""
    if not isinstance(body, dict):
        raise _Invalid("We could not parse the JSON body of your request. The OpenAI API expects a JSON payload.")
    _require_model(body)
    _validate_messages(body)
    _validate_response_format(body)
    _validate_tools(body)
    if body.get("stream"):
        raise _Invalid("OpenAIStandIn does not implement stream=true.", param="stream", code="unsupported_value")


def _embedding_inputs(body: Any) -> list[str]:
    """The ``input`` of an embeddings request as texts (token arrays stringified)."""
    if not isinstance(body, dict):
        raise _Invalid("We could not parse the JSON body of your request. The OpenAI API expects a JSON payload.")
    _require_model(body)
    raw = body.get("input")
    if raw is None:
        raise _Invalid("Missing required parameter: 'input'.", param="input", code="missing_required_parameter")
    items = [raw] if isinstance(raw, str) or (isinstance(raw, list) and raw and isinstance(raw[0], int)) else raw
    if not isinstance(items, list) or not items or any(item in ("", []) for item in items):
        raise _Invalid("'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.", param="input")
    return [item if isinstance(item, str) else " ".join(map(str, item)) for item in items]


# --------------------------------------------------------------------- responses
def _error_response(status: int, message: str, *, kind: str = "invalid_request_error", param: str | None = None,
                    code: str | None = None, headers: dict | None = None) -> web.Response:
    """An OpenAI-style error body."""
    body = {"error": {"message": message, "type": kind, "param": param, "code": code}}
    return web.json_response(body, status=status, headers=headers)


def _fault_response(status: int, retry_after: float | None) -> web.Response:
    """An injected HTTP error, with ``Retry-After`` and rate-limit headers where apt."""
    message, kind, code = _SERVER_ERRORS.get(status, (f"Injected error {status}.", "server_error", None))
    if status < 500 and status != 429:
        kind = "invalid_request_error"
    headers = {}
    if retry_after is not None:
        headers["retry-after"] = str(int(retry_after)) if float(retry_after).is_integer() else str(retry_after)
    if status == 429:
        headers.update({"x-ratelimit-limit-requests": "500", "x-ratelimit-remaining-requests": "0",
                        "x-ratelimit-reset-requests": f"{retry_after or 1}s"})
    return _error_response(status, message, kind=kind, code=code, headers=headers)


def _as_reply(value: str | dict | CannedReply) -> CannedReply:
    """Normalise what a responder returned."""
    return value if isinstance(value, CannedReply) else CannedReply(content=value)


def _last_user_text(body: dict) -> str:
    """The text of the last user message, for the default echo."""
    for message in reversed(body.get("messages", [])):
        if message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, list):
                return " ".join(part.get("text", "") for part in content)
            return content or ""
    return ""


def _tool_name(reply: CannedReply, body: dict) -> str:
    """Which tool a tool-call reply calls."""
    if reply.tool_name:
        return reply.tool_name
    choice = body.get("tool_choice")
    if isinstance(choice, dict) and choice.get("function", {}).get("name"):
        return choice["function"]["name"]
    tools = body.get("tools") or []
    return tools[0]["function"]["name"] if tools else "tool"


def _prompt_tokens(body: dict) -> int:
    """A rough prompt size: tokens of every message content, plus 3 per message."""
    return sum(count_tokens(json.dumps(m.get("content")) if not isinstance(m.get("content"), str) else m["content"]) + 3
               for m in body.get("messages", []))


class OpenAIStandIn:
    """An OpenAI-compatible API on 127.0.0.1 (``async with OpenAIStandIn() as llm``)."""

    def __init__(
        self,
        *,
        expected_model: str | None = None,
        expected_embedding_model: str | None = None,
        expected_api_key: str | None = None,
        embedding_dimensions: int = 64,
        models: Sequence[str] = ("gpt-4o-mini", "text-embedding-3-small"),
        host: str = "127.0.0.1",
    ) -> None:
        """Create a stopped stand-in.

        :param expected_model: chat requests for another model get 404 ``model_not_found``.
        :param expected_embedding_model: the same for embeddings.
        :param expected_api_key: when set, ``Authorization: Bearer <key>`` must match (a
            missing header is always 401).
        :param embedding_dimensions: vector size when the request gives no ``dimensions``.
        :param models: ids listed by ``GET /v1/models``.
        """
        self.expected_model = expected_model
        self.expected_embedding_model = expected_embedding_model
        self.expected_api_key = expected_api_key
        self.embedding_dimensions = embedding_dimensions
        self.models = list(models)
        self._host = host
        self._state = _State()
        self._responder: Callable[[dict], str | dict | CannedReply] | None = None
        self._counter = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self._stopping: asyncio.Event | None = None
        self.base_url = ""

    # ----------------------------------------------------------------- lifecycle
    async def start(self) -> None:
        """Bind a free port and start serving."""
        self._stopping = asyncio.Event()
        self._runner = web.AppRunner(self._build_app(), shutdown_timeout=1.0, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self._host, 0).start()
        self.base_url = f"http://{self._host}:{self._runner.addresses[0][1]}/v1"

    async def stop(self) -> None:
        """Stop serving (cutting injected delays short); records stay readable."""
        if self._stopping is not None:
            self._stopping.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> "OpenAIStandIn":
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # ----------------------------------------------------------------- reading
    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request, in arrival order, including rejected and failed ones."""
        return self._state.requests

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        """Only the ``/chat/completions`` requests."""
        return [r for r in self._state.requests if r.path.endswith("/chat/completions")]

    @property
    def usage(self) -> dict[str, int]:
        """Tokens reported over all successful chat completions."""
        return dict(self._state.usage)

    @property
    def errors(self) -> list[str]:
        """Misuse noticed by the stand-in (e.g. a JSON reply wanted but none queued)."""
        return self._state.errors

    # ----------------------------------------------------------------- scripting
    def queue_response(
        self,
        *,
        content: str | dict | None = None,
        tool_args: dict | None = None,
        tool_name: str | None = None,
        refusal: str | None = None,
        usage: tuple[int, int] | None = None,
        finish_reason: str | None = None,
    ) -> None:
        """Queue the reply of the next chat completion (FIFO); a dict ``content`` is sent as JSON."""
        if content is None and tool_args is None and refusal is None:
            raise ValueError("queue_response needs content, tool_args or refusal")
        self._state.queue.append(CannedReply(content, tool_args, tool_name, refusal, usage, finish_reason))

    def set_responder(self, fn: Callable[[dict], str | dict | CannedReply] | None) -> None:
        """Compute replies from the request body when nothing is queued (``None`` clears)."""
        self._responder = fn

    def fail_next(
        self,
        *,
        status: int | None = None,
        retry_after: float | None = None,
        times: int = 1,
        delay: float = 0.0,
        malformed: bool = False,
    ) -> None:
        """Make the next ``times`` POST requests misbehave.

        * ``status`` (500, 429, 503, ...): an OpenAI error body, with ``retry-after``
          when ``retry_after`` is given.  Defaults to 500 unless ``delay`` or
          ``malformed`` is given.
        * ``delay``: wait that many seconds first (longer than the client's timeout
          gives ``APITimeoutError``); without ``status`` the normal reply follows.
        * ``malformed``: answer 200 with :data:`MALFORMED_CONTENT` as the message
          content (embeddings: a body that is not JSON).
        """
        if times < 1:
            raise ValueError("times must be >= 1")
        if status is None and not delay and not malformed:
            status = 500
        self._state.faults.append(_Fault(status, retry_after, delay, malformed, times))

    def reset(self) -> None:
        """Forget requests, queued replies, faults, errors and usage (the responder stays)."""
        self._state = _State()

    # ----------------------------------------------------------------- server plumbing
    def _build_app(self) -> web.Application:
        """The aiohttp application and its routes."""
        app = web.Application(middlewares=[self._gate])
        app.router.add_post("/v1/chat/completions", self._chat_completions)
        app.router.add_post("/v1/embeddings", self._embeddings)
        app.router.add_get("/v1/models", self._list_models)
        app.router.add_get("/v1/models/{model}", self._get_model)
        return app

    @web.middleware
    async def _gate(self, request: web.Request, handler: Callable) -> web.StreamResponse:
        """Authenticate, apply faults, run the handler, record the exchange."""
        body = await _read_json(request)
        try:
            response = self._check_auth(request)
            if response is None and request.method == "POST":
                response = await self._apply_fault(request)
            if response is None:
                response = await handler(request)
        except _Invalid as invalid:
            response = _error_response(invalid.status, invalid.message, param=invalid.param, code=invalid.code)
        except web.HTTPException as exc:  # unknown route or method, answered like the API
            response = _error_response(exc.status, f"Invalid URL ({request.method} {request.path})")
        self._state.requests.append(
            RecordedRequest(request.method, request.path, body, dict(request.headers), response.status, time.monotonic())
        )
        return response

    def _check_auth(self, request: web.Request) -> web.Response | None:
        """401 without a bearer key, or with the wrong one when a key is expected."""
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            return _error_response(401, "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth.")
        if self.expected_api_key is not None and header != f"Bearer {self.expected_api_key}":
            return _error_response(401, "Incorrect API key provided.", code="invalid_api_key")
        return None

    async def _apply_fault(self, request: web.Request) -> web.Response | None:
        """Consume one pending fault; return its response, or ``None`` to go on normally."""
        if not self._state.faults:
            return None
        fault = self._state.faults[0]
        fault.remaining -= 1
        if fault.remaining <= 0:
            self._state.faults.pop(0)
        if fault.delay:
            await self._sleep(fault.delay)
        if fault.status is not None:
            return _fault_response(fault.status, fault.retry_after)
        if fault.malformed:
            return await self._malformed(request)
        return None

    async def _malformed(self, request: web.Request) -> web.Response:
        """A 200 whose content (chat) or body (embeddings) is not valid JSON."""
        if request.path.endswith("/embeddings"):
            return web.Response(text='{"object": "list", "data": [', content_type="application/json")
        body = await _read_json(request) or {}
        return self._completion(body, CannedReply(content=MALFORMED_CONTENT))

    async def _sleep(self, seconds: float) -> None:
        """Sleep, but wake up at once when the stand-in stops."""
        assert self._stopping is not None
        try:
            await asyncio.wait_for(self._stopping.wait(), seconds)
        except TimeoutError:
            pass

    # ----------------------------------------------------------------- endpoints
    async def _chat_completions(self, request: web.Request) -> web.Response:
        """``POST /v1/chat/completions``."""
        body = await _read_json(request)
        _validate_chat_request(body)
        if self.expected_model and body["model"] != self.expected_model:
            raise _Invalid(f"The model `{body['model']}` does not exist or you do not have access to it.", code="model_not_found", status=404)
        reply = self._next_reply(body)
        if reply is None:
            return _error_response(500, self._state.errors[-1], kind="server_error")
        return self._completion(body, reply)

    def _next_reply(self, body: dict) -> CannedReply | None:
        """Queued reply, else responder, else echo (``None`` when a JSON reply was needed)."""
        if self._state.queue:
            return self._state.queue.popleft()
        if self._responder is not None:
            return _as_reply(self._responder(body))
        if (body.get("response_format") or {}).get("type") in ("json_schema", "json_object"):
            self._state.errors.append(
                "OpenAIStandIn: a JSON response_format was requested but no response was queued "
                "and no responder is set (use queue_response or set_responder)."
            )
            return None
        return CannedReply(content=f"stand-in reply to: {_last_user_text(body)}")

    def _completion(self, body: dict, reply: CannedReply) -> web.Response:
        """A ``chat.completion`` object for ``reply``; adds its usage to the totals."""
        number = next(self._counter)
        message, finish = self._message(body, reply, number)
        prompt, completion = reply.usage or (_prompt_tokens(body), count_tokens(json.dumps(message)))
        usage = {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}
        for key, value in usage.items():
            self._state.usage[key] += value
        completion_body = {
            "id": f"chatcmpl-standin{number}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", "unknown"),
            "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": reply.finish_reason or finish}],
            "usage": {**usage, "prompt_tokens_details": {"cached_tokens": 0}, "completion_tokens_details": {"reasoning_tokens": 0}},
            "service_tier": "default",
            "system_fingerprint": "fp_standin",
        }
        return web.json_response(completion_body, headers={"x-request-id": f"req_standin{number}"})

    @staticmethod
    def _message(body: dict, reply: CannedReply, number: int) -> tuple[dict, str]:
        """The assistant message and its natural finish reason."""
        content = json.dumps(reply.content) if isinstance(reply.content, dict) else reply.content
        message: dict[str, Any] = {"role": "assistant", "content": content, "refusal": reply.refusal, "annotations": []}
        if reply.tool_args is None:
            return message, "stop"
        message["tool_calls"] = [{
            "id": f"call_standin{number}",
            "type": "function",
            "function": {"name": _tool_name(reply, body), "arguments": json.dumps(reply.tool_args)},
        }]
        return message, "tool_calls"

    async def _embeddings(self, request: web.Request) -> web.Response:
        """``POST /v1/embeddings``: float or base64 vectors."""
        body = await _read_json(request)
        texts = _embedding_inputs(body)
        if self.expected_embedding_model and body["model"] != self.expected_embedding_model:
            raise _Invalid(f"The model `{body['model']}` does not exist or you do not have access to it.", code="model_not_found", status=404)
        encoding = body.get("encoding_format", "float")
        if encoding not in ("float", "base64"):
            raise _Invalid(f"Invalid value: '{encoding}'. Supported values are: 'float' and 'base64'.", param="encoding_format", code="invalid_value")
        dimensions = body.get("dimensions") or self.embedding_dimensions
        if not isinstance(dimensions, int) or dimensions < 1:
            raise _Invalid("Invalid 'dimensions': expected a positive integer.", param="dimensions", code="invalid_value")
        data = []
        for index, text in enumerate(texts):
            vector = embed_text(text, dimensions=dimensions)
            data.append({"object": "embedding", "index": index,
                         "embedding": _encode_base64(vector) if encoding == "base64" else vector})
        tokens = sum(count_tokens(text) for text in texts)
        return web.json_response({"object": "list", "data": data, "model": body["model"],
                                  "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})

    def _model_ids(self) -> list[str]:
        """Models listed: the configured ones plus any expected ones."""
        extra = [m for m in (self.expected_model, self.expected_embedding_model) if m and m not in self.models]
        return self.models + extra

    async def _list_models(self, request: web.Request) -> web.Response:
        """``GET /v1/models``."""
        return web.json_response({"object": "list", "data": [_model_entry(m) for m in self._model_ids()]})

    async def _get_model(self, request: web.Request) -> web.Response:
        """``GET /v1/models/{model}``."""
        model = request.match_info["model"]
        if model not in self._model_ids():
            raise _Invalid(f"The model `{model}` does not exist or you do not have access to it.", code="model_not_found", status=404)
        return web.json_response(_model_entry(model))


def _model_entry(model: str) -> dict:
    """One entry of the models list."""
    return {"id": model, "object": "model", "created": 1700000000, "owned_by": "openai-standin"}


async def _read_json(request: web.Request) -> Any:
    """The JSON body, or ``None`` when absent or not JSON."""
    if not request.body_exists:
        return None
    try:
        return await request.json()
    except ValueError:
        return None
