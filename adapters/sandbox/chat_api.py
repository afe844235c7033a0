"""The customer side of the sandbox API: send a message, read a chat, press an answer button."""

from __future__ import annotations

import dataclasses

from aiohttp import web

from bot.engine import customer_value
from bot.ops.feedback import FeedbackError
from bot.rules import Rules
from bot.types import InboundMessage, Person

from adapters.sandbox.actions import customer_action_from_json
from adapters.sandbox.chat_view import messages_json
from adapters.sandbox.convert import (
    BadRequest, checked_id, conversation_key, conversation_ref, inbound_from_json, new_event_id, person_from_json, short_id,
)
from adapters.sandbox.samples import AGENTS, IDENTITIES, SAMPLES, TALK_TO_PERSON_TEXT
from adapters.sandbox.views import missing_field_options
from adapters.sandbox.jsonapi import NotFound, SandboxState, api, read_json, reply, state

HISTORY_LIMIT = 500
LIST_LIMIT = 50


def with_organisation(*, person: Person, rules: Rules) -> Person:
    """Fill in the organisation the rules know for this customer (e.g. Globex by email domain)."""
    if person.organisation:
        return person
    known = customer_value(rules=rules, person=person).organisation
    return dataclasses.replace(person, organisation=known) if known else person


def chat_json(*, sandbox: SandboxState, conversation: str) -> dict:
    """One chat: its visible messages, the customer, and the ticket a person is working on."""
    key = conversation_key(conversation=conversation)
    chat = sandbox.core.reads.chat(conversation_id=key, history_limit=HISTORY_LIMIT)
    ticket = chat.ticket
    messages = messages_json(turns=list(chat.history), sent=sandbox.outbox.sent_to(conversation_key=key), decisions=chat.decisions)
    return {
        "conversation": conversation, "customer": chat.customer_name, "human_active": chat.human_active,
        "ticket": {"id": ticket.id, "status": ticket.status, "claimed_by": ticket.claimed_by_name} if ticket else None,
        "messages": messages, "version": sandbox.outbox.version,
    }


async def _handle(*, sandbox: SandboxState, message: InboundMessage, person_requested: bool = False) -> dict:
    """Feed one customer message (or a 'talk to a person' press) to the core and report what happened."""
    message = dataclasses.replace(message, author=with_organisation(person=message.author, rules=sandbox.core.rules))
    conversations = sandbox.core.conversations
    async with sandbox.turn_lock(conversation_key=message.ref.key):
        result = await (conversations.request_person(message=message) if person_requested else conversations.receive(message=message))
    sandbox.outbox.touch()
    return {"status": result.status, "ticket_id": result.ticket_id, "decision_id": result.decision_id, "decision": result.decision.to_dict() if result.decision else None}


@api
async def post_message(request: web.Request) -> web.Response:
    """POST /sandbox/api/messages: a customer message, as if typed in Slack or Teams."""
    sandbox = state(request)
    message = inbound_from_json(data=await read_json(request))
    outcome = await _handle(sandbox=sandbox, message=message)
    return reply({**outcome, "chat": chat_json(sandbox=sandbox, conversation=message.ref.channel)})


@api
async def get_conversation(request: web.Request) -> web.Response:
    """GET /sandbox/api/conversations/{id}: the chat as the customer sees it."""
    conversation = checked_id(value=request.match_info["conversation"], what="conversation")
    return reply(chat_json(sandbox=state(request), conversation=conversation))


@api
async def list_conversations(request: web.Request) -> web.Response:
    """GET /sandbox/api/conversations: recent sandbox chats, newest first (for the audit picker)."""
    sandbox = state(request)
    latest: dict[str, str] = {}
    for row in sandbox.core.reads.decisions():
        if short_id(key=row.conversation_id):
            latest.pop(row.conversation_id, None)
            latest[row.conversation_id] = row.input_text
    items = []
    for key, text in list(reversed(latest.items()))[:LIST_LIMIT]:
        name = sandbox.core.reads.customer_name(conversation_id=key)
        items.append({"conversation": short_id(key=key), "customer": name or "", "last": text})
    return reply({"conversations": items})


def _decision_to_rate(*, sandbox: SandboxState, key: str, decision_id: int | None) -> int | None:
    """The answer being rated: the one given, checked to belong to this chat, else the latest."""
    if decision_id is not None:
        found = sandbox.core.conversations.answer_in(conversation_id=key, decision_id=decision_id)
        if found is None:
            raise NotFound(f"decision {decision_id} is not part of this conversation")
        return found
    return sandbox.core.conversations.latest_answer(conversation_id=key)


@api
async def post_customer_feedback(request: web.Request) -> web.Response:
    """POST /sandbox/api/conversations/{id}/feedback: Helpful, Not helpful or Talk to a person."""
    sandbox = state(request)
    conversation = checked_id(value=request.match_info["conversation"], what="conversation")
    data = await read_json(request)
    action, decision_id = customer_action_from_json(data=data)
    key = conversation_key(conversation=conversation)
    rated = _decision_to_rate(sandbox=sandbox, key=key, decision_id=decision_id)
    if rated is None and action != "talk_to_person":
        raise NotFound("there is no answer in this conversation to rate")
    person = person_from_json(data=data.get("customer", {}))
    if rated is not None:
        try:
            sandbox.core.conversations.rate_answer_checked(decision_id=rated, kind=action, by=person.display_name)
        except FeedbackError as exc:
            raise BadRequest(str(exc)) from None
    outcome = {"status": "recorded", "ticket_id": None}
    if action == "talk_to_person":
        message = InboundMessage(event_id=new_event_id(), ref=conversation_ref(conversation=conversation), author=person, text=TALK_TO_PERSON_TEXT)
        outcome = await _handle(sandbox=sandbox, message=message, person_requested=True)
    sandbox.outbox.touch()
    return reply({**outcome, "chat": chat_json(sandbox=sandbox, conversation=conversation)})


@api
async def get_samples(request: web.Request) -> web.Response:
    """GET /sandbox/api/samples: what the first screen offers."""
    samples = [{k: v for k, v in s.items() if k != "expect"} for s in SAMPLES]
    return reply({"samples": samples, "identities": list(IDENTITIES), "agents": list(AGENTS), "missing_fields": missing_field_options()})


@api
async def get_version(request: web.Request) -> web.Response:
    """GET /sandbox/api/version: a counter that changes whenever anything was sent (cheap polling)."""
    return reply({"version": state(request).outbox.version})

