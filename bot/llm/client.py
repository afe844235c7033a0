"""The only module that imports ``openai``: one structured chat call, with bounded retries.

Exactly one retry layer (design lesson 6): the ``openai`` client is built with
``max_retries=0`` and tenacity owns every retry. Timeouts, connection errors, 429 and 5xx
answers and malformed JSON are retried, ``max_attempts`` in all, and no retry starts once
1.5 times the per-attempt timeout has passed (a customer is waiting); a ``Retry-After``
(or ``retry-after-ms``) header is honoured, and when it asks for longer than
``retry_after_cap`` seconds we stop at once instead of waiting (the bot then falls back to the
offline engine, which is better for the customer than a long silence). Refusals are not
retried: at temperature 0 the same prompt is refused again, so a retry only costs tokens.

Tokens of every attempt that got an answer (malformed ones too) are counted, so the budget
sees what was really spent. Nothing here logs a key, a prompt or a customer's text.
"""

from __future__ import annotations

import email.utils
import logging
import time
from dataclasses import dataclass
from typing import Any, Callable

import openai
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, stop_after_delay, wait_random_exponential

log = logging.getLogger(__name__)

__all__ = ["Completion", "LLMClient", "LLMUnavailable", "MalformedReply", "Refused"]

DEADLINE_FACTOR = 1.5  # no retry once 1.5 x the per-attempt timeout has passed since the first attempt
PLACEHOLDER_KEY = "not-needed"  # local servers (Ollama, vLLM) ignore the key but the client wants one


class MalformedReply(Exception):
    """The model answered, but not with JSON that fits the schema (retried)."""


class Refused(Exception):
    """The model refused to answer (not retried)."""


class LLMUnavailable(Exception):
    """No usable answer after the retries; ``tokens`` were still spent and must be counted."""

    def __init__(self, *, reason: str, tokens: int = 0, attempts: int = 0) -> None:
        super().__init__(reason)
        self.reason, self.tokens, self.attempts = reason, tokens, attempts


@dataclass(frozen=True, slots=True)
class Completion:
    """A parsed structured answer and what it cost, summed over all attempts."""

    data: Any
    prompt_tokens: int
    completion_tokens: int
    attempts: int

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(slots=True)
class _Spend:
    """Tokens and attempts of one ``complete`` call, across its retries."""

    prompt: int = 0
    completion: int = 0
    attempts: int = 0

    def add(self, usage: Any) -> None:
        if usage is not None:
            self.prompt += int(getattr(usage, "prompt_tokens", 0) or 0)
            self.completion += int(getattr(usage, "completion_tokens", 0) or 0)


def _retryable(exc: BaseException) -> bool:
    """Transient failures: timeouts, connection errors, 408/409/429, 5xx, malformed replies."""
    if isinstance(exc, (openai.APIConnectionError, MalformedReply)):  # APITimeoutError included
        return True
    if isinstance(exc, openai.APIStatusError):
        return exc.status_code in (408, 409, 429) or exc.status_code >= 500
    return False


def retry_after_seconds(exc: BaseException | None) -> float | None:
    """The wait a 429/503 asks for, from ``retry-after-ms`` or ``retry-after`` (seconds or date)."""
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if not headers:
        return None
    if (millis := headers.get("retry-after-ms")) is not None:
        return _number(millis, scale=1000.0)
    value = headers.get("retry-after")
    if value is None:
        return None
    seconds = _number(value, scale=1.0)
    return seconds if seconds is not None else _date_delay(value)


def _number(text: str, *, scale: float) -> float | None:
    try:
        return max(0.0, float(text) / scale)
    except ValueError:
        return None


def _date_delay(text: str) -> float | None:
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _describe(exc: BaseException) -> str:
    """A log-safe reason: the error class and status, never the message (it may echo a key)."""
    status = getattr(exc, "status_code", None)
    name = {Refused: "refusal", MalformedReply: "malformed"}.get(type(exc), type(exc).__name__)
    return f"{name} {status}" if status else name


