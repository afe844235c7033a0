"""Platform-neutral types shared by the core and every adapter.

Adapters translate platform payloads into these types and back; the core never sees a Slack or
Teams object. Platform detail that must survive a round trip (a Slack team id, a Teams service
URL) travels opaque in ``ConversationRef.native``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import StrEnum
from typing import Any


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(timezone.utc)


class Reason(StrEnum):
    """Why a conversation was handed to a person (names as in the evaluation format)."""

    LOW_CONFIDENCE = "low_confidence"
    POLICY_RISK = "policy_risk"
    HIGH_VALUE = "high_value"
    EMOTIONAL = "emotional"
    HUMAN_REQUESTED = "human_requested"


class Action(StrEnum):
    """What the core decided to do with a customer message."""

    ANSWER = "answer"
    ESCALATE = "escalate"


class Automation(StrEnum):
    """Automation level of a ticket category, set by the team."""

    AI_ANSWER = "ai_answer"
    AI_DRAFT = "ai_draft"
    AI_ROUTE = "ai_route"
    HUMAN_ONLY = "human_only"


class Role(StrEnum):
    """Who wrote a turn of a conversation."""

    CUSTOMER = "customer"
    AGENT = "agent"
    BOT = "bot"


@dataclass(frozen=True, slots=True)
class Person:
    """An author as the platform knows them, plus what the rules say about their organisation."""

    platform_id: str
    display_name: str = ""
    organisation: str | None = None
    external: bool = False
    email: str | None = None


@dataclass(frozen=True, slots=True)
class ConversationRef:
    """Where a conversation lives: platform, channel and thread, with opaque native data."""

    platform: str
    channel: str
    thread: str | None = None
    native: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    @property
    def key(self) -> str:
        """A stable identifier of the conversation across messages."""
        return f"{self.platform}:{self.channel}:{self.thread or '-'}"


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """One customer message, as received from any adapter."""

    event_id: str
    ref: ConversationRef
    author: Person
    text: str
    sent_at: datetime = field(default_factory=utcnow)
    message_id: str | None = None
    delivery: str | None = None  # the durable inbox item carrying it: a recovered turn resumes, not skips


@dataclass(frozen=True, slots=True)
class Turn:
    """One earlier message of a conversation."""

    role: Role
    text: str
    author: str = ""
    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Conversation:
    """What the decision engine sees: the newest customer text plus the history before it."""

    text: str
    history: tuple[Turn, ...] = ()
    author: Person | None = None
    ref: ConversationRef | None = None

    def customer_turns(self) -> list[str]:
        """Earlier customer texts, oldest first."""
        return [t.text for t in self.history if t.role == Role.CUSTOMER]


@dataclass(frozen=True, slots=True)
class Source:
    """A knowledge-base passage cited by an answer or retrieved for a handoff."""

    doc_id: str
    title: str
    anchor: str
    url: str | None
    score: float
    passage_id: str = ""
    snippet: str = ""


@dataclass(frozen=True, slots=True)
class Trigger:
    """One escalation reason that fired, with its evidence in words and figures."""

    reason: Reason
    detail: str
    evidence: tuple[str, ...] = ()
    score: float | None = None
    kind: str | None = None


@dataclass(frozen=True, slots=True)
class CategoryGuess:
    """The ticket category the engine matched, with calibrated confidence."""

    name: str | None
    confidence: float
    runner_up: str | None = None
    runner_up_confidence: float = 0.0


@dataclass(slots=True)
class Decision:
    """The engine's verdict on one conversation: answer (with sources) or escalate (with triggers)."""

    action: Action
    triggers: list[Trigger] = field(default_factory=list)
    category: CategoryGuess = field(default_factory=lambda: CategoryGuess(None, 0.0))
    automation: Automation = Automation.AI_ANSWER
    answer: str | None = None
    sources: list[Source] = field(default_factory=list)
    missing_knowledge: bool = False
    summary: str = ""
    intent: str = ""
    suggested_reply: str = ""
    internal_action: str = ""
    priority: str = "normal"
    queue: str = "support"
    sla_first_response_minutes: int | None = None
    sla_resolution_minutes: int | None = None
    confidence: float = 0.0
    scores: dict[str, float] = field(default_factory=dict)
    tier: str | None = None
    language: str | None = None  # the customer's language, set only when the knowledge base is not written in it
    rules_version: str = ""
    engine: str = "offline"
    latency_ms: float = 0.0
    tokens: int = 0

    @property
    def reasons(self) -> list[Reason]:
        """Each distinct reason that fired, in the order found."""
        seen: list[Reason] = []
        for trigger in self.triggers:
            if trigger.reason not in seen:
                seen.append(trigger.reason)
        return seen

    @property
    def escalated(self) -> bool:
        return self.action == Action.ESCALATE

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view, used by `baton ask --json`, the audit trail and the sandbox."""
        return {
            "action": self.action.value,
            "reasons": [r.value for r in self.reasons],
            "triggers": [_trigger_dict(t) for t in self.triggers],
            "category": self.category.name,
            "category_confidence": round(self.category.confidence, 4),
            "runner_up": self.category.runner_up,
            "automation": self.automation.value,
            "answer": self.answer,
            "sources": [_source_dict(s) for s in self.sources],
            "missing_knowledge": self.missing_knowledge,
            "summary": self.summary,
            "intent": self.intent,
            "suggested_reply": self.suggested_reply,
            "internal_action": self.internal_action,
            "priority": self.priority,
            "queue": self.queue,
            "sla_first_response_minutes": self.sla_first_response_minutes,
            "sla_resolution_minutes": self.sla_resolution_minutes,
            "confidence": round(self.confidence, 4),
            "scores": {k: round(v, 4) for k, v in self.scores.items()},
            "tier": self.tier,
            "language": self.language,
            "rules_version": self.rules_version,
            "engine": self.engine,
            "latency_ms": round(self.latency_ms, 3),
            "tokens": self.tokens,
        }


def _trigger_dict(trigger: Trigger) -> dict[str, Any]:
    return {
        "reason": trigger.reason.value,
        "detail": trigger.detail,
        "evidence": list(trigger.evidence),
        "score": None if trigger.score is None else round(trigger.score, 4),
        "kind": trigger.kind,
    }


def _source_dict(source: Source) -> dict[str, Any]:
    return {
        "doc_id": source.doc_id,
        "title": source.title,
        "anchor": source.anchor,
        "url": source.url,
        "score": round(source.score, 4),
        "passage_id": source.passage_id,
    }


@dataclass(frozen=True, slots=True)
class CardField:
    """One labelled field of a handoff card."""

    label: str
    value: str


@dataclass(frozen=True, slots=True)
class CardButton:
    """One action an agent can take on a card; ``action`` is the neutral action id."""

    action: str
    label: str
    primary: bool = False
    danger: bool = False


@dataclass(frozen=True, slots=True)
class HandoffCard:
    """The neutral handoff card; each adapter renders it natively, with a text fallback."""

    ticket_id: str
    title: str
    priority: str
    sla_due: datetime | None
    customer: str
    organisation: str | None
    tier: str | None
    channel: str
    thread_link: str | None
    original_message: str
    summary: str
    intent: str
    reasons: tuple[Trigger, ...]
    sources: tuple[Source, ...]
    missing_knowledge: bool
    suggested_reply: str
    internal_action: str
    queue: str
    status: str
    claimed_by: str | None = None
    claimed_at: datetime | None = None
    buttons: tuple[CardButton, ...] = ()
    claimed_by_id: str | None = None  # the claimer's platform user id, for a real mention
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Reply:
    """A message the core wants delivered to a conversation."""

    ref: ConversationRef
    text: str
    sources: tuple[Source, ...] = ()
    kind: str = "answer"
    ticket_id: str | None = None
    buttons: tuple[CardButton, ...] = ()
    author_name: str | None = None
    idempotency_key: str | None = None
    decision_id: int | None = None
