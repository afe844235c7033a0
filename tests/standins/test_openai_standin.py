"""The OpenAI stand-in, driven by the real ``openai.AsyncOpenAI`` client (max_retries=0)."""

from __future__ import annotations

import base64
import json
import struct
import time

import aiohttp
import openai
import pydantic
import pytest

from .openai_server import MALFORMED_CONTENT, CannedReply, OpenAIStandIn, embed_text

MODEL = "gpt-4o-mini"


class Answer(pydantic.BaseModel):
    """A structured answer, as the bot asks the model for one."""

    answer: str
    confidence: float
    sources: list[str]


@pytest.fixture
async def llm():
    """A started stand-in that only accepts MODEL for chat."""
    async with OpenAIStandIn(expected_model=MODEL) as standin:
        yield standin


@pytest.fixture
async def client(llm: OpenAIStandIn):
    """The real client, without its own retries and with a short timeout."""
    async with openai.AsyncOpenAI(base_url=llm.base_url, api_key="test", max_retries=0, timeout=2.0) as api:
        yield api


def _ask(text: str = "How do I reset my VPN token?") -> list[dict]:
    """A minimal conversation."""
    return [{"role": "system", "content": "You are Baton."}, {"role": "user", "content": text}]


# --------------------------------------------------------------------- happy paths
async def test_structured_output_is_parsed(llm: OpenAIStandIn, client: openai.AsyncOpenAI) -> None:
    """``parse(response_format=Model)`` sends a strict schema and parses the queued dict."""
    llm.queue_response(content={"answer": "Use the portal.", "confidence": 0.8, "sources": ["kb/vpn.md"]})
    completion = await client.chat.completions.parse(model=MODEL, messages=_ask(), response_format=Answer)
    message = completion.choices[0].message
    assert message.parsed == Answer(answer="Use the portal.", confidence=0.8, sources=["kb/vpn.md"])
    assert completion.choices[0].finish_reason == "stop"
    response_format = llm.chat_requests[0].body["response_format"]
    assert response_format["type"] == "json_schema"
    assert response_format["json_schema"]["name"] == "Answer"
    assert response_format["json_schema"]["strict"] is True


async def test_usage_is_reported_and_totalled(llm: OpenAIStandIn, client: openai.AsyncOpenAI) -> None:
    """Explicit usage is echoed; otherwise it is counted; the stand-in keeps totals."""
    llm.queue_response(content="Hello!", usage=(11, 7))
    first = await client.chat.completions.create(model=MODEL, messages=_ask())
    second = await client.chat.completions.create(model=MODEL, messages=_ask("hello there"))
    assert (first.usage.prompt_tokens, first.usage.completion_tokens, first.usage.total_tokens) == (11, 7, 18)
    assert second.choices[0].message.content == "stand-in reply to: hello there"
    assert second.usage.prompt_tokens > 0 and second.usage.completion_tokens > 0
    assert llm.usage["total_tokens"] == 18 + second.usage.total_tokens
    assert first.id != second.id


async def test_refusal(llm: OpenAIStandIn, client: openai.AsyncOpenAI) -> None:
    """A refusal has no content, and ``parse`` leaves ``parsed`` empty."""
    llm.queue_response(refusal="I can't help with that.")
    completion = await client.chat.completions.parse(model=MODEL, messages=_ask(), response_format=Answer)
    message = completion.choices[0].message
    assert message.refusal == "I can't help with that."
    assert message.content is None and message.parsed is None


async def test_responder_and_tool_calls(llm: OpenAIStandIn, client: openai.AsyncOpenAI) -> None:
    """A responder sees the request; ``tool_args`` produce a tool call a tool message may answer."""
    llm.set_responder(lambda body: CannedReply(tool_args={"query": body["messages"][-1]["content"]}))
    tools = [{"type": "function", "function": {"name": "search_kb", "parameters": {"type": "object"}}}]
    first = await client.chat.completions.create(model=MODEL, messages=_ask("vpn"), tools=tools)
    [call] = first.choices[0].message.tool_calls
    assert (call.function.name, json.loads(call.function.arguments)) == ("search_kb", {"query": "vpn"})
    assert first.choices[0].finish_reason == "tool_calls"
    llm.set_responder(lambda body: "Found it.")
    follow_up = _ask("vpn") + [
        first.choices[0].message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": "kb/vpn.md"},
    ]
    second = await client.chat.completions.create(model=MODEL, messages=follow_up, tools=tools)
    assert second.choices[0].message.content == "Found it."


