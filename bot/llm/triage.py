"""The structured reply: its strict JSON schemas, its parser, and the triggers it raises.

One schema per call kind. The triage schema asks for everything at once: category, ``flags``
(anger, a request for a person, an injection attempt, and the policy types, refund disputes
and churn included), sentiment, the grounded answer with citations, and for handoffs a summary
and a draft, so a customer message costs at most one call. The handoff schema drops category
and answer: the case already goes to a person. The signals are one list of flags rather than
a boolean each because an empty list costs a few tokens and a dozen ``false`` values do not.

Strict mode makes OpenAI and Azure return exactly this shape; local servers may not enforce it,
so :func:`parse_reply` validates again, drops unknown flags and turns an unknown category into
"none" (a retry would most likely get the same value back).
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator

from bot.detectors import DEFAULT_SENTIMENT_THRESHOLD
from bot.llm.injection import injection_trigger
from bot.rules import POLICY_TYPES, VALUE_POLICIES, Rules
from bot.types import Reason, Trigger

__all__ = ["FLAGS", "LLMReply", "handoff_schema", "llm_triggers", "parse_reply", "triage_schema"]

FLAGS = ("angry", "wants_human", "prompt_injection", *POLICY_TYPES)
TEXT_LIMITS = {"answer": 1500, "translation": 1500, "summary": 500, "draft": 1000}
STRONG_NEGATIVE = -0.6
_EVIDENCE = "flagged by the language model"
_VALUE_DETAIL = {"refund_dispute": "customer wants money back", "churn": "customer wants to cancel or leave"}


class LLMReply(BaseModel):
    """What the model said; fields a schema does not ask for keep their defaults."""

    model_config = ConfigDict(extra="ignore")

    category: str = "none"
    flags: list[str] = []
    sentiment: float = 0.0
    answer: str = ""
    translation: str = ""  # the answer in the customer's language (asked for only under languages.multilingual)
    citations: list[str] = []
    summary: str = ""
    draft: str = ""

    @field_validator("category")
    @classmethod
    def _known_category(cls, value: str, info: ValidationInfo) -> str:
        allowed = (info.context or {}).get("categories", ())
        return value if value in allowed else "none"

    @field_validator("flags")
    @classmethod
    def _known_flags(cls, value: list[str]) -> list[str]:
        return [f for f in dict.fromkeys(value) if f in FLAGS]

    @field_validator("sentiment")
    @classmethod
    def _clamp(cls, value: float) -> float:
        return max(-1.0, min(1.0, value))

    @field_validator("answer", "translation", "summary", "draft")
    @classmethod
    def _trim(cls, value: str, info: ValidationInfo) -> str:
        return value.strip()[: TEXT_LIMITS[info.field_name]]


def _string(enum: list[str] | None = None) -> dict[str, Any]:
    return {"type": "string", "enum": enum} if enum else {"type": "string"}


def _signal_properties() -> dict[str, Any]:
    return {"flags": {"type": "array", "items": _string(list(FLAGS))}, "sentiment": {"type": "number"}}


def _object(properties: dict[str, Any]) -> dict[str, Any]:
    """A strict object: closed, and every property required (what strict mode demands)."""
    return {"type": "object", "properties": properties, "required": list(properties), "additionalProperties": False}


def triage_schema(*, rules: Rules) -> dict[str, Any]:
    """Category enum from the rules, the signals, the grounded answer, summary and draft."""
    categories = [c.name for c in rules.categories] + ["none"]
    properties = {"category": _string(categories), **_signal_properties(), "answer": _string(),
                  "citations": {"type": "array", "items": _string()}, "summary": _string(), "draft": _string()}
    if rules.languages.multilingual:
        properties["translation"] = _string()
    return _object(properties)


def handoff_schema() -> dict[str, Any]:
    """The signals, a summary and a draft (no category, no answer)."""
    return _object({**_signal_properties(), "summary": _string(), "draft": _string()})


def parse_reply(content: str, *, rules: Rules) -> LLMReply:
    """Validate the model's JSON text; raises ValueError (then retried) when it is not an object."""
    data = json.loads(content)
    if not isinstance(data, dict):
        raise ValueError("the reply is not a JSON object")
    return LLMReply.model_validate(data, context={"categories": {c.name for c in rules.categories}})


def llm_triggers(*, reply: LLMReply, rules: Rules) -> list[Trigger]:
    """The escalation signals the model raised, as triggers an agent can read."""
    triggers = [_policy_trigger(flag) for flag in reply.flags if flag in POLICY_TYPES]
    if "wants_human" in reply.flags:
        triggers.append(Trigger(Reason.HUMAN_REQUESTED, "customer asked for a person (language model)", (_EVIDENCE,), None, "human_requested"))
    if "angry" in reply.flags or reply.sentiment <= _anger_bar(rules):
        triggers.append(Trigger(Reason.EMOTIONAL, "customer is upset (language model)", (f"model sentiment {reply.sentiment:+.2f}",), -reply.sentiment, "anger"))
    if "prompt_injection" in reply.flags:
        triggers.append(injection_trigger(detail="the language model flagged a prompt-injection attempt", evidence=(_EVIDENCE,)))
    return triggers


def _policy_trigger(policy: str) -> Trigger:
    reason = Reason.HIGH_VALUE if policy in VALUE_POLICIES else Reason.POLICY_RISK
    detail = _VALUE_DETAIL.get(policy, f"{policy.replace('_', ' ')} matter")
    return Trigger(reason, f"{detail} (language model)", (_EVIDENCE,), None, policy)


def _anger_bar(rules: Rules) -> float:
    """Strongly negative model sentiment counts as anger even without the ``angry`` flag."""
    threshold = rules.thresholds.sentiment if rules.thresholds.sentiment is not None else DEFAULT_SENTIMENT_THRESHOLD
    return min(threshold, STRONG_NEGATIVE)