class LLMClient:
    """A small, synchronous structured-output client over the official ``openai`` package."""

    def __init__(self, *, model: str, api_key: str | None = None, base_url: str | None = None, api_version: str | None = None, timeout: float = 20.0, max_attempts: int = 3, retry_after_cap: float = 10.0, sleep: Callable[[float], None] = time.sleep) -> None:
        self.model = model
        self.max_attempts = max(1, max_attempts)
        self.retry_after_cap = retry_after_cap
        self.deadline = DEADLINE_FACTOR * timeout
        self._sleep = sleep
        self._api = _make_api(api_key=api_key, base_url=base_url, api_version=api_version, timeout=timeout)

    def complete(self, *, system: str, user: str, schema_name: str, schema: dict, parse: Callable[[str], Any], max_tokens: int = 600) -> Completion:
        """One structured answer, parsed by ``parse``; raises :class:`LLMUnavailable` when none came."""
        spend = _Spend()
        request = {"system": system, "user": user, "schema_name": schema_name, "schema": schema, "max_tokens": max_tokens}
        try:
            data = self._retrying()(self._attempt, request=request, parse=parse, spend=spend)
        except Exception as exc:  # every failure ends here: the caller falls back
            log.warning("llm call failed after %d attempt(s): %s", spend.attempts, _describe(exc))
            raise LLMUnavailable(reason=_describe(exc), tokens=spend.prompt + spend.completion, attempts=spend.attempts) from None
        return Completion(data=data, prompt_tokens=spend.prompt, completion_tokens=spend.completion, attempts=spend.attempts)

    def close(self) -> None:
        """Release the HTTP connection pool."""
        self._api.close()

    # --- retries ---------------------------------------------------------------------------

    def _retrying(self) -> Retrying:
        return Retrying(
            stop=stop_after_attempt(self.max_attempts) | stop_after_delay(self.deadline) | self._retry_after_too_long,
            wait=self._wait,
            retry=retry_if_exception(_retryable),
            sleep=self._sleep,
            reraise=True,
            before_sleep=lambda state: log.info("llm attempt %d failed (%s); retrying", state.attempt_number, _describe(state.outcome.exception())),
        )

    def _retry_after_too_long(self, state: RetryCallState) -> bool:
        """Stop when the server asks us to wait longer than we are willing to."""
        delay = retry_after_seconds(state.outcome.exception() if state.outcome else None)
        return delay is not None and delay > self.retry_after_cap

    def _wait(self, state: RetryCallState) -> float:
        """``Retry-After`` when the server gave one, else jittered exponential backoff."""
        delay = retry_after_seconds(state.outcome.exception() if state.outcome else None)
        if delay is not None:
            return min(delay, self.retry_after_cap)
        return wait_random_exponential(multiplier=0.5, max=4.0)(state)

    # --- one attempt -----------------------------------------------------------------------

    def _attempt(self, *, request: dict, parse: Callable[[str], Any], spend: _Spend) -> Any:
        spend.attempts += 1
        response = self._api.chat.completions.create(
            model=self.model,
            messages=[{"role": "system", "content": request["system"]}, {"role": "user", "content": request["user"]}],
            response_format={"type": "json_schema", "json_schema": {"name": request["schema_name"], "strict": True, "schema": request["schema"]}},
            temperature=0,
            max_completion_tokens=request["max_tokens"],
        )
        spend.add(response.usage)
        return _parse_choice(response, parse=parse)


def _parse_choice(response: Any, *, parse: Callable[[str], Any]) -> Any:
    """The first choice parsed; refusals and cut-off or invalid JSON raise."""
    if not response.choices:
        raise MalformedReply("no choices")
    choice = response.choices[0]
    if getattr(choice.message, "refusal", None):
        raise Refused("the model refused")
    if choice.finish_reason == "length":
        raise MalformedReply("cut off at the token limit")
    if not choice.message.content:
        raise MalformedReply("empty content")
    try:
        return parse(choice.message.content)
    except ValueError as exc:  # json.JSONDecodeError and pydantic.ValidationError are ValueErrors
        raise MalformedReply(type(exc).__name__) from None


def _make_api(*, api_key: str | None, base_url: str | None, api_version: str | None, timeout: float) -> Any:
    """``AzureOpenAI`` when an API version is given (Azure needs one), otherwise ``OpenAI``."""
    key = api_key or PLACEHOLDER_KEY
    if api_version:
        return openai.AzureOpenAI(azure_endpoint=base_url, api_version=api_version, api_key=key, timeout=timeout, max_retries=0)
    return openai.OpenAI(api_key=key, base_url=base_url or None, timeout=timeout, max_retries=0)
