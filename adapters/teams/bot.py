"""The Teams activity handler: customers' messages to the core, agents' clicks to the desk.

Routing of a message: a queue set-up command; a message in a card's thread (an agent
answering, or an internal note); chatter in a queue channel (a hint); everything else is a
customer turn for ``Dialogue.handle``. Card buttons arrive as ``adaptiveCard/action`` invokes.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.core.teams import TeamsActivityHandler, TeamsInfo
from botbuilder.schema import AdaptiveCardInvokeResponse, ChannelAccount
from botbuilder.schema.teams import TeamInfo

from adapters.teams import actions, convert, texts
from adapters.teams.inbox import DELIVERY_STATE, OUTCOME_STATE
from adapters.teams.lookup import queue_of_channel
from bot.tickets import ActionResult

log = logging.getLogger(__name__)


class BatonTeamsBot(TeamsActivityHandler):
    """One instance per process; every state it needs comes from the core's services."""

    def __init__(self, *, core: Any, home_tenant: str = "") -> None:
        self.core = core
        self.home_tenant = home_tenant or None

    # --- messages ----------------------------------------------------------------------------

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        """Route one message: answer button, queue command, card thread, queue chatter, customer."""
        activity = turn_context.activity
        text = convert.message_text(activity)
        clicked = convert.submitted(activity.value)
        if clicked is not None and not text:
            return await self._answer_button(turn_context, clicked[0])
        queue = convert.queue_command(text)
        if queue is not None:
            return await self._set_queue(turn_context, queue)
        if await self._agent_message(turn_context, text):
            return None
        if convert.conversation_type(activity) == "channel" and self._queue_of(activity):
            return await self._reply(turn_context, texts.QUEUE_HELP)
        await self._customer_message(turn_context, text)

    async def _customer_message(self, turn_context: TurnContext, text: str) -> None:
        """A customer turn: the core decides, answers or hands off (replies go via the outbox)."""
        activity = turn_context.activity
        author = convert.person_of(activity, home_tenant=self.home_tenant, member=await self._member(turn_context))
        message, delivery = _carried(turn_context, convert.inbound(activity, text=text, author=author, ref=convert.conversation_ref(activity)))
        retry_later = bool(delivery and delivery.retry_later)
        # No take-over check here: on Teams the home tenant holds the customers too (internal
        # support), so membership does not tell staff apart; agents take cases by claiming cards.
        result = await self.core.conversations.receive(message=message, retry_later=retry_later)
        turn_context.turn_state[OUTCOME_STATE] = result.status

    async def _member(self, turn_context: TurnContext) -> dict[str, Any] | None:
        """The author's Teams profile (own tenant, email); None when the lookup fails."""
        try:
            member = await TeamsInfo.get_member(turn_context, turn_context.activity.from_property.id)
        except Exception:  # a guest, a 404 or a connector hiccup must not lose the message
            log.info(texts.LOG_MEMBER_LOOKUP, turn_context.activity.id)
            return None
        return member.serialize() if member is not None else None

    async def _agent_message(self, turn_context: TurnContext, text: str) -> bool:
        """A message in a card's thread (True), else False: relayed, kept as a note, or refused."""
        ticket = self._card_of_thread(turn_context.activity)
        if ticket is None:
            return False
        if await self._is_outsider(turn_context):
            log.warning(texts.LOG_OUTSIDER, turn_context.activity.id)
        elif ticket.status == "resolved":
            await self._reply(turn_context, texts.RESOLVED_THREAD.format(ticket=ticket.id))
        else:
            await self._relay(turn_context, ticket.id, text)
        return True

    def _card_of_thread(self, activity: Any) -> Any:
        """The ticket whose card is the root of this channel thread, if any."""
        kind = convert.conversation_type(activity)
        root = convert.thread_root(conversation_id=activity.conversation.id, conversation_type=kind, activity_id=None)
        return self.core.reads.ticket_of_card(platform=convert.PLATFORM, message_id=root)

    async def _relay(self, turn_context: TurnContext, ticket_id: str, text: str) -> None:
        """To the customer under the agent's name, or an internal note (``note:``, ``//``, ``[internal]``)."""
        sender = turn_context.activity.from_property
        internal = convert.is_internal(text)
        body = convert.without_marker(text) if internal else text
        name = sender.name or sender.id
        key = f"teams-relay:{convert.event_id(turn_context.activity)}"  # a recovered relay posts at most once
        result = await self.core.desk.agent_reply(ticket_id=ticket_id, agent_id=sender.id, agent_name=name, text=body, internal=internal, key=key)
        if not result.ok:
            await self._reply(turn_context, result.message)

    async def _is_outsider(self, turn_context: TurnContext) -> bool:
        """Someone from another organisation (a shared queue channel) never acts as an agent."""
        if not self.home_tenant:
            return False
        member = await self._member(turn_context)
        return convert.person_of(turn_context.activity, home_tenant=self.home_tenant, member=member).external

    async def _answer_button(self, turn_context: TurnContext, action: str) -> None:
        """Helpful / Not helpful rate the newest answer; Talk to a person hands off."""
        ref = convert.conversation_ref(turn_context.activity)
        if action == "talk_to_person":
            return await self._talk_to_person(turn_context, ref)
        decision_id = self.core.conversations.latest_answer(conversation_id=ref.key)
        self.core.conversations.rate_answer(decision_id=decision_id, kind=action, by=turn_context.activity.from_property.id)
        await self._reply(turn_context, texts.FEEDBACK_THANKS)

    async def _talk_to_person(self, turn_context: TurnContext, ref: Any) -> None:
        """The customer asked for a person: the core hands the conversation over at once."""
        activity = turn_context.activity
        author = convert.person_of(activity, home_tenant=self.home_tenant, member=await self._member(turn_context))
        message, _ = _carried(turn_context, convert.inbound(activity, text=texts.TALK_TO_PERSON, author=author, ref=ref))
        await self.core.conversations.request_person(message=message)

    # --- queue channels ----------------------------------------------------------------------

    async def _set_queue(self, turn_context: TurnContext, queue: str) -> None:
        """ "@Baton use this channel as the billing queue": store the channel's reference."""
        activity = turn_context.activity
        if convert.conversation_type(activity) != "channel":
            return await self._reply(turn_context, texts.QUEUE_ONLY_IN_CHANNELS)
        if await self._is_outsider(turn_context):
            return await self._reply(turn_context, texts.OUTSIDER)
        if queue not in self.core.rules.queues:
            known = ", ".join(sorted(self.core.rules.queues))
            return await self._reply(turn_context, texts.QUEUE_UNKNOWN.format(queue=queue, known=known))
        self._save_queue(activity, queue)
        await self._reply(turn_context, texts.QUEUE_SET.format(queue=queue))

    def _save_queue(self, activity: Any, queue: str) -> None:
        channel = convert.base_conversation_id(activity.conversation.id)
        reference = convert.reference_json(activity, conversation_id=channel, keep_user=False)
        native = {"reference": reference, "tenant_id": convert.tenant_of(activity)}
        self.core.conversations.remember_queue_channel(platform=convert.PLATFORM, queue=queue, channel=channel, native=native)
        log.info(texts.LOG_QUEUE_SET, queue, channel)

    def _queue_of(self, activity: Any) -> str | None:
        channel = convert.base_conversation_id(activity.conversation.id)
        return queue_of_channel(conversations=self.core.conversations, rules=self.core.rules, channel=channel)

    async def on_teams_members_added(self, teams_members_added: list[ChannelAccount], team_info: TeamInfo, turn_context: TurnContext) -> None:
        """Installed in a team: its channel becomes the default queue unless one is set already."""
        activity = turn_context.activity
        bot_added = any(member.id == activity.recipient.id for member in teams_members_added)
        queue = self.core.rules.default_queue
        already = self.core.conversations.queue_channel(platform=convert.PLATFORM, queue=queue) is not None
        if not bot_added or team_info is None or already:
            return
        self._save_queue(activity, queue)
        await self._reply(turn_context, texts.INSTALLED.format(queue=queue))

    # --- card buttons --------------------------------------------------------------------------

    async def on_adaptive_card_invoke(self, turn_context: TurnContext, invoke_value: Any) -> AdaptiveCardInvokeResponse:
        """Action.Execute on a handoff card: run the verb, answer with the refreshed card."""
        activity = turn_context.activity
        verb, data = convert.invoke_action(activity.value)  # botbuilder leaves invoke_value.action a dict
        ticket_id = str(data.get("ticket") or "")
        if await self._is_outsider(turn_context):
            log.warning(texts.LOG_OUTSIDER, activity.id)
            return actions.card_response(desk=self.core.desk, ticket_id=ticket_id, result=ActionResult(False, texts.OUTSIDER))
        if not actions.is_known(verb):
            log.warning(texts.LOG_UNKNOWN_VERB, verb, activity.id)
        sender = activity.from_property
        result = await actions.run_verb(desk=self.core.desk, verb=verb, data=data, agent_id=sender.id, agent_name=sender.name or sender.id)
        return actions.card_response(desk=self.core.desk, ticket_id=ticket_id, result=result)

    @staticmethod
    async def _reply(turn_context: TurnContext, text: str) -> None:
        await turn_context.send_activity(text)


def _carried(turn_context: TurnContext, message: Any) -> tuple[Any, Any]:
    """The message tagged with the inbox row carrying it, and that Delivery (None inside a
    request): a failure is then retried by the inbox, and a recovered turn resumes."""
    delivery = turn_context.turn_state.get(DELIVERY_STATE)
    return (message if delivery is None else dataclasses.replace(message, delivery=delivery.key)), delivery
