"""Slack events and clicks through the core's durable inbox: stored before the ack, processed once.

A Bolt middleware stores every ``event_callback`` body (with the installing team and the
bot's user id) in the inbox *before* Bolt acknowledges it, over HTTP and Socket Mode alike;
if the database cannot take it, Slack gets a 503 and delivers it again. A redelivery finds
its row and is not processed again. Interactions (button clicks, modal submissions) are
stored by their listener before it acks, keyed by their trigger id; if the database cannot
take one, the click is still handled, from memory (Slack never redelivers clicks). The worker leases the row, runs the message handler and
marks it done when its turn has ended. A sweep recovers rows a dead process left behind: at
start-up this instance's own unfinished rows, later any row whose lease ran out (another
replica died) or that waited too long.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from slack_bolt.response import BoltResponse

from bot.inbox import Accepted, Inbox, sweep_forever
from bot.threads import INLINE, Threads

log = logging.getLogger(__name__)
PLATFORM = "slack"
CONTEXT_KEY = "baton_inbox"  # where the middleware leaves (key, new) for the listener
Handler = Callable[[dict, str], Awaitable[bool]]  # (stored payload, inbox key) -> True when a turn finishes it later


def event_key(body: dict) -> str | None:
    """The inbox key of an Events API body: its event id (the same on every redelivery)."""
    event_id = body.get("event_id")
    return f"slack:{event_id}" if body.get("type") == "event_callback" and isinstance(event_id, str) and event_id else None


class SlackInbox:
    """The Slack side of the inbox: the storing middleware, processing, and the recovery sweep."""

    def __init__(self, *, inbox: Inbox, handlers: dict[str, Handler], threads: Threads = INLINE, sweep_seconds: float = 15.0) -> None:
        self.inbox = inbox
        self.threads = threads  # where the worker loop's inbox calls run (the core's store threads)
        self.handlers = handlers  # by row kind: "event", and one per kind of interaction
        self.sweep_seconds = sweep_seconds
        self._sweeper: asyncio.Task | None = None

    async def middleware(self, body: dict, context: Any, next: Callable[[], Awaitable[Any]]) -> Any:
        """Bolt middleware: store an event before the ack; 503 when the database cannot."""
        key = event_key(body)
        if key is None:
            return await next()
        home_team, bot_user_id = home_of(context)
        accepted = await self._store(key=key, kind="event", payload={"body": body, "home_team": home_team, "bot_user_id": bot_user_id})
        if accepted is None:
            return BoltResponse(status=503, body="")  # Slack delivers it again
        context[CONTEXT_KEY] = (key, accepted.new)
        return await next()

    async def store_interaction(self, *, kind: str, body: dict, home_team: str | None) -> tuple[str | None, bool]:
        """Store a click or submission before its ack: (key, new). No key when it has no trigger
        id or the database failed; the caller then handles it from memory."""
        trigger = body.get("trigger_id")
        if not isinstance(trigger, str) or not trigger:
            return None, True
        key = f"slack-{kind}:{trigger}"
        accepted = await self._store(key=key, kind=kind, payload={"body": body, "home_team": home_team})
        return (None, True) if accepted is None else (key, accepted.new)

    async def _store(self, *, key: str, kind: str, payload: dict) -> Accepted | None:
        """Store one inbound item off the HTTP loop; None when the database cannot take it."""
        try:
            return await asyncio.to_thread(self.inbox.accept, key=key, platform=PLATFORM, kind=kind, payload=payload)
        except Exception as exc:
            log.error("could not store slack %s %s (%s)", kind, key, type(exc).__name__)
            return None

    async def process(self, *, key: str, restarted: bool = False) -> None:
        """Lease one stored event or interaction and run its handler; runs on the worker loop
        (its database calls where the core runs store calls: threads on PostgreSQL, inline on SQLite)."""
        row = await self.threads.run(self.inbox.take, key=key, restarted=restarted)
        if row is None:
            return  # finished, or another process is on it
        try:
            deferred = await self.handlers[row.kind](dict(row.payload), key)
        except Exception as exc:
            log.exception("slack event %s failed; it will be retried", key)
            await self.threads.run(self.inbox.give_back, key=key, error=type(exc).__name__)
            return
        if not deferred:
            await self.threads.run(self.inbox.finish, keys=[key])

    async def sweep(self, *, older_than: timedelta) -> int:
        """Process what a dead process, another replica or a failed write left (pending rows older
        than ``older_than``, expired leases, this instance's rows no worker holds); returns how many."""
        rows = await asyncio.to_thread(self.inbox.due, platform=PLATFORM, restarted=True, older_than=older_than)
        for row in rows:
            await self.process(key=row.key, restarted=True)
        if rows:
            log.info("recovered %d stored slack events", len(rows))
        return len(rows)

    def start_sweeping(self) -> None:
        """Begin the recovery loop on the running (worker) loop: once now, then every ``sweep_seconds``."""
        self._sweeper = asyncio.ensure_future(sweep_forever(sweep=self.sweep, every=self.sweep_seconds, platform=PLATFORM))

    def stop_sweeping(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()


def home_of(context: Any) -> tuple[str | None, str | None]:
    """The installing team and the bot's user id, from Bolt's auth.test-based authorization."""
    result = context.authorize_result
    return (result.team_id if result else context.team_id), (result.bot_user_id if result else context.bot_user_id)
