"""The LLM engine inside the real core: the dialogue answers through it and the tokens are kept.

This is the wiring the lead adds to ``bot/app.py`` (``wrap_engine`` around ``build_models``),
done here by hand on a built core, so it is proven before it lands.
"""

from __future__ import annotations

import asyncio

from bot.llm import LLMEngine, wrap_engine
from bot.types import ConversationRef, InboundMessage, Person

from .model_replies import grounded


def test_the_dialogue_answers_through_the_llm_engine_and_keeps_the_tokens(core, llm, make_settings) -> None:
    settings = make_settings(openai_base_url=llm.base_url, openai_api_key="sk-test-secret", llm_model="gpt-4o-mini")
    engine = wrap_engine(offline=core.engine, settings=settings, store=core.store)
    assert isinstance(engine, LLMEngine)
    core.dialogue.engine = engine
    llm.set_responder(grounded)
    ref = ConversationRef(platform="test", channel="C1", thread="t-llm")
    message = InboundMessage(event_id="ev-llm-1", ref=ref, author=Person(platform_id="U1", display_name="Ann"), text="How do I export my expenses to CSV?")
    result = asyncio.run(core.dialogue.handle(message))
    assert result.decision is not None and result.decision.engine == "llm" and len(llm.chat_requests) == 1
    saved = core.store.decisions(conversation_id=ref.key)[-1]
    assert saved.engine == "llm" and saved.tokens == result.decision.tokens == llm.usage["total_tokens"] > 0
    assert core.store.conversation(conversation_id=ref.key).tokens == saved.tokens
    assert engine.budget.used == saved.tokens
