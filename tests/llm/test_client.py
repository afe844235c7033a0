"""LLMClient against the stand-in with the real ``openai`` client: request shape and failures."""

from __future__ import annotations

import json
import logging
import time

import pytest

from bot.llm.client import LLMUnavailable, retry_after_seconds
from bot.llm.triage import handoff_schema, parse_reply
from standins.openai_server import MALFORMED_CONTENT

from .fakes import sample_rules
from .model_replies import handoff

MODEL = "gpt-4o-mini"


def settle(llm, *, requests: int, timeout: float = 5.0) -> None:
    """Wait until the stand-in has finished (and recorded) delayed requests the client gave up on,
    so they cannot take a reply queued by the next test."""
    deadline = time.monotonic() + timeout
    while len(llm.chat_requests) < requests and time.monotonic() < deadline:
        time.sleep(0.05)


def _complete(client, **overrides):
    options = dict(system="You are a test.", user="<customer_message>hi</customer_message>", schema_name="baton_handoff",
                   schema=handoff_schema(), parse=lambda text: parse_reply(text, rules=sample_rules()), max_tokens=300)
    options.update(overrides)
    return client.complete(**options)


def test_request_shape_is_a_strict_structured_call(llm, make_client) -> None:
    llm.queue_response(content=handoff(summary="ok"))
    completion = _complete(make_client())
    body = llm.chat_requests[0].body
    assert body["model"] == MODEL and body["temperature"] == 0 and body["max_completion_tokens"] == 300
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    spec = body["response_format"]
    assert spec["type"] == "json_schema" and spec["json_schema"]["strict"] is True and spec["json_schema"]["name"] == "baton_handoff"
    assert spec["json_schema"]["schema"]["additionalProperties"] is False
    assert llm.chat_requests[0].headers["Authorization"] == "Bearer sk-test-secret"
    assert completion.data.summary == "ok" and completion.attempts == 1
    assert completion.tokens == llm.usage["total_tokens"] > 0


def test_429_honours_retry_after_then_succeeds(llm, make_client, sleeps) -> None:
    llm.fail_next(status=429, retry_after=2)
    llm.queue_response(content=handoff(summary="after the wait"))
    completion = _complete(make_client())
    assert completion.data.summary == "after the wait" and completion.attempts == 2
    assert sleeps.waits == [2.0]
    assert [r.status for r in llm.chat_requests] == [429, 200]


def test_retry_after_beyond_the_cap_gives_up_at_once(llm, make_client, sleeps) -> None:
    llm.fail_next(status=429, retry_after=60)
    with pytest.raises(LLMUnavailable) as failure:
        _complete(make_client(retry_after_cap=5.0))
    assert failure.value.attempts == 1 and sleeps.waits == []
    assert len(llm.chat_requests) == 1


@pytest.mark.parametrize("status", [500, 503])
def test_server_errors_are_retried_a_bounded_number_of_times(llm, make_client, sleeps, status) -> None:
    llm.fail_next(status=status, times=5)
    with pytest.raises(LLMUnavailable) as failure:
        _complete(make_client(max_attempts=3))
    assert len(llm.chat_requests) == 3, "tenacity is the only retry layer: 3 attempts, not 3 x 3"
    assert failure.value.attempts == 3 and len(sleeps.waits) == 2 and failure.value.tokens == 0


def test_5xx_then_success(llm, make_client) -> None:
    llm.fail_next(status=500, times=2)
    llm.queue_response(content=handoff(summary="third time"))
    assert _complete(make_client()).data.summary == "third time"
    assert [r.status for r in llm.chat_requests] == [500, 500, 200]


def test_timeout_is_retried(llm, make_client) -> None:
    llm.fail_next(delay=1.5)
    llm.queue_response(content=handoff(summary="in time"))
    completion = _complete(make_client(timeout=0.5))
    assert completion.data.summary == "in time" and completion.attempts == 2
    settle(llm, requests=2)


def test_timeouts_exhaust_the_attempts(llm, make_client) -> None:
    llm.fail_next(delay=1.5, times=2)
    with pytest.raises(LLMUnavailable) as failure:
        _complete(make_client(timeout=0.3, max_attempts=2))
    assert failure.value.reason.startswith("APITimeoutError") and failure.value.attempts == 2
    settle(llm, requests=2)


def test_malformed_json_is_retried_and_its_tokens_counted(llm, make_client) -> None:
    llm.fail_next(malformed=True)
    llm.queue_response(content=handoff(summary="valid now"))
    completion = _complete(make_client())
    assert completion.attempts == 2 and completion.data.summary == "valid now"
    assert completion.tokens == llm.usage["total_tokens"], "the malformed attempt's tokens count too"


def test_malformed_every_time_reports_tokens(llm, make_client) -> None:
    llm.fail_next(malformed=True, times=3)
    with pytest.raises(LLMUnavailable) as failure:
        _complete(make_client())
    assert failure.value.reason == "malformed" and failure.value.tokens == llm.usage["total_tokens"] > 0


def test_wrong_shape_json_is_malformed(llm, make_client) -> None:
    llm.queue_response(content=json.dumps(["not", "an", "object"]))
    llm.queue_response(content=handoff(summary="fine"))
    assert _complete(make_client()).attempts == 2


def test_cut_off_reply_is_malformed(llm, make_client) -> None:
    llm.queue_response(content=handoff(summary="cut"), finish_reason="length")
    llm.queue_response(content=handoff(summary="whole"))
    assert _complete(make_client()).data.summary == "whole"


def test_refusal_is_not_retried(llm, make_client) -> None:
    llm.queue_response(refusal="I can't help with that.")
    with pytest.raises(LLMUnavailable) as failure:
        _complete(make_client())
    assert failure.value.reason == "refusal" and len(llm.chat_requests) == 1


def test_client_errors_are_not_retried_and_secrets_not_logged(llm, make_client, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(LLMUnavailable) as failure:
        _complete(make_client(api_key="sk-wrong-key-123456"))
    assert len(llm.chat_requests) == 1 and "401" in failure.value.reason
    assert "sk-wrong-key-123456" not in caplog.text and "sk-test-secret" not in caplog.text


def test_wrong_model_is_a_client_error(llm, make_client) -> None:
    with pytest.raises(LLMUnavailable) as failure:
        _complete(make_client(model="gpt-unknown"))
    assert "404" in failure.value.reason and len(llm.chat_requests) == 1


class _Response:
    def __init__(self, headers: dict) -> None:
        self.headers = headers


class _Error(Exception):
    def __init__(self, headers: dict) -> None:
        self.response = _Response(headers)


def test_retry_after_header_forms() -> None:
    assert retry_after_seconds(_Error({"retry-after-ms": "1500"})) == 1.5
    assert retry_after_seconds(_Error({"retry-after": "3"})) == 3.0
    assert 0 <= retry_after_seconds(_Error({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"})) == 0.0
    assert retry_after_seconds(_Error({})) is None and retry_after_seconds(ValueError()) is None


def test_malformed_constant_is_not_json() -> None:
    with pytest.raises(ValueError):
        json.loads(MALFORMED_CONTENT)


def test_no_retry_starts_after_the_deadline(llm, make_client) -> None:
    llm.fail_next(delay=1.0, times=5)
    with pytest.raises(LLMUnavailable) as failure:
        _complete(make_client(timeout=0.3, max_attempts=5))
    assert failure.value.attempts == 2, "1.5 x the timeout has passed after two slow attempts"
    settle(llm, requests=2)
