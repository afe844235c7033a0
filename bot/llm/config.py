"""The LLM path's knobs, read from :class:`bot.settings.Settings` with safe defaults.

Settings that do not exist yet in ``bot/settings.py`` are read with ``getattr`` and a default,
so this package works before and after they are added (see docs/llm.md for each one). No
secret is kept here: the API key goes straight from the settings into the client.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["LLMConfig", "client_options"]


@dataclass(frozen=True, slots=True)
class LLMConfig:
    """What the LLM engine needs besides the client: model, budget, redaction and prompt sizes."""

    model: str = "gpt-4o-mini"
    daily_token_budget: int = 2_000_000
    redact: bool = True
    passages: int = 3
    passage_chars: int = 400
    handoff_drafts: bool = True
    max_output_tokens: int = 450
    history_turns: int = 4

    @classmethod
    def from_settings(cls, settings: Any) -> "LLMConfig":
        """The configuration for ``settings`` (unknown settings fall back to the defaults)."""
        default = cls()
        return cls(
            model=getattr(settings, "llm_model", default.model),
            daily_token_budget=int(getattr(settings, "llm_daily_token_budget", default.daily_token_budget)),
            redact=bool(getattr(settings, "llm_redact_personal_data", default.redact)),
            passages=int(getattr(settings, "llm_passages", default.passages)),
            passage_chars=int(getattr(settings, "llm_passage_chars", default.passage_chars)),
            handoff_drafts=bool(getattr(settings, "llm_handoff_drafts", default.handoff_drafts)),
            max_output_tokens=int(getattr(settings, "llm_max_output_tokens", default.max_output_tokens)),
        )


def client_options(settings: Any) -> dict[str, Any]:
    """Keyword arguments for :class:`bot.llm.client.LLMClient`, the secret unwrapped only here."""
    key = getattr(settings, "openai_api_key", None)
    return {
        "model": getattr(settings, "llm_model", LLMConfig().model),
        "api_key": key.get_secret_value() if key is not None else None,
        "base_url": getattr(settings, "openai_base_url", None),
        "api_version": getattr(settings, "llm_api_version", None),
        "timeout": float(getattr(settings, "llm_timeout_seconds", 20.0)),
        "max_attempts": int(getattr(settings, "llm_max_attempts", 3)),
        "retry_after_cap": float(getattr(settings, "llm_retry_after_cap_seconds", 10.0)),
    }
