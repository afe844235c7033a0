"""Pure conversions from the sandbox's request JSON to core types (no I/O, no aiohttp).

Every function raises ``BadRequest`` with a sentence a person can act on; the wiring turns it
into a 400 response. Sandbox conversations live at ``ConversationRef(platform="sandbox",
channel=<conversation id>)``, so their store key is ``sandbox:<conversation id>:-``.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from bot.types import ConversationRef, InboundMessage, Person

PLATFORM = "sandbox"
MAX_TEXT = 4000
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[A-Za-z0-9.-]{1,190}\.[A-Za-z]{2,}$")


class BadRequest(ValueError):
    """The request cannot be used as sent; the message says what to change."""


def conversation_key(*, conversation: str) -> str:
    """The store's conversation id of a sandbox conversation."""
    return conversation_ref(conversation=conversation).key


def short_id(*, key: str) -> str | None:
    """The sandbox conversation id of a store key, or None for other platforms' conversations."""
    platform, _, rest = key.partition(":")
    if platform != PLATFORM:
        return None
    return rest.rsplit(":", 1)[0] or None


def conversation_ref(*, conversation: str) -> ConversationRef:
    """Where a sandbox chat lives; the display name travels in ``native``."""
    return ConversationRef(platform=PLATFORM, channel=conversation, thread=None, native={"channel_name": f"chat {conversation}"})


def checked_id(*, value: Any, what: str) -> str:
    """A conversation or event id: letters, digits, '-', '_' and '.', at most 64 characters."""
    if not isinstance(value, str) or not _ID.match(value):
        raise BadRequest(f"'{what}' must be 1-64 letters, digits, '-', '_' or '.', starting with a letter or digit")
    return value


def checked_text(*, value: Any, what: str = "text", limit: int = MAX_TEXT) -> str:
    """Non-empty text within the size limit, stripped of surrounding whitespace."""
    if not isinstance(value, str):
        raise BadRequest(f"'{what}' must be a string")
    text = value.strip()
    if not text:
        raise BadRequest(f"'{what}' is empty: type a message first")
    if len(text) > limit:
        raise BadRequest(f"'{what}' is too long ({len(text)} characters; the limit is {limit})")
    return text


def _optional(data: dict, key: str, *, limit: int = 120) -> str | None:
    value = data.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise BadRequest(f"'customer.{key}' must be a string of at most {limit} characters")
    return value.strip()


def person_from_json(*, data: Any) -> Person:
    """The customer of a sandbox chat: a name, optionally an email and an organisation."""
    if isinstance(data, str):
        data = {"name": data}
    if not isinstance(data, dict):
        raise BadRequest("'customer' must be an object like {\"name\": \"Sam\", \"email\": \"sam@example.com\"}")
    name = _optional(data, "name") or "Sandbox customer"
    email = _optional(data, "email", limit=254)
    if email is not None and not _EMAIL.match(email):
        raise BadRequest(f"'customer.email' is not an email address: {email!r}")
    platform_id = _optional(data, "id") or f"sandbox-user-{_slug(email or name)}"
    return Person(platform_id=platform_id, display_name=name, organisation=_optional(data, "organisation"), external=True, email=email)


def inbound_from_json(*, data: Any) -> InboundMessage:
    """POST /sandbox/api/messages body -> the core's InboundMessage, with a unique event id."""
    if not isinstance(data, dict):
        raise BadRequest("the body must be a JSON object with 'conversation', 'customer' and 'text'")
    conversation = checked_id(value=data.get("conversation"), what="conversation")
    text = checked_text(value=data.get("text"))
    author = person_from_json(data=data.get("customer", {}))
    given = data.get("event_id")
    event_id = f"sandbox-{checked_id(value=given, what='event_id')}" if given is not None else new_event_id()
    return InboundMessage(event_id=event_id, ref=conversation_ref(conversation=conversation), author=author, text=text, message_id=event_id)


def new_event_id() -> str:
    """A fresh, unique event id for a message typed in the sandbox."""
    return f"sandbox-{uuid.uuid4().hex}"


def agent_from_json(*, data: dict) -> tuple[str, str]:
    """(agent id, display name) of the simulated agent acting on a card."""
    name = checked_text(value=data.get("agent"), what="agent", limit=60)
    return f"sandbox-agent-{_slug(name)}", name


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "anonymous"
