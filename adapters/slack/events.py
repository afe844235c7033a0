"""Message events, after the ack: customer turns, agent replies under cards, takeovers, edits.

Routing of a person's new message:
- in a queue channel: a reply under a handoff card is an agent's reply, relayed to the customer
  unless it starts with an internal marker (``note:``, ``//``, ``[internal]``); anything else
  there is agents' talk and ignored;
- in a customer thread, a reply by a member of the installing workspace who is not the thread's
  customer is a person taking over: the bot goes silent there until the ticket is resolved;
- in a Slack Connect channel, members of the installing workspace are the support team, not
  customers: their other messages there are left alone;
- anything else is a customer message: eyes reaction, debounce, then the core's Dialogue. A
  customer's quick successive top-level posts in one channel are one turn, answered in the
  first post's thread (which is then the conversation); replies in a thread are debounced there.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import TYPE_CHECKING, Any

from slack_sdk.errors import SlackApiError

from adapters.slack import convert
from adapters.slack.directory import SlackDirectory
from adapters.slack.options import SlackOptions
from adapters.slack.outbox import SlackOutbox
from adapters.slack.turns import TurnQueue

if TYPE_CHECKING:
    from bot.app import Core

log = logging.getLogger(__name__)
WORKING = "eyes"


class MessageHandler:
    """Turns message-family events into core calls; one instance per mounted adapter."""

    def __init__(self, *, core: Core, outbox: SlackOutbox, directory: SlackDirectory, options: SlackOptions, queue_channels: set[str]) -> None:
        self.core, self.conversations = core, core.conversations
        self.outbox, self.directory, self.options = outbox, directory, options
        self.queue_channels = queue_channels
        self.turns = TurnQueue(delay=options.debounce_seconds, handle=self._turn, limit=options.max_turns)

    async def on_event(self, *, body: dict, home_team: str | None, bot_user_id: str | None, delivery: str | None = None) -> bool:
        """Entry point for ``message`` and ``app_mention`` events (raises only for the inbox to retry).

        Events of one channel are handled one after the other, in arrival order, so two quick
        agent replies reach the customer in the order they were written, and an edit finds
        the message it edits. Returns True when the event joined a customer turn: the turn
        marks its inbox item ``delivery`` done when it ends.
        """
        event = body.get("event") or {}
        async with self.turns.lock(f"channel:{event.get('channel')}"):
            return await self._route(body, event, home_team, bot_user_id, delivery)

    async def _route(self, body: dict, event: dict, home_team: str | None, bot_user_id: str | None, delivery: str | None) -> bool:
        kind = convert.event_kind(event)
        if kind == "message":
            return await self._message(body, home_team, bot_user_id, delivery)
        if kind in ("edit", "delete") and await self._first_time(f"slack-event:{body.get('event_id')}", delivery):
            await (self._edit(event, bot_user_id) if kind == "edit" else self._delete(event))
        return False

    async def _first_time(self, key: str, delivery: str | None) -> bool:
        """Persisted dedupe: message+app_mention twins stop here. The inbox item that marked a
        key may pass again (it is being recovered after a crash). Database calls of the worker
        loop run where the core runs store calls (threads on PostgreSQL)."""
        return await self.conversations.first_time(key=key, platform="slack", owner=delivery)

    def _is_queue_channel(self, channel: str) -> bool:
        return channel in self.queue_channels or channel in self.outbox.card_channels

    async def _message(self, body: dict, home_team: str | None, bot_user_id: str | None, delivery: str | None) -> bool:
        post = convert.post_from(body=body, bot_user_id=bot_user_id)
        if post is None or not await self._first_time(f"slack-msg:{post.channel}:{post.ts}", delivery):
            return False
        post = dataclasses.replace(post, delivery=delivery)
        if self._is_queue_channel(post.channel):
            if post.is_reply:
                await self._card_reply(post, home_team)
            return False
        author = await self.directory.person(user_id=post.user, user_team=post.user_team, home_team=home_team, profile=post.profile)
        key = convert.conversation_ref(post=post).key
        if post.is_reply and await self.conversations.is_takeover(conversation_id=key, author=author):
            async with self.turns.lock(key):
                await self.conversations.take_over(conversation_id=key, author=author, text=post.text, platform_message_id=post.ts)
            return False
        if post.ext_shared and not author.external:
            return False
        if await self.conversations.bot_may_reply(conversation_id=key):
            await self._react("reactions_add", post)
        group = key if post.is_reply else f"{post.channel}:top-level"  # quick new posts join the first one's thread
        self.turns.add(group=group, author=post.user, item=(post, author))
        return True

    # --- customer turns --------------------------------------------------------------------

    async def _turn(self, batch: list[tuple[convert.SlackPost, Any]]) -> None:
        """One debounced turn in the first post's thread: the core decides, then un-react."""
        posts = [post for post, _ in batch]
        first, author = batch[0]
        deliveries = [post.delivery for post in posts if post.delivery]
        try:
            status = await self._decide(first=first, posts=posts, author=author, deliveries=deliveries)
        except Exception as exc:
            await self.core.threads.run(self._give_back, deliveries, error=type(exc).__name__)
            raise
        finally:
            for post in posts:
                await self._react("reactions_remove", post)
        if status in ("retry", "undelivered"):  # the inbox runs it again (a timed-out post may still land)
            await self.core.threads.run(self._give_back, deliveries, error=f"turn {status}")
        else:
            await self.core.threads.run(self._finish, deliveries)

    async def _decide(self, *, first: convert.SlackPost, posts: list[convert.SlackPost], author: Any, deliveries: list[str]) -> str:
        permalink = await self.directory.permalink(channel=first.channel, ts=first.root)
        channel_name = await self.directory.channel_name(first.channel)
        ref = convert.conversation_ref(post=first, permalink=permalink, channel_name=channel_name)
        retry_later = self.core.inbox is not None and await self.core.threads.run(self.core.inbox.may_retry, keys=deliveries)
        async with self.turns.lock(ref.key):
            result = await self.core.conversations.receive(message=convert.inbound(posts=posts, author=author, ref=ref), retry_later=retry_later)
        log.info("slack turn %s: %s", first.event_id, result.status)
        return result.status

    def _finish(self, deliveries: list[str]) -> None:
        if self.core.inbox is not None and deliveries:
            self.core.inbox.finish(keys=deliveries)

    def _give_back(self, deliveries: list[str], *, error: str) -> None:
        """The turn failed before the core could take it: its events are retried by the sweep."""
        for key in deliveries if self.core.inbox is not None else []:
            self.core.inbox.give_back(key=key, error=error)

    async def _react(self, method: str, post: convert.SlackPost) -> None:
        """Add or remove the 'working on it' reaction; a failure here never stops a turn."""
        try:
            await getattr(self.outbox.client, method)(channel=post.channel, timestamp=post.ts, name=WORKING)
        except SlackApiError as exc:
            log.debug("%s failed: %s", method, exc.response.get("error"))

    # --- agents under cards ----------------------------------------------------------------

    async def _card_reply(self, post: convert.SlackPost, home_team: str | None) -> None:
        """Relay an agent's reply under a card to the customer, or keep it as an internal note."""
        agent = await self.directory.person(user_id=post.user, user_team=post.user_team, home_team=home_team, profile=post.profile)
        if agent.external:
            log.warning("ignored a card-thread reply from external user %s", post.user)
            return
        ticket_id = self.ticket_for_card(channel=post.channel, ts=post.root)
        if ticket_id is None:
            return
        internal = convert.is_internal(post.text, prefixes=self.options.internal_prefixes)
        result = await self.core.desk.agent_reply(ticket_id=ticket_id, agent_id=post.user, agent_name=agent.display_name, text=post.text, internal=internal, echo_in_card=False, key=f"relay:{post.channel}:{post.ts}")
        if not result.ok:
            await self.outbox.notify_agent(card_ref={"channel": post.channel}, agent_id=post.user, text=result.message)

    def ticket_for_card(self, *, channel: str, ts: str) -> str | None:
        """The ticket whose card is the message ``ts`` in ``channel`` (memory first, then the store)."""
        known = self.outbox.ticket_for_card(channel=channel, ts=ts)
        if known:
            return known
        ticket = self.core.reads.ticket_of_card(platform="slack", message_id=ts)
        return ticket.id if ticket is not None and ticket.card_channel == channel else None

    # --- edits and deletions ---------------------------------------------------------------

    async def _edit(self, event: dict, bot_user_id: str | None) -> None:
        """Keep the stored text current; an open ticket's card thread hears about the edit."""
        edit = convert.edit_from(event=event, bot_user_id=bot_user_id)
        if edit is None or self._is_queue_channel(edit.channel):
            return

        def revise(item: tuple) -> tuple:
            post = item[0]
            return (dataclasses.replace(post, text=edit.text), item[1]) if (post.channel, post.ts) == (edit.channel, edit.ts) else item

        if self.turns.revise(revise):
            return  # still waiting in the debounce window: the turn will read the new text
        await self.conversations.edited(platform_message_id=edit.ts, text=edit.text)

    async def _delete(self, event: dict) -> None:
        """A deleted message leaves the history the core reads (it stays in the audit trail)."""
        ts, channel = convert.deleted_ts(event), str(event.get("channel", ""))
        if not ts or self._is_queue_channel(channel):
            return
        if self.turns.revise(lambda item: None if (item[0].channel, item[0].ts) == (channel, ts) else item):
            return  # deleted before the bot decided: it never will
        self.conversations.deleted(platform_message_id=ts)
