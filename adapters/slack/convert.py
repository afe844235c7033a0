"""Pure conversions from Slack payloads to Baton's neutral types: no I/O, no client, no clock.

Slack message text is mrkdwn with entities (``&lt;``) and angle-bracket markup (``<@U1>``,
``<url|label>``); the core gets plain text, and the renderer escapes again on the way out, so
a customer's text can never ping ``@channel`` or smuggle a link label into a card.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from bot.types import ConversationRef, InboundMessage, Person

PLATFORM = "slack"
# Subtypes a person's message may carry; every other subtype (joins, bot posts...) is ignored.
PERSON_SUBTYPES = frozenset({None, "file_share", "thread_broadcast", "me_message"})
_MARKUP = re.compile(r"<([^<>]*)>")
_SPECIAL = {"here": "@here", "channel": "@channel", "everyone": "@everyone"}


@dataclass(frozen=True, slots=True)
class SlackPost:
    """A person's new message, taken from a ``message`` or ``app_mention`` event."""

    event_id: str
    channel: str
    ts: str
    thread_ts: str | None
    user: str
    user_team: str | None
    team: str | None
    text: str
    channel_type: str | None = None
    ext_shared: bool = False
    profile: dict | None = None
    delivery: str | None = None  # the durable inbox item that carried it

    @property
    def root(self) -> str:
        """The ts of the thread this message belongs to (its own ts when top-level)."""
        return self.thread_ts or self.ts

    @property
    def is_reply(self) -> bool:
        return self.thread_ts is not None and self.thread_ts != self.ts


@dataclass(frozen=True, slots=True)
class SlackEdit:
    """A person's edit of an earlier message (``message_changed``)."""

    channel: str
    ts: str
    thread_ts: str | None
    user: str
    text: str


@dataclass(frozen=True, slots=True)
class Click:
    """One button click from a ``block_actions`` payload."""

    action: str
    value: str
    user_id: str
    user_team: str | None
    user_name: str
    channel: str
    message_ts: str
    thread_ts: str | None
    trigger_id: str
    action_ts: str


def event_kind(event: dict) -> str:
    """'message', 'edit', 'delete' or 'ignore' for a message-family event."""
    if event.get("hidden") and event.get("subtype") not in ("message_changed", "message_deleted"):
        return "ignore"
    subtype = event.get("subtype")
    if subtype == "message_changed":
        return "edit"
    if subtype == "message_deleted":
        return "delete"
    if event.get("bot_id") or event.get("bot_profile") or subtype not in PERSON_SUBTYPES:
        return "ignore"
    return "message" if event.get("user") else "ignore"


def post_from(*, body: dict, bot_user_id: str | None) -> SlackPost | None:
    """The person's message in an ``event_callback`` body, or None if the bot must ignore it."""
    event = body.get("event") or {}
    if event_kind(event) != "message" or event.get("user") == bot_user_id:
        return None
    return SlackPost(
        event_id=str(body.get("event_id") or f"{event.get('channel')}:{event.get('ts')}"),
        channel=str(event.get("channel", "")),
        ts=str(event.get("ts", "")),
        thread_ts=event.get("thread_ts"),
        user=str(event["user"]),
        user_team=event.get("user_team"),
        team=event.get("team") or body.get("team_id"),
        text=plain_text(event.get("text") or "", bot_user_id=bot_user_id),
        channel_type=event.get("channel_type"),
        ext_shared=bool(body.get("is_ext_shared_channel")),
        profile=event.get("user_profile"),
    )


def edit_from(*, event: dict, bot_user_id: str | None) -> SlackEdit | None:
    """A person's changed text, or None for bot messages and unfurl-only changes."""
    message = event.get("message") or {}
    previous = event.get("previous_message") or {}
    if message.get("bot_id") or not message.get("user") or message.get("user") == bot_user_id:
        return None
    if message.get("text") == previous.get("text"):
        return None  # Slack also sends message_changed when it unfurls a link
    text = plain_text(message.get("text") or "", bot_user_id=bot_user_id)
    return SlackEdit(str(event.get("channel", "")), str(message.get("ts", "")), message.get("thread_ts"), str(message["user"]), text)


