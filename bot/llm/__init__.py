"""The LLM path: one OpenAI-compatible call per customer message at most, checked by the bot.

Wire it with :func:`wrap_engine` (returns the offline engine unchanged when no endpoint is
configured). Only :mod:`bot.llm.client` imports ``openai``. See docs/llm.md.
"""

from bot.llm.client import LLMClient, LLMUnavailable
from bot.llm.config import LLMConfig
from bot.llm.engine import LLMEngine, wrap_engine

__all__ = ["LLMClient", "LLMConfig", "LLMEngine", "LLMUnavailable", "wrap_engine"]