async def test_models_list(llm: OpenAIStandIn, client: openai.AsyncOpenAI) -> None:
    """``models.list`` shows the configured models."""
    ids = [model.id async for model in client.models.list()]
    assert MODEL in ids and "text-embedding-3-small" in ids


# --------------------------------------------------------------------- injected faults
async def test_rate_limit_with_retry_after(llm: OpenAIStandIn, client: openai.AsyncOpenAI) -> None:
    """429 raises RateLimitError exposing Retry-After; the queued reply waits for the retry."""
    llm.queue_response(content="after the storm")
    llm.fail_next(status=429, retry_after=2)
    with pytest.raises(openai.RateLimitError) as caught:
        await client.chat.completions.create(model=MODEL, messages=_ask())
    assert caught.value.response.headers["retry-after"] == "2"
    assert caught.value.code == "rate_limit_exceeded"
    retry = await client.chat.completions.create(model=MODEL, messages=_ask())
    assert retry.choices[0].message.content == "after the storm"
    assert [r.status for r in llm.requests] == [429, 200]


@pytest.mark.parametrize("status", [500, 503])
async def test_server_errors(llm: OpenAIStandIn, client: openai.AsyncOpenAI, status: int) -> None:
    """5xx raises InternalServerError with that status."""
    llm.fail_next(status=status)
    with pytest.raises(openai.InternalServerError) as caught:
        await client.chat.completions.create(model=MODEL, messages=_ask())
    assert caught.value.status_code == status


async def test_slow_response_times_out(llm: OpenAIStandIn) -> None:
    """A delay beyond the client's timeout raises APITimeoutError promptly."""
    llm.fail_next(delay=5.0)
    started = time.monotonic()
    async with openai.AsyncOpenAI(base_url=llm.base_url, api_key="test", max_retries=0, timeout=0.2) as api:
        with pytest.raises(openai.APITimeoutError):
            await api.chat.completions.create(model=MODEL, messages=_ask())
    assert time.monotonic() - started < 1.5


async def test_slow_but_successful(llm: OpenAIStandIn, client: openai.AsyncOpenAI) -> None:
    """A delay without a status is followed by the normal reply."""
    llm.fail_next(delay=0.2)
    started = time.monotonic()
    completion = await client.chat.completions.create(model=MODEL, messages=_ask("ping"))
    assert completion.choices[0].message.content == "stand-in reply to: ping"
    assert time.monotonic() - started >= 0.2


async def test_malformed_content_returned_as_is(llm: OpenAIStandIn, client: openai.AsyncOpenAI) -> None:
    """Malformed JSON content reaches the caller untouched; ``parse`` fails to validate it."""
    llm.fail_next(malformed=True, times=2)
    completion = await client.chat.completions.create(model=MODEL, messages=_ask())
    assert completion.choices[0].message.content == MALFORMED_CONTENT
    with pytest.raises(json.JSONDecodeError):
        json.loads(completion.choices[0].message.content)
    with pytest.raises(pydantic.ValidationError):
        await client.chat.completions.parse(model=MODEL, messages=_ask(), response_format=Answer)


# --------------------------------------------------------------------- request validation
async def test_missing_messages_is_rejected(llm: OpenAIStandIn, client: openai.AsyncOpenAI) -> None:
    """A body without ``messages`` gets the API's 400."""
    with pytest.raises(openai.BadRequestError) as caught:
        await client.post("/chat/completions", cast_to=object, body={"model": MODEL})
    assert caught.value.param == "messages"
    assert caught.value.code == "missing_required_parameter"
    assert llm.requests[-1].status == 400


@pytest.mark.parametrize(
    ("messages", "param"),
    [
        ([], "messages"),
        ([{"role": "robot", "content": "hi"}], "messages[0].role"),
        ([{"role": "user"}], "messages[0].content"),
        ([{"role": "tool", "tool_call_id": "call_x", "content": "r"}], "messages[0].role"),
    ],
)
async def test_bad_messages_are_rejected(client: openai.AsyncOpenAI, messages: list, param: str) -> None:
    """Empty lists, unknown roles, missing content and orphan tool messages are 400s."""
    with pytest.raises(openai.BadRequestError) as caught:
        await client.chat.completions.create(model=MODEL, messages=messages)
    assert caught.value.param == param


