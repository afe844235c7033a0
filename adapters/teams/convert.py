"""Pure conversions between Bot Framework activities and Baton's neutral types (no I/O).

A Teams conversation becomes ``ConversationRef(platform="teams", channel=<conversation id
without ;messageid=...>, thread=<root message id for channel threads, else None>)``. Its
``native`` mapping carries the serialized ``ConversationReference`` (service URL, bot, tenant)
that proactive messages need later, so nothing about a conversation lives only in memory.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote

from botbuilder.core import TurnContext
from botbuilder.schema import Activity, ConversationReference

from bot.types import ConversationRef, InboundMessage, Person

PLATFORM = "teams"
INTERNAL_PREFIXES = ("note:", "//", "[internal]")  # same markers as the Slack adapter
_MESSAGE_ID = ";messageid="
_MENTION = re.compile(r"<at[^>]*>(.*?)</at>", re.IGNORECASE | re.DOTALL)
_QUEUE_COMMAND = re.compile(r"^\s*use\s+this\s+channel\s+as\s+(?:the\s+)?([A-Za-z0-9_.-]+)\s+queue\b", re.IGNORECASE)


def base_conversation_id(conversation_id: str) -> str:
    """A channel thread's conversation id without its ``;messageid=<root>`` suffix."""
    return conversation_id.split(_MESSAGE_ID, 1)[0]


def thread_root(*, conversation_id: str, conversation_type: str | None, activity_id: str | None) -> str | None:
    """The root message id of a channel thread; None for personal and group chats."""
    if _MESSAGE_ID in conversation_id:
        return conversation_id.split(_MESSAGE_ID, 1)[1] or None
    return activity_id if conversation_type == "channel" else None


def thread_conversation_id(*, channel: str, root: str | None) -> str:
    """The conversation id that addresses a channel thread (or the chat itself)."""
    return f"{channel}{_MESSAGE_ID}{root}" if root else channel


def conversation_type(activity: Activity) -> str | None:
    """``personal``, ``groupChat`` or ``channel`` as Teams reports it."""
    conversation = activity.conversation
    return getattr(conversation, "conversation_type", None) if conversation else None


def channel_data(activity: Activity) -> dict[str, Any]:
    """Teams' ``channelData`` as a plain dict (read directly: msrest's TeamsChannelData warns about
    every field it does not model, such as ``teamsChannelId``, on every activity)."""
    data = activity.channel_data
    return data if isinstance(data, dict) else (data.serialize() if hasattr(data, "serialize") else {})


