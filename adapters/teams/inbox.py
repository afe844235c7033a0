"""Teams activities through the core's durable inbox: stored before the 201, processed once.

``POST /api/messages`` authenticates a message or conversation update, stores it (the activity
and the claims its token proved, never the token) and only then answers 201. If the database
cannot take it, the Bot Connector gets a 503. A worker task leases the row and runs the turn
through the real adapter with the stored identity, so the connector client, member lookups and
replies work as they would inside the request. A redelivery (same conversation and activity
id) finds its row and is not run again; a turn that fails is given back and retried by the
sweep; at start-up this instance's unfinished rows are taken back. Invokes (card clicks) stay
inside the request: Teams needs the refreshed card in the response.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from botbuilder.schema import Activity
from botframework.connector.auth import AuthenticateRequestResult, ClaimsIdentity

from adapters.teams import convert, texts
from bot.inbox import Inbox, sweep_forever

log = logging.getLogger(__name__)
PLATFORM = "teams"
DELIVERY_STATE = "baton.delivery"  # turn_state: the Delivery of the running turn
OUTCOME_STATE = "baton.outcome"  # turn_state: what the core said of the turn ("retry", "answered", ...)
RETRY_OUTCOMES = frozenset({"retry", "undelivered"})


@dataclass(frozen=True, slots=True)
class Delivery:
    """The inbox row a turn runs for, and whether a failure will be retried (no apology yet)."""

    key: str
    retry_later: bool


def activity_key(activity: Activity) -> str | None:
    """The inbox key of an activity that may wait for a worker; None for invokes (answered
    inside the request) and for activities without an id (nothing to deduplicate on)."""
    if activity.type == "invoke" or not activity.id or activity.conversation is None or not activity.conversation.id:
        return None
    return convert.event_id(activity)


def stored_identity(result: AuthenticateRequestResult) -> dict[str, Any]:
    """What the request's token proved, as JSON: its claims, audience and caller id."""
    identity = result.claims_identity
    return {"claims": dict(identity.claims or {}), "type": identity.authentication_type, "audience": result.audience, "caller_id": result.caller_id}


def restored_identity(*, authentication: Any, stored: dict[str, Any]) -> AuthenticateRequestResult:
    """The authentication result of a stored activity, with a fresh connector factory."""
    identity = ClaimsIdentity(dict(stored.get("claims") or {}), True, stored.get("type"))
    result = AuthenticateRequestResult()
    result.claims_identity, result.audience, result.caller_id = identity, stored.get("audience"), stored.get("caller_id")
    result.connector_factory = authentication.create_connector_factory(identity)
    return result


class TeamsInbox:
    """Store, run in order per conversation, retry, and recover Teams activities."""

    def __init__(self, *, inbox: Inbox, adapter: Any, bot: Any, sweep_seconds: float = 15.0) -> None:
        self.inbox = inbox
        self.adapter = adapter
        self.bot = bot
        self.sweep_seconds = sweep_seconds
        self._tasks: set[asyncio.Task] = set()
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
        self._sweeper: asyncio.Task | None = None

    async def accept(self, *, key: str, activity: Activity, authenticated: AuthenticateRequestResult) -> bool | None:
        """Store an authenticated activity and start its turn: True when new, False for a
        redelivery, None when the database could not take it (answer 503)."""
        payload = {"activity": activity.serialize(), "identity": stored_identity(authenticated)}
        try:
            accepted = await asyncio.to_thread(self.inbox.accept, key=key, platform=PLATFORM, kind="activity", payload=payload)
        except Exception as exc:
            log.error(texts.LOG_NOT_STORED, key, type(exc).__name__)
            return None
        if accepted.new:
            self._spawn(key=key, conversation=activity.conversation.id)
        return accepted.new

    def _spawn(self, *, key: str, conversation: str | None) -> None:
        task = asyncio.ensure_future(self._in_order(key=key, conversation=conversation, restarted=False))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _in_order(self, *, key: str, conversation: str | None, restarted: bool) -> None:
        """One conversation's activities run one after another, in the order they arrived."""
        lock = self._locks.get(conversation or key)
        if lock is None:
            lock = self._locks[conversation or key] = asyncio.Lock()
        async with lock:
            await self.process(key=key, restarted=restarted)

    async def process(self, *, key: str, restarted: bool = False) -> None:
        """Lease one stored activity and run its turn; finish it, or give it back to be retried."""
        row = await asyncio.to_thread(self.inbox.take, key=key, restarted=restarted)
        if row is None:
            return  # finished, or another process is on it
        try:
            retry_later = await asyncio.to_thread(self.inbox.may_retry, keys=[key])
            outcome = await self._run(payload=dict(row.payload), delivery=Delivery(key=key, retry_later=retry_later))
        except Exception as exc:
            log.exception(texts.LOG_STORED_TURN_FAILED, key)
            await asyncio.to_thread(self.inbox.give_back, key=key, error=type(exc).__name__)
            return
        if outcome in RETRY_OUTCOMES:
            await asyncio.to_thread(self.inbox.give_back, key=key, error=f"turn {outcome}")
        else:
            await asyncio.to_thread(self.inbox.finish, keys=[key])

    async def _run(self, *, payload: dict, delivery: Delivery) -> str | None:
        """The stored activity through the real adapter and the bot; returns the turn's outcome."""
        activity = Activity().deserialize(payload["activity"])
        authenticated = restored_identity(authentication=self.adapter.bot_framework_authentication, stored=payload.get("identity") or {})
        outcome: list[str | None] = [None]

        async def logic(turn_context: Any) -> None:
            turn_context.turn_state[DELIVERY_STATE] = delivery
            await self.bot.on_turn(turn_context)
            outcome[0] = turn_context.turn_state.get(OUTCOME_STATE)

        await self.adapter.process_activity(authenticated, activity, logic)
        return outcome[0]

    async def sweep(self, *, older_than: timedelta) -> int:
        """Run what a dead process, another replica or a failed turn left; returns how many."""
        rows = await asyncio.to_thread(self.inbox.due, platform=PLATFORM, restarted=True, older_than=older_than)
        for row in rows:
            conversation = ((row.payload.get("activity") or {}).get("conversation") or {}).get("id")
            await self._in_order(key=row.key, conversation=conversation, restarted=True)
        if rows:
            log.info(texts.LOG_RECOVERED, len(rows))
        return len(rows)

    async def start(self, _app: Any = None) -> None:
        """on_startup: take back this instance's unfinished activities, then sweep every ``sweep_seconds``."""
        self._sweeper = asyncio.ensure_future(sweep_forever(sweep=self.sweep, every=self.sweep_seconds, platform=PLATFORM))

    async def drain(self, *, timeout: float = 5.0) -> None:
        """Wait for the turns started so far (tests, shutdown)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while self._tasks and asyncio.get_running_loop().time() < deadline:
            await asyncio.wait(list(self._tasks), timeout=max(0.0, deadline - asyncio.get_running_loop().time()))

    async def stop(self, _app: Any = None) -> None:
        """on_cleanup: let running turns finish (what does not is recovered at the next start)."""
        if self._sweeper is not None:
            self._sweeper.cancel()
        await self.drain(timeout=5.0)
