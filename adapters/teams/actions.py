"""Card verbs (Action.Execute) and answer buttons (Action.Submit), mapped onto the core.

The verbs are the neutral action ids of ``bot.cards`` (OPEN_BUTTONS, RESOLVED_BUTTONS) plus
``refresh``; the answer buttons are those of ``bot.dialogue.ANSWER_BUTTONS``. The invoke
response is always the ticket's current card, with the outcome as a note on it, so the
agent who lost a claim race reads who won.
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable

from botbuilder.schema import AdaptiveCardInvokeResponse

from adapters.teams import texts
from adapters.teams.render import CARD_CONTENT_TYPE, MISSING_FIELD_INPUT, REPLY_INPUT, card_to_adaptive, notice_card
from bot.cards import card_from_ticket
from bot.tickets import ActionResult, TicketDesk

Verb = Callable[..., Awaitable[ActionResult]]


async def _claim(desk: TicketDesk, ticket_id: str, agent_id: str, agent_name: str, data: dict) -> ActionResult:
    return await desk.claim(ticket_id=ticket_id, agent_id=agent_id, agent_name=agent_name)


async def _send_suggested(desk: TicketDesk, ticket_id: str, agent_id: str, agent_name: str, data: dict) -> ActionResult:
    return await desk.send_suggested(ticket_id=ticket_id, agent_id=agent_id, agent_name=agent_name)


async def _edit_send(desk: TicketDesk, ticket_id: str, agent_id: str, agent_name: str, data: dict) -> ActionResult:
    text = str(data.get(REPLY_INPUT) or "")
    return await desk.agent_reply(ticket_id=ticket_id, agent_id=agent_id, agent_name=agent_name, text=text)


async def _release(desk: TicketDesk, ticket_id: str, agent_id: str, agent_name: str, data: dict) -> ActionResult:
    return await desk.release(ticket_id=ticket_id, agent_id=agent_id)


async def _resolve(desk: TicketDesk, ticket_id: str, agent_id: str, agent_name: str, data: dict) -> ActionResult:
    return await desk.resolve(ticket_id=ticket_id, agent_id=agent_id)


async def _no_person_needed(desk: TicketDesk, ticket_id: str, agent_id: str, agent_name: str, data: dict) -> ActionResult:
    """Close the ticket and record a false escalation (what the bot could have handled)."""
    resolved = await desk.resolve(ticket_id=ticket_id, agent_id=agent_id, needed_person=False)
    if not resolved.ok:
        return resolved
    await desk.record_feedback(ticket_id=ticket_id, kind="needed_no", by=agent_name)
    return ActionResult(True, f"{ticket_id} closed as not needing a person; thanks, that teaches the bot.", resolved.ticket)


async def _refresh(desk: TicketDesk, ticket_id: str, agent_id: str, agent_name: str, data: dict) -> ActionResult:
    return ActionResult(True, "", desk.ticket(ticket_id=ticket_id))


VERBS: dict[str, Verb] = {
    "claim": _claim, "send_suggested": _send_suggested, "edit_send": _edit_send, "release": _release,
    "resolve": _resolve, "no_person_needed": _no_person_needed, "refresh": _refresh,
}


def is_known(verb: str) -> bool:
    """A verb Baton's cards carry (the feedback verbs after Resolve included)."""
    return verb in VERBS or verb.startswith("feedback_")


async def run_verb(*, desk: TicketDesk, verb: str, data: dict[str, Any], agent_id: str, agent_name: str) -> ActionResult:
    """Carry out one card verb through the core; refusals come back as ok=False."""
    ticket_id = str(data.get("ticket") or "")
    if verb.startswith("feedback_"):
        kind = verb.removeprefix("feedback_")
        value = str(data.get(MISSING_FIELD_INPUT) or "") if kind == "card_missing" else ""
        return await desk.record_feedback(ticket_id=ticket_id, kind=kind, by=agent_name, value=value)
    handler = VERBS.get(verb)
    if handler is None:
        return ActionResult(False, texts.UNKNOWN_ACTION)
    return await handler(desk, ticket_id, agent_id, agent_name, data)


def card_response(*, desk: TicketDesk, ticket_id: str, result: ActionResult) -> AdaptiveCardInvokeResponse:
    """The invoke response: the ticket's current card with the outcome as a note."""
    ticket = desk.ticket(ticket_id=ticket_id) if ticket_id else None
    if ticket is None:
        card = notice_card(texts.UNKNOWN_TICKET)
    else:
        notes = (result.message,) if result.message else ()
        card = card_to_adaptive(card_from_ticket(ticket=ticket, notes=notes))
    return AdaptiveCardInvokeResponse(status_code=200, type=CARD_CONTENT_TYPE, value=card)
