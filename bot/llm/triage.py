"""The structured reply: its strict JSON schemas, its parser, and the triggers it raises.

One schema per call kind. The triage schema asks for everything at once (category, policy type,
sentiment, anger, refund dispute, churn, a request for a person, an injection flag, the grounded
answer with citations, a summary and a draft), so a customer message costs at most one call. The
handoff schema drops category and answer: the case already goes to a person.

Strict mode makes OpenAI and Azure return exactly this shape; local servers may not enforce it,
so :func:`parse_reply` validates again and coerces unknown enum values to "none" (a retry would
most likely get the same value back).
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator

from bot.detectors import DEFAULT_SENTIMENT_THRESHOLD
from bot.llm.injection import injection_trigger
from bot.rules import POLICY_TYPES, VALUE_POLICIES, Rules
from bot.types import Reason, Trigger

__all__ = ["LLMReply", "handoff_schema", "llm_triggers", "parse_reply", "triage_schema"]

TEXT_LIMITS = {"answer": 1500, "summary": 500, "draft": 1000}
STRONG_NEGATIVE = -0.6
_EVIDENCE = "flagged by the language model"


class LLMReply(BaseModel):
    """What the model said; fields a schema does not ask for keep their defaults."""

    model_config = ConfigDict(extra="ignore")

    category: str = "none"
    policy_type: str = "none"
    sentiment: float = 0.0
    angry: bool = False
    refund_dispute: bool = False
    churn: bool = False
    wants_human: bool = False
    prompt_injection: bool = False
    answer: str = ""
    citations: list[str] = []
    summary: str = ""
    draft: str = ""

    @field_validator("category")
    @classmethod
    def _known_category(cls, value: str, info: ValidationInfo) -> str:
        allowed = (info.context or {}).get("categories", ())
        return value if value in allowed else "none"

    @field_validator("policy_type")
    @classmethod
    def _known_policy(cls, value: str) -> str:
        return value if value in POLICY_TYPES else "none"

    @field_validator("sentiment")
    @classmethod
    def _clamp(cls, value: float) -> float:
        return max(-1.0, min(1.0, value))

    @field_validator("answer", "summary", "draft")
    @classmethod
    def _trim(cls, value: str, info: ValidationInfo) -> str:
        return value.strip()[: TEXT_LIMITS[info.field_name]]


def _string(enum: list[str] | None = None) -> dict[str, Any]:
    return {"type": "string", "enum": enum} if enum else {"type": "string"}


def _signal_properties() -> dict[str, Any]:
    flags = ("angry", "refund_dispute", "churn", "wants_human", "prompt_injection")
    return {"policy_type": _string([*POLICY_TYPES, "none"]), "sentiment": {"type": "number"}, **{f: {"type": "boolean"} for f in flags}}


def _object(properties: dict[str, Any]) -> dict[str, Any]:
    """A strict object: closed, and every property required (what strict mode demands)."""
    return {"type": "object", "properties": properties, "required": list(properties), "additionalProperties": False}


def triage_schema(*, rules: Rules) -> dict[str, Any]:
    """Category enum from the rules, the signals, the grounded answer, summary and draft."""
    categories = [c.name for c in rules.categories] + ["none"]
    properties = {"category": _string(categories), **_signal_properties(), "answer": _string(),
                  "citations": {"type": "array", "items": _string()}, "summary": _string(), "draft": _string()}
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
    triggers = [_policy_trigger(reply.policy_type)] if reply.policy_type != "none" else []
    if reply.refund_dispute:
        triggers.append(Trigger(Reason.HIGH_VALUE, "customer wants money back (language model)", (_EVIDENCE,), None, "refund_dispute"))
    if reply.churn:
        triggers.append(Trigger(Reason.HIGH_VALUE, "customer wants to cancel or leave (language model)", (_EVIDENCE,), None, "churn"))
    if reply.wants_human:
        triggers.append(Trigger(Reason.HUMAN_REQUESTED, "customer asked for a person (language model)", (_EVIDENCE,), None, "human_requested"))
    if reply.angry or reply.sentiment <= _anger_bar(rules):
        triggers.append(Trigger(Reason.EMOTIONAL, "customer is upset (language model)", (f"model sentiment {reply.sentiment:+.2f}",), -reply.sentiment, "anger"))
    if reply.prompt_injection:
        triggers.append(injection_trigger(detail="the language model flagged a prompt-injection attempt", evidence=(_EVIDENCE,)))
    return triggers


def _policy_trigger(policy: str) -> Trigger:
    reason = Reason.HIGH_VALUE if policy in VALUE_POLICIES else Reason.POLICY_RISK
    return Trigger(reason, f"{policy.replace('_', ' ')} matter (language model)", (_EVIDENCE,), None, policy)


def _anger_bar(rules: Rules) -> float:
    """Strongly negative model sentiment counts as anger even without the ``angry`` flag."""
    threshold = rules.thresholds.sentiment if rules.thresholds.sentiment is not None else DEFAULT_SENTIMENT_THRESHOLD
    return min(threshold, STRONG_NEGATIVE)