@pytest.mark.parametrize(
    ("json_schema", "needle"),
    [
        ({"schema": {"type": "object"}}, "name"),
        ({"name": "answer"}, "schema"),
        ({"name": "answer", "strict": True, "schema": {"type": "object", "properties": {"a": {"type": "string"}},
                                                       "required": ["a"]}}, "additionalProperties"),
        ({"name": "answer", "strict": True, "schema": {"type": "object", "properties": {"a": {"type": "string"}},
                                                       "required": [], "additionalProperties": False}}, "Missing 'a'"),
        ({"name": "answer", "strict": True, "schema": {"type": "array", "items": {"type": "string"}}}, "type: \"object\""),
    ],
)
async def test_bad_response_format_is_rejected(client: openai.AsyncOpenAI, json_schema: dict, needle: str) -> None:
    """json_schema needs a name and a schema; strict schemas must be closed, fully required objects."""
    response_format = {"type": "json_schema", "json_schema": json_schema}
    with pytest.raises(openai.BadRequestError, match=needle):
        await client.chat.completions.create(model=MODEL, messages=_ask(), response_format=response_format)


async def test_nested_strict_schema_is_checked(client: openai.AsyncOpenAI) -> None:
    """Nested objects must be closed too."""
    inner = {"type": "object", "properties": {"x": {"type": "string"}}, "required": ["x"]}
    schema = {"type": "object", "properties": {"inner": inner}, "required": ["inner"], "additionalProperties": False}
    response_format = {"type": "json_schema", "json_schema": {"name": "n", "strict": True, "schema": schema}}
    with pytest.raises(openai.BadRequestError, match=r"'properties', 'inner'"):
        await client.chat.completions.create(model=MODEL, messages=_ask(), response_format=response_format)


async def test_unknown_model_is_404(client: openai.AsyncOpenAI) -> None:
    """With ``expected_model`` set, another model is ``model_not_found``."""
    with pytest.raises(openai.NotFoundError) as caught:
        await client.chat.completions.create(model="gpt-0", messages=_ask())
    assert caught.value.code == "model_not_found"


async def test_json_reply_without_script_is_flagged(llm: OpenAIStandIn, client: openai.AsyncOpenAI) -> None:
    """Asking for JSON with nothing queued is a test-setup mistake: 500 plus a note in ``errors``."""
    with pytest.raises(openai.InternalServerError, match="no response was queued"):
        await client.chat.completions.parse(model=MODEL, messages=_ask(), response_format=Answer)
    assert len(llm.errors) == 1


async def test_missing_api_key_is_401(llm: OpenAIStandIn) -> None:
    """A request without a bearer key is rejected as the API does."""
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{llm.base_url}/chat/completions", json={"model": MODEL, "messages": _ask()}) as resp:
            assert resp.status == 401
            assert (await resp.json())["error"]["type"] == "invalid_request_error"


# --------------------------------------------------------------------- embeddings
async def test_embeddings_default_base64_is_decoded(llm: OpenAIStandIn, client: openai.AsyncOpenAI) -> None:
    """The client asks for base64 by default and decodes it into the deterministic vectors."""
    result = await client.embeddings.create(model="text-embedding-3-small", input=["reset vpn token", "lunch menu"])
    assert llm.requests[-1].body["encoding_format"] == "base64"
    for item, text in zip(result.data, ["reset vpn token", "lunch menu"]):
        assert list(item.embedding) == pytest.approx(embed_text(text, dimensions=64), abs=1e-6)
    assert result.usage.prompt_tokens == 5


async def test_embeddings_explicit_base64_and_float(client: openai.AsyncOpenAI) -> None:
    """Explicit base64 is little-endian float32; float matches; similar texts are closer."""
    raw = await client.embeddings.create(model="text-embedding-3-small", input="vpn token", encoding_format="base64")
    encoded = raw.data[0].embedding
    decoded = struct.unpack(f"<{len(base64.b64decode(encoded)) // 4}f", base64.b64decode(encoded))
    floats = await client.embeddings.create(
        model="text-embedding-3-small", input=["vpn token", "reset my vpn token", "lunch"],
        encoding_format="float", dimensions=32,
    )
    assert list(decoded) == pytest.approx(embed_text("vpn token", dimensions=64), abs=1e-6)
    query, near, far = (item.embedding for item in floats.data)
    assert len(query) == 32

    def dot(a: list[float], b: list[float]) -> float:
        return sum(x * y for x, y in zip(a, b))

    assert dot(query, near) > dot(query, far)


async def test_unknown_endpoint_is_404(llm: OpenAIStandIn, client: openai.AsyncOpenAI) -> None:
    """Endpoints the stand-in lacks answer 404 with an OpenAI error body, and are recorded."""
    with pytest.raises(openai.NotFoundError, match="Invalid URL"):
        await client.post("/responses", cast_to=object, body={"model": MODEL, "input": "hi"})
    assert llm.requests[-1].status == 404
