"""Button clicks and the edit modal, after the ack.

Card buttons (claim, send, edit, release, resolve, feedback) are for members of the installing
workspace only: a click whose ``user.team_id`` is another team (a Slack Connect guest) is
refused with an ephemeral note and logged. Answer buttons (helpful, not helpful, talk to a
person) are for the customers themselves, external or not.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

from adapters.slack import convert, render
from adapters.slack.directory import SlackDirectory
from adapters.slack.outbox import SlackOutbox
from adapters.slack.turns import TurnQueue
from bot.cards import OPEN_BUTTONS, RESOLVED_BUTTONS
from bot.dialogue import ANSWER_BUTTONS
from bot.tickets import ActionResult
from bot.types import ConversationRef, InboundMessage

if TYPE_CHECKING:
    from bot.app import Core

log = logging.getLogger(__name__)
CARD_ACTIONS = tuple(dict.fromkeys(b.action for b in OPEN_BUTTONS + RESOLVED_BUTTONS))
ANSWER_ACTIONS = tuple(b.action for b in ANSWER_BUTTONS)
TALK_TEXT = "I'd like to talk to a person"
REFUSED = "Only members of the support team's workspace can act on handoff cards."
_SLACK_USER = re.compile(r"^[UW][A-Z0-9]{2,}$")


def is_member(*, user_team: str | None, home_team: str | None) -> bool:
    """Card actions need a user of the installing workspace; unknown teams are refused."""
    return bool(home_team) and user_team == home_team


def owner_mention(result: ActionResult) -> str | None:
    """'<@U123>' for a ticket claimed from Slack, '@Dana' otherwise, None when unclaimed."""
    ticket = result.ticket
    if ticket is None or not ticket.claimed_by:
        return None
    if _SLACK_USER.match(ticket.claimed_by):
        return f"<@{ticket.claimed_by}>"
    return "@" + render.escape(ticket.claimed_by_name or ticket.claimed_by)


def submission_errors(view: dict) -> dict[str, str] | None:
    """Block errors for an empty 'Edit and send' submission (Slack shows them in the modal)."""
    text = convert.submitted_text(view, block_id=render.EDIT_BLOCK, action_id=render.EDIT_ACTION)
    return None if text.strip() else {render.EDIT_BLOCK: "Write a reply first."}


class ActionHandler:
    """Runs what a click asks for through the core's TicketDesk and Dialogue."""

    def __init__(self, *, core: Core, outbox: SlackOutbox, directory: SlackDirectory, turns: TurnQueue) -> None:
        self.core, self.outbox, self.directory, self.turns = core, outbox, directory, turns

    async def on_card_action(self, *, payload: dict, home_team: str | None) -> None:
        """A click on a handoff card: members only; failures are told to the clicker alone."""
        click = convert.click_from(payload)
        if click is None or not click.value:
            return
        if not is_member(user_team=click.user_team, home_team=home_team):
            log.warning("refused card action %s by user %s of team %s", click.action, click.user_id, click.user_team)
            await self._tell(click, REFUSED)
            return
        result = await self._card(click, await self.directory.name(click.user_id))
        if result is not None and (not result.ok or click.action.startswith("feedback_")):
            await self._tell(click, self._result_text(click, result))

    async def _card(self, click: convert.Click, name: str) -> ActionResult | None:
        desk, ticket_id, agent = self.core.desk, click.value, click.user_id
        if click.action == "claim":
            return await desk.claim(ticket_id=ticket_id, agent_id=agent, agent_name=name)
        if click.action == "send_suggested":
            return await desk.send_suggested(ticket_id=ticket_id, agent_id=agent, agent_name=name)
        if click.action == "edit_send":
            return await self._open_editor(click)
        if click.action == "release":
            return await desk.release(ticket_id=ticket_id, agent_id=agent)
        if click.action == "resolve":
            return await desk.resolve(ticket_id=ticket_id, agent_id=agent)
        if click.action == "no_person_needed":
            return await desk.no_person_needed(ticket_id=ticket_id, agent_id=agent, agent_name=name)
        if click.action.startswith("feedback_"):
            return await desk.record_feedback(ticket_id=ticket_id, kind=click.action.removeprefix("feedback_"), by=agent)
        return None

    def _result_text(self, click: convert.Click, result: ActionResult) -> str:
        """The core's message, except that a lost claim names the winner as a Slack mention."""
        owner = owner_mention(result) if click.action == "claim" else None
        if owner and result.ticket is not None:
            return f"Ticket `{result.ticket.id}` is already claimed by {owner}."
        return render.escape(result.message)

    async def _open_editor(self, click: convert.Click) -> ActionResult | None:
        """'Edit and send': a modal prefilled with the draft (the trigger id lives 3 seconds)."""
        ticket = self.core.reads.ticket(ticket_id=click.value)
        if ticket is None:
            return ActionResult(False, f"Ticket {click.value} does not exist.")
        view = render.edit_modal(ticket_id=ticket.id, draft=ticket.suggested_reply or "", card_channel=click.channel, card_ts=click.message_ts)
        await self.outbox.client.views_open(trigger_id=click.trigger_id, view=view)
        return None

    async def on_submission(self, *, payload: dict, home_team: str | None, delivery: str | None = None) -> None:
        """The edited reply goes to the customer under the agent's name (at most once: a recovered
        submission finds the reply it already sent)."""
        user, view = payload.get("user") or {}, payload.get("view") or {}
        if not is_member(user_team=user.get("team_id"), home_team=home_team):
            log.warning("refused an edited reply from user %s of team %s", user.get("id"), user.get("team_id"))
            return
        meta = convert.metadata(view)
        text = convert.submitted_text(view, block_id=render.EDIT_BLOCK, action_id=render.EDIT_ACTION)
        agent = str(user.get("id", ""))
        key = f"edited:{delivery}" if delivery else None
        result = await self.core.desk.agent_reply(ticket_id=str(meta.get("ticket_id", "")), agent_id=agent, agent_name=await self.directory.name(agent), text=text, key=key)
        if not result.ok and meta.get("channel"):
            await self.outbox.notify_agent(card_ref={"channel": meta["channel"]}, agent_id=agent, text=render.escape(result.message))

    async def on_answer_action(self, *, payload: dict, home_team: str | None, delivery: str | None = None) -> None:
        """Helpful / not helpful feed the KPIs; 'Talk to a person' hands the thread over.

        ``delivery`` is the click's inbox key: a click recovered after a crash resumes its handoff."""
        click = convert.click_from(payload)
        if click is None:
            return
        if click.action == "talk_to_person":
            await self._talk_to_person(click, home_team, delivery)
            return
        decision_id = int(click.value) if click.value.isdigit() else None
        self.core.conversations.rate_answer(decision_id=decision_id, kind=click.action, by=click.user_id)
        await self._tell(click, "Thanks for the feedback.")

    async def _talk_to_person(self, click: convert.Click, home_team: str | None, delivery: str | None) -> None:
        """Hand the thread to a person at once (the core's Dialogue.request_person)."""
        thread = click.thread_ts or click.message_ts
        key = ConversationRef(platform="slack", channel=click.channel, thread=thread).key
        known = self.core.conversations.is_known(conversation_id=key)
        ref = self.core.desk.conversation_ref(conversation_id=key) if known else ConversationRef(platform="slack", channel=click.channel, thread=thread)
        author = await self.directory.person(user_id=click.user_id, user_team=click.user_team, home_team=home_team)
        event_id = f"slack-talk:{click.channel}:{click.message_ts}:{click.user_id}:{click.action_ts}"
        async with self.turns.lock(key):
            result = await self.core.conversations.request_person(message=InboundMessage(event_id=event_id, ref=ref, author=author, text=TALK_TEXT, delivery=delivery))
        log.info("talk-to-a-person click in %s: %s", key, result.status)

    async def on_review_action(self, *, payload: dict, home_team: str | None) -> None:
        """A reviewer's verdict on a sampled answer ("should have been escalated" / "fine")."""
        from bot.ops.feedback import FeedbackError, parse_review_action

        click = convert.click_from(payload)
        parsed = parse_review_action(click.action) if click is not None else None
        if click is None or parsed is None:
            return
        if not is_member(user_team=click.user_team, home_team=home_team):
            log.warning("refused review action by user %s of team %s", click.user_id, click.user_team)
            await self._tell(click, REFUSED)
            return
        verdict, decision_id = parsed
        try:
            self.core.conversations.review_answer(decision_id=decision_id, verdict=verdict, by=click.user_id)
        except FeedbackError as exc:
            await self._tell(click, render.escape(str(exc)))
            return
        await self._tell(click, "Thanks, your verdict is recorded for the weekly review.")

    def stats_reply(self, *, payload: dict, home_team: str | None) -> str:
        """`/baton stats [7d]`: the five KPIs, for members of the installing workspace only."""
        from bot.ops.config import ops_config

        if not is_member(user_team=payload.get("team_id"), home_team=home_team):
            return REFUSED
        words = (payload.get("text") or "").split()
        if not words or words[0] != "stats":
            return "Usage: `/baton stats [7d|30d|2026-11-01]`: the five KPIs for the period."
        try:
            return self.core.reads.stats_text(since=words[1] if len(words) > 1 else "7d", config=ops_config(rules=self.core.rules))
        except ValueError as exc:
            return render.escape(str(exc))

    async def _tell(self, click: convert.Click, text: str) -> None:
        """An ephemeral note only the clicker sees, in the thread they clicked in."""
        await self.outbox.client.chat_postEphemeral(channel=click.channel, user=click.user_id, text=text, thread_ts=click.thread_ts)