def deleted_ts(event: dict) -> str | None:
    """The ts of the message a ``message_deleted`` event removed."""
    return event.get("deleted_ts") or (event.get("previous_message") or {}).get("ts")


def plain_text(text: str, *, bot_user_id: str | None = None) -> str:
    """Slack mrkdwn to plain text: the bot's own mention dropped, links and mentions readable."""

    def replace(match: re.Match) -> str:
        return _plain_markup(match.group(1), bot_user_id=bot_user_id)

    converted = _MARKUP.sub(replace, text)
    converted = converted.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return re.sub(r"[ \t]{2,}", " ", converted).strip()


def _plain_markup(inner: str, *, bot_user_id: str | None) -> str:
    """One ``<...>`` element of Slack markup as plain text."""
    target, _, label = inner.partition("|")
    if target.startswith("@"):
        return "" if target[1:] == bot_user_id else "@" + (label or target[1:])
    if target.startswith("#"):
        return "#" + (label or target[1:])
    if target.startswith("!"):
        name = target[1:].split("^")[0]
        return _SPECIAL.get(name) or label or ""
    if target.startswith("mailto:"):
        return label or target[len("mailto:"):]
    return f"{label} ({target})" if label and label != target else target


def is_external(*, user_team: str | None, home_team: str | None) -> bool:
    """A Slack Connect user belongs to another workspace than the one that installed Baton."""
    return bool(user_team and home_team and user_team != home_team)


def person_from(*, user_id: str, user_team: str | None, home_team: str | None, profile: dict | None) -> Person:
    """A Person from a ``users.info`` user (or an event's ``user_profile``); external users carry their team."""
    info = profile or {}
    details = info.get("profile") or info
    team = user_team or info.get("team_id") or details.get("team")
    external = is_external(user_team=team, home_team=home_team)
    name = details.get("display_name") or details.get("real_name") or info.get("real_name") or info.get("name") or user_id
    return Person(platform_id=user_id, display_name=name, organisation=team if external else None, external=external, email=details.get("email"))


def conversation_ref(*, post: SlackPost, permalink: str | None = None, channel_name: str | None = None) -> ConversationRef:
    """One Slack thread is one conversation; team, permalink and channel name travel in ``native``."""
    native: dict[str, Any] = {"team": post.team, "channel_type": post.channel_type}
    if permalink:
        native["permalink"] = permalink
    if channel_name:
        native["channel_name"] = channel_name
    if post.ext_shared:
        native["ext_shared"] = True
    return ConversationRef(platform=PLATFORM, channel=post.channel, thread=post.root, native=native)


def inbound(*, posts: list[SlackPost], author: Person, ref: ConversationRef) -> InboundMessage:
    """Quick successive posts of one customer, joined into one turn keyed by the first event.

    ``sent_at`` is Baton's clock, not the Slack ts: the history orders customer turns and the
    bot's own replies together, so both must come from the same clock.
    """
    first = posts[0]
    text = "\n".join(p.text for p in posts if p.text)
    return InboundMessage(event_id=first.event_id, ref=ref, author=author, text=text, message_id=first.ts, delivery=first.delivery)


def is_internal(text: str, *, prefixes: tuple[str, ...]) -> bool:
    """Card-thread replies starting with one of the markers stay on the card (case-insensitive)."""
    start = text.lstrip().lower()
    return any(start.startswith(p.lower()) for p in prefixes)


