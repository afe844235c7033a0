"""Pure conversions from core objects to the sandbox's JSON (no I/O, no aiohttp).

The browser renders these with text nodes only, so nothing here needs HTML escaping; links are
kept only when they are plain http(s) URLs.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from bot.cards import REASON_LABELS, SEVEN_FIELDS, status_line
from bot.reads import AgentActionView, DecisionView, GapView, TicketView
from bot.types import CardButton, HandoffCard, Source, Trigger

from adapters.sandbox.convert import short_id

REASON_LABELS_BY_VALUE = {reason.value: label for reason, label in REASON_LABELS.items()}
DUE_SOON_SHARE = 0.25  # "due soon" once less than a quarter of the SLA window is left
FIELD_LABELS = {
    "customer": "Customer details", "message": "Original message or summary", "intent": "Intent",
    "sources": "Sources", "reasons": "Why it was escalated", "recommendation": "Suggested reply or action",
    "sla": "Priority and SLA",
}


def iso(value: datetime | None) -> str | None:
    """An ISO 8601 timestamp in UTC (naive values from SQLite are UTC), or None."""
    return _aware(value).isoformat() if value else None


def safe_url(url: str | None, anchor: str = "") -> str | None:
    """An http(s) link to a source (with its anchor), never a javascript: or data: URL."""
    if not url or not url.lower().startswith(("http://", "https://")):
        return None
    return url + (f"#{anchor}" if anchor and "#" not in url else "")


def source_json(source: Source | dict) -> dict[str, Any]:
    """A cited knowledge-base passage."""
    data = source if isinstance(source, dict) else {"doc_id": source.doc_id, "title": source.title, "anchor": source.anchor, "url": source.url, "score": source.score}
    return {
        "doc_id": data.get("doc_id", ""), "title": data.get("title") or data.get("doc_id", ""),
        "url": safe_url(data.get("url"), data.get("anchor") or ""), "score": round(float(data.get("score") or 0.0), 3),
    }


def trigger_json(trigger: Trigger) -> dict[str, Any]:
    """One escalation reason with its evidence."""
    return {
        "reason": trigger.reason.value, "label": REASON_LABELS[trigger.reason], "detail": trigger.detail,
        "evidence": list(trigger.evidence), "score": None if trigger.score is None else round(trigger.score, 3), "kind": trigger.kind,
    }


def button_json(button: CardButton) -> dict[str, Any]:
    return {"action": button.action, "label": button.label, "primary": button.primary, "danger": button.danger}


def card_json(*, card: HandoffCard, notes: list[str] | tuple[str, ...] = ()) -> dict[str, Any]:
    """The neutral handoff card as JSON: the same content a Slack or Teams card shows."""
    return {
        "ticket_id": card.ticket_id, "title": card.title, "priority": card.priority, "sla_due": iso(card.sla_due),
        "customer": card.customer, "organisation": card.organisation, "tier": card.tier, "channel": card.channel,
        "thread_link": safe_url(card.thread_link), "original_message": card.original_message, "summary": card.summary,
        "intent": card.intent, "reasons": [trigger_json(t) for t in card.reasons], "sources": [source_json(s) for s in card.sources],
        "missing_knowledge": card.missing_knowledge, "suggested_reply": card.suggested_reply,
        "internal_action": card.internal_action, "queue": card.queue, "status": card.status, "status_line": status_line(card),
        "claimed_by": card.claimed_by, "claimed_at": iso(card.claimed_at), "buttons": [button_json(b) for b in card.buttons],
        "notes": [*card.notes, *notes],
    }


def sla_json(*, ticket: TicketView, now: datetime) -> dict[str, Any]:
    """SLA state of a ticket: on time, due soon, breached (or resolved), with the due time."""
    if ticket.status == "resolved":
        return {"state": "resolved", "label": "Resolved", "target": None, "due": iso(ticket.resolved_at), "minutes_left": None}
    first_pending = ticket.first_agent_reply_at is None
    due = ticket.first_response_due if first_pending else ticket.resolution_due
    target = "first response" if first_pending else "resolution"
    if due is None:
        return {"state": "on_time", "label": "On time", "target": target, "due": None, "minutes_left": None}
    left = (_aware(due) - now).total_seconds()
    window = max((_aware(due) - _aware(ticket.created_at)).total_seconds(), 1.0)
    state = "breached" if left < 0 else "due_soon" if left <= window * DUE_SOON_SHARE else "on_time"
    label = {"breached": "Breached", "due_soon": "Due soon", "on_time": "On time"}[state]
    return {"state": state, "label": label, "target": target, "due": iso(due), "minutes_left": round(left / 60)}


def _aware(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; the store writes UTC, so read them as UTC."""
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def ticket_feedback_json(ticket: TicketView) -> dict[str, Any]:
    """What agents answered after resolving: did it need a person, was the card complete."""
    return {"needed_person": ticket.needed_person, "card_complete": ticket.card_complete, "missing_field": ticket.missing_field}