def _id_of(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value.get("id") if isinstance(value, dict) else None


def tenant_of(activity: Activity) -> str | None:
    """The tenant of the conversation (botbuilder drops ``conversation.tenantId``: read channelData)."""
    tenant = _id_of(channel_data(activity), "tenant")
    if tenant:
        return tenant
    return getattr(activity.conversation, "tenant_id", None) if activity.conversation else None


def strip_mentions(*, text: str | None, bot_id: str | None, bot_name: str | None = None) -> str:
    """The text without ``<at>Baton</at>`` (only the bot's own mention), whitespace tidied."""
    def keep_others(match: re.Match) -> str:
        name = match.group(1).strip()
        return "" if name in {bot_name, bot_id} else name

    cleaned = _MENTION.sub(keep_others, text or "")
    return re.sub(r"[ \t]+", " ", cleaned).strip()


def bot_name_of(activity: Activity) -> str | None:
    """The bot's display name as the mention entity spells it (Teams uses the app's name)."""
    for entity in activity.entities or []:
        props = entity.additional_properties or {}
        mentioned = props.get("mentioned") or {}
        if (entity.type or "").lower() == "mention" and mentioned.get("id") == activity.recipient.id:
            return _MENTION.sub(lambda m: m.group(1), props.get("text") or "").strip() or mentioned.get("name")
    return activity.recipient.name if activity.recipient else None


def message_text(activity: Activity) -> str:
    """What the person typed, without the bot's @mention."""
    bot_id = activity.recipient.id if activity.recipient else None
    return strip_mentions(text=activity.text, bot_id=bot_id, bot_name=bot_name_of(activity))


def reference_json(activity: Activity, *, conversation_id: str | None = None, keep_user: bool = True) -> dict[str, Any]:
    """The activity's ``ConversationReference`` as JSON, with the tenant kept (for proactive sends).

    A queue channel's reference drops the user: cards are for the channel, not for whoever ran
    the set-up command."""
    reference = TurnContext.get_conversation_reference(activity)
    reference.conversation.tenant_id = tenant_of(activity)
    reference.activity_id = None
    reference.user = reference.user if keep_user else None
    if conversation_id is not None:
        reference.conversation.id = conversation_id
    return reference.serialize()


def reference_from(native: dict[str, Any]) -> ConversationReference:
    """Read back a reference stored by :func:`reference_json` (raises when there is none)."""
    stored = native.get("reference")
    if not isinstance(stored, dict) or not stored.get("serviceUrl"):
        raise LookupError("no stored Teams conversation reference (serviceUrl missing)")
    return ConversationReference().deserialize(stored)


def conversation_ref(activity: Activity) -> ConversationRef:
    """Where this activity's conversation (or channel reply chain) lives, with its reference."""
    kind = conversation_type(activity)
    channel = base_conversation_id(activity.conversation.id)
    root = thread_root(conversation_id=activity.conversation.id, conversation_type=kind, activity_id=activity.id)
    native = {
        "reference": reference_json(activity, conversation_id=thread_conversation_id(channel=channel, root=root)),
        "tenant_id": tenant_of(activity), "conversation_type": kind,
    }
    native.update(_channel_details(activity, channel=channel, root=root))
    return ConversationRef(platform=PLATFORM, channel=channel, thread=root, native=native)


def _channel_details(activity: Activity, *, channel: str, root: str | None) -> dict[str, Any]:
    """Channel name and a deep link to the thread, when Teams tells us enough."""
    data = channel_data(activity)
    details: dict[str, Any] = {}
    name = (data.get("channel") or {}).get("name")
    if name:
        details["channel_name"] = name
    if root and conversation_type(activity) == "channel":
        group = (data.get("team") or {}).get("aadGroupId")
        details["permalink"] = permalink(channel=channel, message_id=root, tenant_id=tenant_of(activity), group_id=group)
    return details


def permalink(*, channel: str, message_id: str, tenant_id: str | None, group_id: str | None = None) -> str:
    """A Teams deep link that opens a channel message's thread."""
    query = [f"tenantId={tenant_id}"] if tenant_id else []
    query += [f"groupId={group_id}"] if group_id else []
    query.append(f"parentMessageId={message_id}")
    return f"https://teams.microsoft.com/l/message/{quote(channel, safe='')}/{message_id}?" + "&".join(query)


def person_of(activity: Activity, *, home_tenant: str | None, member: dict[str, Any] | None = None) -> Person:
    """The author; another organisation's tenant marks them external with that tenant as organisation.

    ``member`` is the optional ``TeamsChannelAccount`` JSON of a member lookup: it knows the
    author's own tenant (in shared channels it differs from the conversation's) and email.
    """
    sender = activity.from_property
    member = member or {}
    extra = getattr(sender, "additional_properties", None) or {}
    tenant = member.get("tenantId") or extra.get("tenantId") or tenant_of(activity)
    ours = bool(tenant) and tenant == home_tenant
    email = member.get("email") or member.get("userPrincipalName")
    return Person(
        platform_id=sender.id, display_name=sender.name or member.get("name") or "",
        organisation=None if ours or not tenant else tenant, external=bool(tenant and home_tenant and not ours),
        email=email if email and "@" in email else None,
    )


def event_id(activity: Activity) -> str:
    """A stable id for deduplication: activity ids are unique within a conversation."""
    digest = hashlib.sha1(activity.conversation.id.encode()).hexdigest()[:16]
    return f"teams:{digest}:{activity.id}"


def sent_at(activity: Activity) -> datetime:
    """The activity's timestamp (UTC), or now when Teams left it out."""
    stamp = activity.timestamp
    if stamp is None:
        return datetime.now(timezone.utc)
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=timezone.utc)


def inbound(activity: Activity, *, text: str, author: Person, ref: ConversationRef) -> InboundMessage:
    """A customer's Teams message as the core's ``InboundMessage``."""
    return InboundMessage(event_id=event_id(activity), ref=ref, author=author, text=text, sent_at=sent_at(activity), message_id=activity.id)


def queue_command(text: str) -> str | None:
    """The queue named by "use this channel as the <queue> queue", else None."""
    match = _QUEUE_COMMAND.match(text or "")
    return match.group(1).lower() if match else None


def is_internal(text: str) -> bool:
    """Card-thread messages starting with ``note:``, ``//`` or ``[internal]`` stay on the card."""
    start = (text or "").lstrip().lower()
    return any(start.startswith(prefix) for prefix in INTERNAL_PREFIXES)


def without_marker(text: str) -> str:
    """An internal note's text without its marker."""
    stripped = text.lstrip()
    for prefix in INTERNAL_PREFIXES:
        if stripped.lower().startswith(prefix):
            return stripped[len(prefix):].strip()
    return stripped.strip()


def invoke_action(value: Any) -> tuple[str, dict[str, Any]]:
    """``(verb, data)`` of an ``adaptiveCard/action`` invoke value (botbuilder leaves it a dict)."""
    action = (value or {}).get("action") if isinstance(value, dict) else getattr(value, "action", None)
    action = action or {}
    data = action.get("data")
    return str(action.get("verb") or ""), dict(data) if isinstance(data, dict) else {}


def submitted(value: Any) -> tuple[str, dict[str, Any]] | None:
    """``(action, data)`` of an ``Action.Submit`` click on one of Baton's cards, else None."""
    if not isinstance(value, dict) or not isinstance(value.get("baton"), str):
        return None
    return value["baton"], value