def click_from(payload: dict) -> Click | None:
    """The first action of a ``block_actions`` payload, or None when it has none."""
    actions = payload.get("actions") or []
    if not actions:
        return None
    action, user = actions[0], payload.get("user") or {}
    container, message = payload.get("container") or {}, payload.get("message") or {}
    return Click(
        action=str(action.get("action_id", "")), value=str(action.get("value") or ""),
        user_id=str(user.get("id", "")), user_team=user.get("team_id") or (payload.get("team") or {}).get("id"),
        user_name=str(user.get("name") or user.get("username") or user.get("id", "")),
        channel=str((payload.get("channel") or {}).get("id") or container.get("channel_id", "")),
        message_ts=str(container.get("message_ts") or message.get("ts", "")),
        thread_ts=container.get("thread_ts") or message.get("thread_ts"),
        trigger_id=str(payload.get("trigger_id", "")), action_ts=str(action.get("action_ts", "")),
    )


def submitted_text(view: dict, *, block_id: str, action_id: str) -> str:
    """The value typed into one input of a submitted modal ('' when absent)."""
    values = (view.get("state") or {}).get("values") or {}
    return str(((values.get(block_id) or {}).get(action_id) or {}).get("value") or "")


def metadata(view: dict) -> dict:
    """A modal's ``private_metadata`` as a dict (empty when missing or not JSON)."""
    try:
        data = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def body_problem(*, body: str, content_type: str) -> str | None:
    """Why a signed request body is unusable (answered 400), or None when Bolt may have it."""
    if content_type == "application/json":
        data = _json(body)
        return shape_problem(data) if isinstance(data, dict) else "body is not a JSON object"
    if content_type == "application/x-www-form-urlencoded":
        form = parse_qs(body, keep_blank_values=True)
        if "ssl_check" in form:
            return None
        if "command" in form:
            return None if form["command"][0].startswith("/") else "slash command without a leading slash"
        if "payload" not in form:
            return "form has no payload"
        data = _json(form["payload"][0])
        return shape_problem(data) if isinstance(data, dict) else "payload is not a JSON object"
    return f"unsupported content type {content_type or 'none'}"


HANDLED_TYPES = frozenset({"url_verification", "event_callback", "block_actions", "view_submission", "view_closed", "app_rate_limited"})
_FIELD_TYPES = {
    "user": (dict, str), "team": (dict, str), "channel": (dict, str), "container": dict, "enterprise": (dict, str),
    "team_id": str, "api_app_id": str, "event_id": str, "token": str, "challenge": str, "message": dict,
    "is_enterprise_install": bool, "enterprise_id": str, "user_id": str, "channel_id": str, "trigger_id": str,
}


def shape_problem(data: dict) -> str | None:
    """The parts Bolt indexes without checking: an event's ``event``, an action's ``actions``, a ``view``."""
    kind = data.get("type")
    if not isinstance(kind, str):
        return "payload has no type"
    if kind not in HANDLED_TYPES:
        return f"payload type '{kind[:40]}' is not one Baton handles"
    for key, allowed in _FIELD_TYPES.items():
        if key in data and data[key] is not None and not isinstance(data[key], allowed):
            return f"field {key} has the wrong type"
    if kind == "event_callback" and not isinstance((data.get("event") or None), dict):
        return "event_callback has no event"
    if "event" in data and not isinstance(data["event"], dict):
        return "event is not an object"
    if "authorizations" in data and not (isinstance(data["authorizations"], list) and all(isinstance(a, dict) for a in data["authorizations"])):
        return "authorizations is not a list of objects"
    event = data.get("event") or {}
    wrong = [k for k in ("channel", "user", "ts", "thread_ts", "text", "subtype", "team", "user_team") if k in event and event[k] is not None and not isinstance(event[k], str)]
    if wrong:
        return f"event field {wrong[0]} is not a string"
    if kind == "block_actions" and not (isinstance(data.get("actions"), list) and data["actions"] and all(isinstance(a, dict) for a in data["actions"])):
        return "block_actions has no actions"
    if kind == "block_actions" and not all(isinstance(a.get("action_id"), str) for a in data["actions"]):
        return "an action has no action_id"
    if kind in ("view_submission", "view_closed") and not isinstance(data.get("view"), dict):
        return f"{kind} has no view"
    if "view" in data and not isinstance(data["view"], dict):  # Bolt's unhandled-request log reads view.get
        return "view is not an object"
    return None


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None
