"""The neutral handoff card: built once from a ticket, rendered natively by each adapter.

``card_text`` is the plain-text fallback every renderer can use. ``missing_fields`` checks the
seven fields the product promises on every card (used by tests and by the handoff-completeness
KPI).
"""

from __future__ import annotations

from datetime import datetime

from bot.store.models import TicketRow
from bot.types import CardButton, HandoffCard, Reason, Source, Trigger

REASON_LABELS = {
    Reason.LOW_CONFIDENCE: "Low confidence",
    Reason.POLICY_RISK: "Policy risk",
    Reason.HIGH_VALUE: "High customer value",
    Reason.EMOTIONAL: "Emotional signal",
    Reason.HUMAN_REQUESTED: "Asked for a person",
}

OPEN_BUTTONS = (
    CardButton("claim", "Claim", primary=True),
    CardButton("send_suggested", "Send suggested reply"),
    CardButton("edit_send", "Edit and send"),
    CardButton("release", "Release"),
    CardButton("resolve", "Resolve"),
    CardButton("no_person_needed", "No person was needed", danger=True),
)
RESOLVED_BUTTONS = (
    CardButton("feedback_needed_yes", "Yes, it needed a person"),
    CardButton("feedback_needed_no", "No person was needed"),
    CardButton("feedback_card_ok", "Card had what I needed"),
    CardButton("feedback_card_missing", "Card was missing something"),
)
SEVEN_FIELDS = ("customer", "message", "intent", "sources", "reasons", "recommendation", "sla")


def _trigger(data: dict) -> Trigger:
    return Trigger(reason=Reason(data["reason"]), detail=data.get("detail", ""), evidence=tuple(data.get("evidence", ())), score=data.get("score"), kind=data.get("kind"))


def _source(data: dict) -> Source:
    return Source(doc_id=data["doc_id"], title=data.get("title", ""), anchor=data.get("anchor", ""), url=data.get("url"), score=float(data.get("score", 0.0)), passage_id=data.get("passage_id", ""))


def card_from_ticket(*, ticket: TicketRow, notes: tuple[str, ...] = ()) -> HandoffCard:
    """The neutral card for a ticket in its current state (claimed, resolved...)."""
    buttons = RESOLVED_BUTTONS if ticket.status == "resolved" else OPEN_BUTTONS
    return HandoffCard(
        ticket_id=ticket.id,
        title=_title(ticket),
        priority=ticket.priority,
        sla_due=ticket.first_response_due if ticket.status != "resolved" else None,
        customer=ticket.customer,
        organisation=ticket.organisation,
        tier=ticket.tier,
        channel=ticket.channel,
        thread_link=ticket.thread_link,
        original_message=ticket.original_message,
        summary=ticket.summary,
        intent=ticket.intent,
        reasons=tuple(_trigger(t) for t in ticket.triggers),
        sources=tuple(_source(s) for s in ticket.sources),
        missing_knowledge=ticket.missing_knowledge,
        suggested_reply=ticket.suggested_reply,
        internal_action=ticket.internal_action,
        queue=ticket.queue,
        status=ticket.status,
        claimed_by=ticket.claimed_by_name or ticket.claimed_by,
        claimed_by_id=ticket.claimed_by,
        claimed_at=ticket.claimed_at,
        buttons=buttons,
        notes=notes,
    )


def _title(ticket: TicketRow) -> str:
    labels = [REASON_LABELS[Reason(r)] for r in ticket.reasons if r in Reason._value2member_map_]
    why = ", ".join(labels) or f"{ticket.automation.replace('_', '-')} category"
    return f"{ticket.priority.upper()} · {why} · {ticket.id}"


def status_line(card: HandoffCard) -> str:
    """'Claimed by Dana at 10:42', 'Resolved', or 'Waiting for an agent'."""
    if card.status == "resolved":
        return "Resolved" + (f" (was claimed by {card.claimed_by})" if card.claimed_by else "")
    if card.claimed_by:
        when = card.claimed_at.strftime("%H:%M") if card.claimed_at else ""
        return f"Claimed by {card.claimed_by}" + (f" at {when}" if when else "")
    return "Released, waiting for an agent" if card.status == "released" else "Waiting for an agent"


def reason_line(trigger: Trigger) -> str:
    evidence = f" (evidence: {', '.join(trigger.evidence)})" if trigger.evidence else ""
    return f"{REASON_LABELS[trigger.reason]}: {trigger.detail}{evidence}"


def source_line(source: Source) -> str:
    link = source.url + (f"#{source.anchor}" if source.anchor and source.url and "#" not in source.url else "") if source.url else ""
    return f"{source.title} [{source.doc_id}] score {source.score:.2f}" + (f" {link}" if link else "")


def due_text(due: datetime | None) -> str:
    return due.strftime("%Y-%m-%d %H:%M UTC") if due else "n/a"


def card_text(card: HandoffCard) -> str:
    """Every field of the card as plain text."""
    customer = card.customer + (f" ({card.organisation}" + (f", {card.tier})" if card.tier else ")") if card.organisation else (f" ({card.tier})" if card.tier else ""))
    lines = [
        f"[{card.ticket_id}] {card.title}",
        f"Status: {status_line(card)}",
        f"Priority: {card.priority} · first response due {due_text(card.sla_due)} · queue {card.queue}",
        f"Customer: {customer} in {card.channel}" + (f" · {card.thread_link}" if card.thread_link else ""),
        f"Summary: {card.summary}",
        f"Original message: {card.original_message}",
        f"Intent: {card.intent}",
        "Why escalated:",
        *[f"  - {reason_line(t)}" for t in card.reasons],
    ]
    if not card.reasons:
        lines.append("  - Category automation level sends it to a person")
    lines.append("Sources:" if card.sources else "Sources: none found [missing-knowledge]")
    lines += [f"  - {source_line(s)}" for s in card.sources]
    if card.missing_knowledge and card.sources:
        lines.append("  [missing-knowledge] none of these answers the question")
    lines.append(f"Suggested reply (draft): {card.suggested_reply}")
    lines.append(f"Internal action: {card.internal_action}")
    lines += [f"Note: {n}" for n in card.notes]
    return "\n".join(lines)


def missing_fields(card: HandoffCard) -> list[str]:
    """Which of the seven promised fields a card lacks (empty list: complete)."""
    checks = {
        "customer": bool(card.customer and card.channel),
        "message": bool(card.original_message and card.summary),
        "intent": bool(card.intent),
        "sources": bool(card.sources) or card.missing_knowledge,
        "reasons": bool(card.reasons) or bool(card.internal_action),
        "recommendation": bool(card.suggested_reply or card.internal_action),
        "sla": bool(card.priority and card.queue and (card.sla_due or card.status == "resolved")),
    }
    return [name for name in SEVEN_FIELDS if not checks[name]]