def ticket_json(*, ticket: TicketView, now: datetime) -> dict[str, Any]:
    """A dashboard row for one ticket."""
    return {
        "id": ticket.id, "status": ticket.status, "priority": ticket.priority, "queue": ticket.queue,
        "customer": ticket.customer, "organisation": ticket.organisation, "tier": ticket.tier, "summary": ticket.summary,
        "reasons": [REASON_LABELS_BY_VALUE.get(r, r) for r in ticket.reasons], "claimed_by": ticket.claimed_by_name or ticket.claimed_by,
        "created_at": iso(ticket.created_at), "sla": sla_json(ticket=ticket, now=now),
        "conversation": short_id(key=ticket.conversation_id), "feedback": ticket_feedback_json(ticket),
    }



def gap_json(gap: GapView) -> dict[str, Any]:
    """A knowledge gap: the question, how often it was asked, examples and tickets."""
    return {"id": gap.id, "question": gap.question, "count": gap.count, "examples": list(gap.examples[-5:]), "ticket_ids": list(gap.ticket_ids), "status": gap.status, "created_at": iso(gap.created_at)}


def decision_json(row: DecisionView) -> dict[str, Any]:
    """One entry of the audit trail: action, reasons with evidence, scores, sources, rules, latency."""
    payload = row.payload or {}
    return {
        "id": row.id, "at": iso(row.created_at), "input": row.input_text, "action": row.action,
        "reasons": [REASON_LABELS_BY_VALUE.get(r, r) for r in row.reasons], "triggers": [_audit_trigger(t) for t in payload.get("triggers", [])],
        "category": row.category, "category_confidence": payload.get("category_confidence"), "automation": payload.get("automation"),
        "confidence": round(row.confidence, 3), "scores": payload.get("scores", {}), "sources": [source_json(s) for s in payload.get("sources", [])],
        "missing_knowledge": payload.get("missing_knowledge", False), "priority": payload.get("priority"), "queue": payload.get("queue"),
        "tier": payload.get("tier"), "rules_version": row.rules_version, "engine": row.engine, "latency_ms": round(row.latency_ms, 1),
        "tokens": row.tokens, "feedback": row.feedback,
    }


def _audit_trigger(data: dict) -> dict[str, Any]:
    return {"reason": data.get("reason"), "label": REASON_LABELS_BY_VALUE.get(data.get("reason", ""), data.get("reason")), "detail": data.get("detail", ""), "evidence": list(data.get("evidence", [])), "score": data.get("score"), "kind": data.get("kind")}


def missing_field_options() -> list[dict[str, str]]:
    """The seven promised card fields, for "Which field was missing?"."""
    return [{"value": name, "label": FIELD_LABELS[name]} for name in SEVEN_FIELDS]


def agent_action_json(row: AgentActionView) -> dict[str, Any]:
    """One audit entry of the agent-actions trail: when, who, what, on which ticket, outcome."""
    return {"at": iso(row.at), "actor_id": row.actor_id, "actor": row.actor_name or row.actor_id, "action": row.action, "ticket_id": row.ticket_id, "ok": row.ok, "detail": row.detail}
