"""The customer's chat as JSON: the store's history, enriched with what the outbox sent.

The store keeps every turn (so a reload or a restart shows the whole chat); the outbox's memory
adds what the store does not keep (reply kind, cited sources, buttons). After a restart the
sources of an answer are recovered from its decision in the audit trail.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.reads import DecisionView
from bot.types import Role, Source, Turn

from adapters.sandbox.views import iso, source_json

INTERNAL_PREFIX = "[internal] "
ANSWER_ACTIONS = ({"action": "helpful", "label": "Helpful"}, {"action": "not_helpful", "label": "Not helpful"}, {"action": "talk_to_person", "label": "Talk to a person"})


@dataclass(slots=True)
class SentReply:
    """What the sandbox outbox delivered to a chat, beyond the text the store keeps."""

    text: str
    kind: str
    sources: tuple[Source, ...] = ()
    ticket_id: str | None = None
    buttons: tuple[dict[str, Any], ...] = ()
    author_name: str | None = None
    message_id: str = ""
    at: datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def split_citation(text: str) -> str:
    """The answer without its trailing 'Source: ...' paragraph (shown as links instead)."""
    body, sep, last = text.rpartition("\n\n")
    return body if sep and last.lstrip().startswith(("Source:", "Sources:")) else text


def _pop_match(pending: list[SentReply], text: str) -> SentReply | None:
    for index, sent in enumerate(pending):
        if sent.text == text:
            return pending.pop(index)
    return None


def _answer_decision(decisions: list[DecisionView] | tuple[DecisionView, ...], text: str, used: set[int]) -> DecisionView | None:
    for row in decisions:
        if row.action == "answer" and row.id not in used and (row.payload or {}).get("answer") == text:
            used.add(row.id)
            return row
    return None


def _bot_message(turn: Turn, sent: SentReply | None, decision: DecisionView | None) -> dict[str, Any]:
    kind = sent.kind if sent else ("answer" if decision else "bot")
    if sent and sent.sources:
        sources = [source_json(s) for s in sent.sources]
    else:
        sources = [source_json(s) for s in (decision.payload or {}).get("sources", [])] if decision else []
    answer = kind == "answer"
    return {
        "role": "bot", "kind": kind, "author": turn.author or "Baton", "text": turn.text,
        "body": split_citation(turn.text) if answer and sources else turn.text, "at": iso(turn.at),
        "sources": sources, "ticket_id": sent.ticket_id if sent else None,
        "decision_id": decision.id if decision else None, "feedback": decision.feedback if decision else None,
        "actions": list(ANSWER_ACTIONS) if answer else [],
    }


def messages_json(*, turns: list[Turn], sent: list[SentReply], decisions: list[DecisionView] | tuple[DecisionView, ...]) -> list[dict[str, Any]]:
    """Every visible turn of a chat, oldest first; internal agent notes stay off the chat."""
    pending, used, out = list(sent), set(), []
    for turn in turns:
        if turn.role == Role.CUSTOMER:
            out.append({"role": "customer", "kind": "customer", "author": turn.author or "Customer", "text": turn.text, "body": turn.text, "at": iso(turn.at)})
        elif turn.role == Role.AGENT:
            if not turn.text.startswith(INTERNAL_PREFIX):
                _pop_match(pending, turn.text)
                out.append({"role": "agent", "kind": "agent", "author": turn.author or "Agent", "text": turn.text, "body": turn.text, "at": iso(turn.at)})
        else:
            match = _pop_match(pending, turn.text)
            decision = _answer_decision(decisions, turn.text, used) if match is None or match.kind == "answer" else None
            out.append(_bot_message(turn, match, decision))
    return out
