"""TeamsOutbox: how the core's replies and handoff cards reach Microsoft Teams.

Everything goes out as a proactive message from a stored ``ConversationReference`` (read from
the store, never only from memory), so it works inside a turn, after a restart, and when the
click that caused it happened on Slack. A card is a new thread in the queue channel
(``create_conversation``); its card_ref names that thread, so updates, follow-ups and agent
mentions land on it.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Awaitable, Callable

from botbuilder.core import TurnContext
from botbuilder.schema import Activity, ActivityTypes, ChannelAccount, ConversationParameters, ConversationReference, Mention

from adapters.teams import texts
from adapters.teams.convert import PLATFORM, reference_from, thread_conversation_id
from adapters.teams.render import answer_to_adaptive, attachment, card_to_adaptive, needs_card, reply_text
from bot.outbox import QueueTarget
from bot.types import HandoffCard, Reply

log = logging.getLogger(__name__)
MENTION_UNSAFE = re.compile(r"[<>\[\]*_`\\]")  # a display name must not close the <at> tag or add markdown


def reply_activity(reply: Reply) -> Activity:
    """The message activity for a customer reply: a card for answers, markdown text otherwise."""
    if needs_card(reply):
        summary = reply.text.split("\n", 1)[0][:200]
        return Activity(type=ActivityTypes.message, summary=summary, attachments=[attachment(answer_to_adaptive(reply))])
    return Activity(type=ActivityTypes.message, text=reply_text(reply), text_format="markdown")


def card_activity(card: HandoffCard, *, message_id: str | None = None) -> Activity:
    """The message activity carrying a handoff card (with the id to replace, for updates)."""
    return Activity(type=ActivityTypes.message, id=message_id, summary=card.title, attachments=[attachment(card_to_adaptive(card))])


def mention_activity(*, agent_id: str, agent_name: str, text: str) -> Activity:
    """A message that @mentions an agent, so Teams notifies them."""
    tag = f"<at>{MENTION_UNSAFE.sub('', agent_name) or 'agent'}</at>"
    mention = Mention(mentioned=ChannelAccount(id=agent_id, name=agent_name), text=tag, type="mention")
    return Activity(type=ActivityTypes.message, text=f"{tag} {text}", entities=[mention])


class TeamsOutbox:
    """bot.outbox.PlatformOutbox for Teams, on top of botbuilder's CloudAdapter."""

    platform = PLATFORM
    card_shows_mentions = False  # the Adaptive Card 1.5 schema has no mention entities

    def __init__(self, *, adapter: Any, conversations: Any, reads: Any, default_queue: str, app_id: str = "") -> None:
        self.adapter = adapter
        self.conversations, self.reads = conversations, reads
        self.default_queue = default_queue
        self.app_id = app_id

    async def send_reply(self, reply: Reply) -> str | None:
        """Into the customer's conversation (their channel thread, chat or 1:1)."""
        return await self._send(reference=reference_from(reply.ref.native), activity=reply_activity(reply))

    async def post_card(self, *, target: QueueTarget, card: HandoffCard) -> dict[str, Any]:
        """Start a new thread in the queue channel with the card; {} when no channel is known."""
        reference = self._queue_reference(target)
        if reference is None:
            log.error(texts.LOG_NO_QUEUE_CHANNEL, target.name, card.ticket_id, target.name)
            return {}
        thread_id, message_id = await self._new_thread(reference=reference, channel=target.channel, activity=card_activity(card))
        reference.conversation.id = thread_id
        native = {"reference": reference.serialize(), "tenant_id": reference.conversation.tenant_id}
        return {"platform": PLATFORM, "channel": target.channel, "message_id": message_id, "conversation_id": thread_id, "native": native}

    async def update_card(self, *, card_ref: dict[str, Any], card: HandoffCard) -> None:
        """Replace the card in place (everyone sees the new state)."""
        activity = card_activity(card, message_id=card_ref["message_id"])

        async def update(turn_context: TurnContext) -> None:
            await turn_context.update_activity(activity)

        await self._continue(reference=self._card_reference(card_ref), logic=update)

    async def post_in_card_thread(self, *, card_ref: dict[str, Any], text: str) -> None:
        """A reply in the card's thread (customer follow-ups, relayed replies)."""
        activity = Activity(type=ActivityTypes.message, text=text, text_format="plain")
        await self._send(reference=self._card_reference(card_ref), activity=activity)

    async def notify_agent(self, *, card_ref: dict[str, Any], agent_id: str, text: str) -> None:
        """@mention the agent in the card's thread (works in any team without a 1:1 install)."""
        activity = mention_activity(agent_id=agent_id, agent_name=self._agent_name(card_ref, agent_id), text=text)
        await self._send(reference=self._card_reference(card_ref), activity=activity)

    def _agent_name(self, card_ref: dict[str, Any], agent_id: str) -> str:
        """The owner's name as the ticket knows it (Teams shows it inside the mention)."""
        ticket = self.reads.ticket_of_card(platform=PLATFORM, message_id=card_ref.get("message_id"))
        owned = ticket is not None and ticket.claimed_by == agent_id and ticket.claimed_by_name
        return ticket.claimed_by_name if owned else "agent"

    # --- plumbing ----------------------------------------------------------------------------

    async def _send(self, *, reference: ConversationReference, activity: Activity) -> str | None:
        sent: list[str | None] = []

        async def send(turn_context: TurnContext) -> None:
            response = await turn_context.send_activity(activity)
            sent.append(response.id if response else None)

        await self._continue(reference=reference, logic=send)
        return sent[0] if sent else None

    async def _continue(self, *, reference: ConversationReference, logic: Callable[[TurnContext], Awaitable[None]]) -> None:
        await self.adapter.continue_conversation(reference, logic, bot_app_id=self.app_id)

    async def _new_thread(self, *, reference: ConversationReference, channel: str, activity: Activity) -> tuple[str, str]:
        """create_conversation in a channel: returns (thread conversation id, root message id)."""
        created: list[tuple[str, str]] = []
        tenant = reference.conversation.tenant_id
        channel_data = {"channel": {"id": channel}, "tenant": {"id": tenant}}
        params = ConversationParameters(is_group=True, bot=reference.bot, activity=activity, tenant_id=tenant, channel_data=channel_data)

        async def remember(turn_context: TurnContext) -> None:
            created.append((turn_context.activity.conversation.id, turn_context.activity.id))

        await self.adapter.create_conversation(
            self.app_id, remember, params, channel_id=reference.channel_id, service_url=reference.service_url
        )
        thread_id, message_id = created[0]
        return thread_id or thread_conversation_id(channel=channel, root=message_id), message_id

    def _queue_reference(self, target: QueueTarget) -> ConversationReference | None:
        """The stored reference of the queue channel; a channel id from the rules borrows the
        service URL and tenant of the default queue's stored reference."""
        for native in (target.native, self._stored_native(self.default_queue)):
            try:
                reference = reference_from(native or {})
            except LookupError:
                continue
            reference.conversation.id = target.channel
            reference.activity_id = None
            return reference
        return None

    def _stored_native(self, name: str) -> dict[str, Any] | None:
        stored = self.conversations.queue_channel(platform=PLATFORM, queue=name)
        return dict(stored.native) if stored is not None else None

    @staticmethod
    def _card_reference(card_ref: dict[str, Any]) -> ConversationReference:
        reference = reference_from(card_ref.get("native") or {})
        reference.conversation.id = card_ref.get("conversation_id") or reference.conversation.id
        return reference
