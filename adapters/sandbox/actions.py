"""Card actions and customer answer buttons, mapped one to one onto the core's TicketDesk.

The action ids are the neutral ones of ``bot.cards`` (OPEN_BUTTONS, RESOLVED_BUTTONS) and
``bot.dialogue.ANSWER_BUTTONS``, so the sandbox exercises exactly what Slack and Teams do.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.cards import SEVEN_FIELDS
from bot.tickets import ActionResult, TicketDesk

from adapters.sandbox.convert import BadRequest, agent_from_json, checked_text

FEEDBACK_KINDS = ("needed_yes", "needed_no", "card_ok", "card_missing")
TICKET_ACTIONS = ("claim", "send_suggested", "edit_send", "release", "resolve", "no_person_needed", "feedback")
CUSTOMER_ACTIONS = ("helpful", "not_helpful", "talk_to_person")


@dataclass(frozen=True, slots=True)
class TicketCommand:
    """One agent action on a card, validated."""

    action: str
    agent_id: str
    agent_name: str
    text: str = ""
    feedback: str = ""
    field: str = ""


def _feedback(data: dict, action: str) -> tuple[str, str]:
    kind = action.removeprefix("feedback_") if action != "feedback" else data.get("kind") or data.get("feedback")
    if kind not in FEEDBACK_KINDS:
        raise BadRequest(f"feedback must be one of {', '.join(FEEDBACK_KINDS)}")
    field = data.get("field") or ""
    if kind == "card_missing" and field not in SEVEN_FIELDS:
        raise BadRequest(f"say which field was missing: one of {', '.join(SEVEN_FIELDS)}")
    return kind, field if kind == "card_missing" else ""


def command_from_json(*, data: Any) -> TicketCommand:
    """POST /sandbox/api/tickets/{id}/actions body -> a TicketCommand (or BadRequest)."""
    if not isinstance(data, dict):
        raise BadRequest("the body must be a JSON object with 'action' and 'agent'")
    action = data.get("action")
    if not isinstance(action, str) or (action not in TICKET_ACTIONS and not action.startswith("feedback_")):
        raise BadRequest(f"'action' must be one of {', '.join(TICKET_ACTIONS)}")
    agent_id, agent_name = agent_from_json(data=data)
    if action.startswith("feedback"):
        kind, field = _feedback(data, action)
        return TicketCommand("feedback", agent_id, agent_name, feedback=kind, field=field)
    text = checked_text(value=data.get("text"), what="text") if action == "edit_send" else ""
    return TicketCommand(action, agent_id, agent_name, text=text)


async def run_command(*, desk: TicketDesk, ticket_id: str, command: TicketCommand) -> ActionResult:
    """Carry out one card action through the core; refusals come back as ok=False."""
    c = command
    if c.action == "claim":
        return await desk.claim(ticket_id=ticket_id, agent_id=c.agent_id, agent_name=c.agent_name)
    if c.action == "send_suggested":
        return await desk.send_suggested(ticket_id=ticket_id, agent_id=c.agent_id, agent_name=c.agent_name)
    if c.action == "edit_send":
        return await desk.agent_reply(ticket_id=ticket_id, agent_id=c.agent_id, agent_name=c.agent_name, text=c.text)
    if c.action == "release":
        return await desk.release(ticket_id=ticket_id, agent_id=c.agent_id, agent_name=c.agent_name)
    if c.action == "resolve":
        return await desk.resolve(ticket_id=ticket_id, agent_id=c.agent_id, agent_name=c.agent_name)
    if c.action == "no_person_needed":
        return await _no_person_needed(desk=desk, ticket_id=ticket_id, command=c)
    return await desk.record_feedback(ticket_id=ticket_id, kind=c.feedback, by=c.agent_name, value=c.field, agent_id=c.agent_id)


async def _no_person_needed(*, desk: TicketDesk, ticket_id: str, command: TicketCommand) -> ActionResult:
    """Close the ticket and record that the bot could have handled it (a false escalation)."""
    resolved = await desk.resolve(ticket_id=ticket_id, agent_id=command.agent_id, needed_person=False)
    if not resolved.ok:
        return resolved
    await desk.record_feedback(ticket_id=ticket_id, kind="needed_no", by=command.agent_name)
    return ActionResult(True, f"{ticket_id} closed as not needing a person; thanks, that teaches the bot.", desk.ticket(ticket_id=ticket_id))


def customer_action_from_json(*, data: Any) -> tuple[str, int | None]:
    """POST /sandbox/api/conversations/{id}/feedback body -> (action, decision id)."""
    if not isinstance(data, dict):
        raise BadRequest("the body must be a JSON object with 'action'")
    action = data.get("action")
    if action not in CUSTOMER_ACTIONS:
        raise BadRequest(f"'action' must be one of {', '.join(CUSTOMER_ACTIONS)}")
    decision_id = data.get("decision_id")
    if decision_id is not None and (not isinstance(decision_id, int) or isinstance(decision_id, bool)):
        raise BadRequest("'decision_id' must be an integer")
    return action, decision_id
