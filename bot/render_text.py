"""Readable terminal rendering of a decision (for `baton ask` and `baton chat`)."""

from __future__ import annotations

from bot.cards import REASON_LABELS, source_line
from bot.replies import format_minutes
from bot.types import Decision


def decision_text(decision: Decision) -> str:
    """Action, reasons with evidence, category, sources, summary and the reply or draft."""
    lines = [f"Action: {decision.action.value.upper()}" + (f" ({decision.automation.value})" if decision.category.name else "")]
    if decision.category.name or decision.category.runner_up:
        lines.append(f"Category: {decision.category.name or 'none'} (confidence {decision.category.confidence:.2f})")
    for trigger in decision.triggers:
        evidence = f" [{'; '.join(trigger.evidence)}]" if trigger.evidence else ""
        lines.append(f"Reason: {trigger.reason.value} ({REASON_LABELS[trigger.reason]}) - {trigger.detail}{evidence}")
    lines.append("Sources:" if decision.sources else "Sources: none" + (" [missing-knowledge]" if decision.missing_knowledge else ""))
    lines += [f"  - {source_line(s)}" for s in decision.sources]
    lines.append(f"Intent: {decision.intent}")
    lines.append(f"Summary: {decision.summary}")
    if decision.answer:
        lines.append(f"Answer:\n{decision.answer}")
    else:
        lines.append(f"Priority: {decision.priority}, queue {decision.queue}, first response within {format_minutes(decision.sla_first_response_minutes)}")
        lines.append(f"Suggested reply (draft): {decision.suggested_reply}")
        lines.append(f"Internal action: {decision.internal_action}")
    lines.append(f"Decided in {decision.latency_ms:.1f} ms by the {decision.engine} engine (rules {decision.rules_version}); tokens {decision.tokens}")
    return "\n".join(lines)
