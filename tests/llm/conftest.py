"""Fixtures for the LLM path: a threaded stand-in, the real client pointed at it, the engine."""

from __future__ import annotations

import pytest

from bot.llm.client import LLMClient
from bot.llm.config import LLMConfig
from bot.llm.engine import LLMEngine

from .fakes import offline_engine
from .threaded import ThreadedStandIn

MODEL = "gpt-4o-mini"


class SleepRecorder:
    """Stands in for ``time.sleep`` in tenacity: records the waits, returns at once."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture(scope="session")
def _standin_server():
    with ThreadedStandIn(expected_model=MODEL, expected_api_key="sk-test-secret") as standin:
        yield standin


@pytest.fixture
def llm(_standin_server):
    """The running stand-in, reset for each test (requests, queue, faults, responder)."""
    _standin_server.reset()
    _standin_server.set_responder(None)
    yield _standin_server
    _standin_server.reset()
    _standin_server.set_responder(None)


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


@pytest.fixture
def make_client(llm, sleeps):
    """The real client (``openai.OpenAI`` inside) aimed at the stand-in, fast to time out."""

    def build(**overrides) -> LLMClient:
        options = dict(model=MODEL, api_key="sk-test-secret", base_url=llm.base_url, timeout=1.0, max_attempts=3, retry_after_cap=5.0, sleep=sleeps)
        options.update(overrides)
        return LLMClient(**options)

    return build


@pytest.fixture
def make_engine(make_client):
    """An LLM engine around the real offline engine (fast fakes for intents and search)."""

    def build(*, client_options: dict | None = None, store=None, budget=None, **config) -> LLMEngine:
        return LLMEngine(offline=offline_engine(), client=make_client(**(client_options or {})), config=LLMConfig(**config), usage_store=store, budget=budget)

    return build
