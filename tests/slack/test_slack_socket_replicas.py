"""Replicas sharing one database, fed over Socket Mode and HTTP (issue 9).

Two real cores and web apps (``build_core`` + ``build_web_app``) with different instance names
run on the same database, each with its own Socket Mode connection to the Slack stand-in. Slack
spreads events over an app's connections and redelivers an unacked event, possibly on another
connection; over HTTP a load balancer sends each request to any replica. Whatever replica an
event lands on, and however often it lands, it must be stored once, processed once and
answered once in its thread.

The stand-in sends ``push_socket_event`` to its newest connection only; to choose the
connection (and so the replica) :func:`send_on` writes the envelope on a given stand-in
websocket itself, built exactly as ``push_socket_event`` builds it, and acks are read back
through the stand-in's own ``wait_socket_ack``.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from slack_helpers import HELP, SECRET, Baton
from sqlmodel import Session, select

from bot.store.durable import InboxRow
from bot.store.models import DecisionRow, MessageRow

QUESTION = "Where do I add our VAT number so it shows on invoices?"
A, B = "replica-a", "replica-b"


# --- harness ---------------------------------------------------------------------------------


@asynccontextmanager
async def replica(settings, slack, swept: list[str]) -> AsyncIterator[Baton]:
    """One Baton process: its own core, web app, worker loop and (with an app token) socket;
    entered once its start-up sweep is over."""
    from bot.app import build_core
    from bot.server import build_web_app

    core = build_core(settings=settings)
    app = build_web_app(core=core, settings=settings)
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        await until(lambda: settings.instance in swept, what=f"the start-up sweep of {settings.instance}")
        yield Baton(client=client, core=core, slack=slack, app=app)


@pytest.fixture
def startup_sweeps(monkeypatch) -> list[str]:
    """The instances whose start-up recovery sweep has finished. A starting replica's sweep
    takes every pending row, so events are pushed only once it is over: then an event is
    processed by the replica it landed on, and the tests can say which one that was."""
    from adapters.slack.inbox import SlackInbox

    done: list[str] = []
    real = SlackInbox.sweep

    async def sweep(self, *args: Any, **kwargs: Any) -> int:
        try:
            return await real(self, *args, **kwargs)
        finally:
            done.append(self.inbox.owner)  # the first sweep of a replica runs at its start-up

    monkeypatch.setattr(SlackInbox, "sweep", sweep)
    return done


@pytest.fixture
def replica_settings(make_settings, slack_api, fast_slack) -> Callable[..., Any]:
    """Settings of one replica: same database (make_settings), its own instance name."""

    def build(instance: str, *, socket: bool) -> Any:
        transport = {"slack_app_token": slack_api.app_token} if socket else {"slack_signing_secret": SECRET}
        return make_settings(slack_bot_token=slack_api.bot_token, slack_api_url=slack_api.base_url, instance=instance, admin_token="test-admin-token", **transport)

    return build


def live(slack) -> list:
    """The stand-in's open Socket Mode websockets (oldest first)."""
    return list(slack._socket.connections)


async def until(check: Callable[[], Any], *, timeout: float = 10.0, what: str = "condition") -> Any:
    """Poll ``check`` until it returns something truthy."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not (result := check()):
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.02)
    return result


async def connect_replicas(stack: AsyncExitStack, settings, slack, swept: list[str]) -> tuple[Baton, Baton, Any, Any]:
    """Start replica A, then B; return both and the stand-in websocket each one opened."""
    a = await stack.enter_async_context(replica(settings(A, socket=True), slack, swept))
    await slack.wait_socket_connected(count=1)
    [ws_a] = live(slack)
    b = await stack.enter_async_context(replica(settings(B, socket=True), slack, swept))
    await slack.wait_socket_connected(count=2)
    [ws_b] = [ws for ws in live(slack) if ws is not ws_a]
    assert len(live(slack)) == 2
    return a, b, ws_a, ws_b


async def send_on(slack, ws, payload: dict, *, retry_attempt: int = 0) -> str:
    """``push_socket_event`` on a chosen connection: an events_api envelope; returns its id."""
    envelope_id = str(uuid.uuid4())
    envelope = {
        "envelope_id": envelope_id, "type": "events_api", "payload": payload, "accepts_response_payload": False,
        "retry_attempt": retry_attempt, "retry_reason": "timeout" if retry_attempt else "",
    }
    slack._socket.envelopes.append(envelope)
    await ws.send_json(envelope)
    return envelope_id


def customers(slack, n: int, *, prefix: str = "U0RC") -> list[str]:
    """``n`` distinct customers known to users.info: one asker per thread, so no two
    top-level posts join one debounced turn."""
    ids = [f"{prefix}{i:03d}" for i in range(n)]
    for i, uid in enumerate(ids):
        slack.add_user(uid, name=f"cust{i}", real_name=f"Customer {i}", display_name=f"cust{i}")
    return ids


def rows(core, model, *where) -> list:
    with Session(core.store.engine) as session:
        # In primary-key order: without ORDER BY, PostgreSQL returns rows in heap order, not insertion order.
        return list(session.exec(select(model).where(*where).order_by(*model.__table__.primary_key.columns)))


def answers(slack, event: dict) -> list[dict]:
    """The bot's posts in the thread of ``event`` (its parent excluded)."""
    ts = event["event"]["ts"]
    return [m for m in slack.thread(HELP, ts) if m.get("bot_id") and m["ts"] != ts]


def answered_all(slack, events: list[dict]) -> bool:
    return all(answers(slack, e) for e in events)


def inbox_done(core, events: list[dict]) -> bool:
    keys = {f"slack:{e['event_id']}" for e in events}
    found = [r for r in rows(core, InboxRow) if r.key in keys]
    return len(found) == len(keys) and all(r.status == "done" for r in found)


async def finish(replicas: list[Baton], events: list[dict]) -> None:
    """Wait until every event is answered and its inbox row done, then until both workers are idle."""
    slack, core = replicas[0].slack, replicas[0].core
    await until(lambda: answered_all(slack, events), what="an answer in every thread")
    await until(lambda: inbox_done(core, events), what="every inbox row done")
    for baton in replicas:
        await baton.adapter.drain(timeout=5)


def assert_exactly_once(core, slack, events: list[dict]) -> dict[str, str]:
    """One answer per thread (the one keyed by its event), one inbox row per event, done,
    processed in one attempt, taken up once (one 'eyes' reaction, one decision), and one
    customer and one bot message in the history. Returns which instance processed each event."""
    by_key = {r.key: r for r in rows(core, InboxRow)}
    owners = {}
    for event in events:
        eid, ts = event["event_id"], event["event"]["ts"]
        posted = answers(slack, event)
        assert len(posted) == 1, f"{eid}: {len(posted)} bot posts in its thread: {[p['text'][:60] for p in posted]}"
        assert posted[0]["metadata"]["event_payload"]["key"] == f"answer:{eid}"
        calls = slack.calls_to("chat.postMessage")
        assert len([c for c in calls if c.args.get("thread_ts") == ts]) == 1, f"{eid}: answered more than once"
        row = by_key.get(f"slack:{eid}")
        assert row is not None, f"{eid}: no inbox row"
        assert (row.status, row.attempts) == ("done", 1), f"{eid}: {row.status} after {row.attempts} attempt(s)"
        conversation = f"slack:{HELP}:{ts}"
        history = rows(core, MessageRow, MessageRow.conversation_id == conversation)
        assert [m.role for m in history] == ["customer", "bot"], f"{eid}: history {[m.role for m in history]}"
        assert len(rows(core, DecisionRow, DecisionRow.conversation_id == conversation)) == 1, f"{eid}: decided more than once"
        reacted = [c for c in slack.calls_to("reactions.add") if c.args.get("timestamp") == ts]
        assert len(reacted) == 1, f"{eid}: taken up {len(reacted)} times (one 'eyes' reaction per processing)"
        owners[eid] = row.owner
    assert len(by_key) == len({e["event_id"] for e in events}), "inbox rows for events that were not pushed"
    return owners


# --- Socket Mode -------------------------------------------------------------------------------


async def test_two_socket_replicas_answer_each_event_once_wherever_it_lands(replica_settings, slack_api, startup_sweeps):
    async with AsyncExitStack() as stack:
        a, b, ws_a, ws_b = await connect_replicas(stack, replica_settings, slack_api, startup_sweeps)
        assert a.core.inbox.owner == A and b.core.inbox.owner == B
        askers = customers(slack_api, 20)
        events = [a.say(channel=HELP, user=uid, text=QUESTION) for uid in askers]
        # Alternate connections; every fourth event also arrives on the other connection at the
        # same moment (Slack's redelivery on another connection racing the first delivery).
        landed, sent = {}, []
        for i, event in enumerate(events):
            first, other = (ws_a, ws_b) if i % 2 == 0 else (ws_b, ws_a)
            landed[event["event_id"]] = A if first is ws_a else B
            if i % 4 == 3:
                sent += await asyncio.gather(send_on(slack_api, first, event), send_on(slack_api, other, event, retry_attempt=1))
            else:
                sent.append(await send_on(slack_api, first, event))
        acks = [await slack_api.wait_socket_ack(envelope_id) for envelope_id in sent]
        assert [ack["envelope_id"] for ack in acks] == sent and len(sent) == 25
        await finish([a, b], events)

        owners = assert_exactly_once(a.core, slack_api, events)
        assert set(owners.values()) == {A, B}, f"one replica did all the work: {owners}"
        single = [e["event_id"] for i, e in enumerate(events) if i % 4 != 3]
        assert {eid: owners[eid] for eid in single} == {eid: landed[eid] for eid in single}, "an event was processed by a replica it did not land on"
        assert len(live(slack_api)) == 2 and slack_api.socket_connections == 2


async def test_a_late_redelivery_on_the_other_replica_is_not_answered_again(replica_settings, slack_api, startup_sweeps):
    async with AsyncExitStack() as stack:
        a, b, ws_a, ws_b = await connect_replicas(stack, replica_settings, slack_api, startup_sweeps)
        events = [a.say(channel=HELP, user=uid, text=QUESTION) for uid in customers(slack_api, 6)]
        for event in events:
            await slack_api.wait_socket_ack(await send_on(slack_api, ws_a, event))
        await finish([a, b], events)
        assert set(assert_exactly_once(a.core, slack_api, events).values()) == {A}
        posts_before = len(slack_api.calls_to("chat.postMessage"))
        # Slack did not see the acks in time and redelivers every one of them on B's connection.
        for n, event in enumerate(events):
            await slack_api.wait_socket_ack(await send_on(slack_api, ws_b, event, retry_attempt=1 + n % 3))
        await b.adapter.drain(timeout=5)
        await asyncio.sleep(0.2)
        await b.adapter.drain(timeout=5)
        assert len(slack_api.calls_to("chat.postMessage")) == posts_before, "a redelivery was answered again"
        assert set(assert_exactly_once(b.core, slack_api, events).values()) == {A}


async def test_message_and_mention_twins_on_different_replicas_get_one_answer(replica_settings, slack_api, startup_sweeps):
    """A mention in a channel reaches Slack apps twice (``message`` and ``app_mention``, two
    event ids); each twin may land on a different replica."""
    async with AsyncExitStack() as stack:
        a, b, ws_a, ws_b = await connect_replicas(stack, replica_settings, slack_api, startup_sweeps)
        pairs = []
        for uid in customers(slack_api, 6):
            message = a.say(channel=HELP, user=uid, text=f"<@{slack_api.bot_user_id}> {QUESTION}")
            mention = slack_api.event_callback({**message["event"], "type": "app_mention"})
            mention["event"].pop("channel_type", None)
            pairs.append((message, mention))
        sent = []
        for i, (message, mention) in enumerate(pairs):
            first, other = (ws_a, ws_b) if i % 2 == 0 else (ws_b, ws_a)
            sent += await asyncio.gather(send_on(slack_api, first, message), send_on(slack_api, other, mention))
        for envelope_id in sent:
            await slack_api.wait_socket_ack(envelope_id)
        messages, twins = [m for m, _ in pairs], [e for pair in pairs for e in pair]
        await until(lambda: answered_all(slack_api, messages), what="an answer in every thread")
        await until(lambda: inbox_done(a.core, twins), what="every inbox row done")
        for baton in (a, b):
            await baton.adapter.drain(timeout=5)
        for message, mention in pairs:
            ts, conversation = message["event"]["ts"], f"slack:{HELP}:{message['event']['ts']}"
            assert len(answers(slack_api, message)) == 1, f"{ts}: {len(answers(slack_api, message))} answers to one mention"
            assert [m.role for m in rows(a.core, MessageRow, MessageRow.conversation_id == conversation)] == ["customer", "bot"]
            assert len(rows(a.core, DecisionRow, DecisionRow.conversation_id == conversation)) == 1, f"{ts}: decided twice"
            assert len([c for c in slack_api.calls_to("reactions.add") if c.args.get("timestamp") == ts]) == 1
        assert len(rows(a.core, InboxRow)) == len(twins)


async def test_dropped_connections_reconnect_and_later_events_are_answered_once(replica_settings, slack_api, startup_sweeps):
    async with AsyncExitStack() as stack:
        a, b, ws_a, ws_b = await connect_replicas(stack, replica_settings, slack_api, startup_sweeps)
        askers = customers(slack_api, 18)
        before = [a.say(channel=HELP, user=uid, text=QUESTION) for uid in askers[:6]]
        in_flight = [a.say(channel=HELP, user=uid, text=QUESTION) for uid in askers[6:12]]
        after = [a.say(channel=HELP, user=uid, text=QUESTION) for uid in askers[12:]]
        for i, event in enumerate(before):
            await slack_api.wait_socket_ack(await send_on(slack_api, (ws_a, ws_b)[i % 2], event))
        # Mid-run: envelopes go out and every connection is cut before their acks were awaited.
        for i, event in enumerate(in_flight):
            await send_on(slack_api, (ws_a, ws_b)[i % 2], event)
        await slack_api.drop_socket_connections()
        await slack_api.wait_socket_connected(count=4)
        await until(lambda: len(live(slack_api)) == 2, what="both replicas connected again")
        assert len(slack_api.calls_to("apps.connections.open")) == 4
        for baton in (a, b):  # the stand-in counts a connection a moment before the client has it
            client = baton.adapter.socket.client
            await until(lambda: client.current_session is not None and not client.current_session.closed, what="the client's new session")
            assert await client.is_connected()
        fresh = live(slack_api)
        assert not {id(ws) for ws in fresh} & {id(ws_a), id(ws_b)}
        # Slack redelivers what it saw no ack for, on whatever connection is open now; the
        # stand-in cannot tell which were acked before the cut, so all of them come again.
        sent = []
        for i, event in enumerate(in_flight):
            sent.append(await send_on(slack_api, fresh[(i + 1) % 2], event, retry_attempt=1))
        for i, event in enumerate(after):
            sent.append(await send_on(slack_api, fresh[i % 2], event))
        for envelope_id in sent:
            await slack_api.wait_socket_ack(envelope_id)
        events = before + in_flight + after
        await finish([a, b], events)

        owners = assert_exactly_once(a.core, slack_api, events)
        assert {owners[e["event_id"]] for e in after} == {A, B}, "after the reconnect one replica got nothing"


async def test_a_refresh_disconnect_keeps_the_replica_answering_once(replica_settings, slack_api, startup_sweeps):
    """Slack's ``disconnect`` (refresh_requested) on the newest connection: that client opens
    a new connection and closes the old one; events on the new one are answered once."""
    async with AsyncExitStack() as stack:
        a, b, ws_a, ws_b = await connect_replicas(stack, replica_settings, slack_api, startup_sweeps)
        await slack_api.send_disconnect()  # goes to the newest connection: B's
        await slack_api.wait_socket_connected(count=3)
        await until(lambda: ws_b not in live(slack_api) and len(live(slack_api)) == 2, what="B's old connection closed")
        assert ws_a in live(slack_api)
        [ws_b2] = [ws for ws in live(slack_api) if ws is not ws_a]
        events = [a.say(channel=HELP, user=uid, text=QUESTION) for uid in customers(slack_api, 8)]
        sent = []
        for i, event in enumerate(events):
            sent.append(await send_on(slack_api, (ws_a, ws_b2)[i % 2], event))
            if i % 4 == 1:
                sent.append(await send_on(slack_api, (ws_b2, ws_a)[i % 2], event, retry_attempt=1))
        for envelope_id in sent:
            await slack_api.wait_socket_ack(envelope_id)
        await finish([a, b], events)
        owners = assert_exactly_once(a.core, slack_api, events)
        assert set(owners.values()) == {A, B}


# --- HTTP --------------------------------------------------------------------------------------


async def test_two_http_replicas_answer_each_event_once(replica_settings, slack_api, startup_sweeps):
    async with AsyncExitStack() as stack:
        a = await stack.enter_async_context(replica(replica_settings(A, socket=False), slack_api, startup_sweeps))
        b = await stack.enter_async_context(replica(replica_settings(B, socket=False), slack_api, startup_sweeps))
        assert slack_api.socket_connections == 0
        events = [a.say(channel=HELP, user=uid, text=QUESTION) for uid in customers(slack_api, 20)]
        landed, statuses = {}, []
        for i, event in enumerate(events):
            first, other = (a, b) if i % 2 == 0 else (b, a)
            landed[event["event_id"]] = first.core.inbox.owner
            if i % 4 == 3:  # Slack's retry reaches the other replica while the first is in flight
                answered = await asyncio.gather(first.event(event), other.event(event, retry=1))
            else:
                answered = [await first.event(event)]
            statuses += [r.status for r in answered]
        assert set(statuses) == {200} and len(statuses) == 25
        await finish([a, b], events)

        owners = assert_exactly_once(a.core, slack_api, events)
        assert set(owners.values()) == {A, B}
        single = [e["event_id"] for i, e in enumerate(events) if i % 4 != 3]
        assert {eid: owners[eid] for eid in single} == {eid: landed[eid] for eid in single}


# --- one conversation on two replicas ----------------------------------------------------------
# One process keeps a conversation's turns in order with an in-process lock (TurnQueue.lock):
# the second message finds the conversation, and the ticket, the first one made. Two replicas
# share no such lock. Sent at the same moment to the two replicas without any help, ten such
# pairs gave a failed turn ("Something went wrong") in 2 runs out of 3, and two tickets for 7
# of 10 conversations. The tests below make the two turns meet at that interleaving, so the
# outcome is the same on every run; sent to one replica, both tests pass.

RISKY = "You charged my card twice on the 3rd and I want that reversed right now"
RISKY_AGAIN = "I want a refund of the double charge today or I will dispute it with my bank"
FOLLOW_UP = "It is for the invoices we send to German customers"


def all_tried(core, events: list[dict]) -> bool:
    """Every event's first processing attempt is over: done, given back for a retry, or failed."""
    keys = {f"slack:{e['event_id']}" for e in events}
    found = [r for r in rows(core, InboxRow) if r.key in keys]
    return len(found) == len(keys) and all(r.status != "working" and r.attempts >= 1 for r in found)


def meet(monkeypatch, owner: Any, name: str, *, when: Callable[..., bool], after: bool = False) -> None:
    """Make two calls of ``owner.name`` that match ``when`` wait for each other before they run
    (``after``: once both have run); each replica calls it on its own worker thread. A caller
    left alone goes on after 3 seconds."""
    import threading

    barrier, real = threading.Barrier(2, timeout=3), getattr(owner, name)

    def wait() -> None:
        try:
            barrier.wait()
        except threading.BrokenBarrierError:
            pass

    def wrapper(*args, **kwargs):
        meeting = when(*args, **kwargs)
        if meeting and not after:
            wait()
        result = real(*args, **kwargs)
        if meeting and after:
            wait()
        return result

    monkeypatch.setattr(owner, name, wrapper)


async def test_the_first_two_messages_of_a_conversation_on_two_replicas_are_both_handled(replica_settings, slack_api, startup_sweeps, monkeypatch):
    import threading

    import bot.store.repo as repo
    from bot.store.models import ConversationRow

    async with AsyncExitStack() as stack:
        a, b, ws_a, ws_b = await connect_replicas(stack, replica_settings, slack_api, startup_sweeps)
        [uid] = customers(slack_api, 1)
        top = a.say(channel=HELP, user=uid, text=QUESTION)
        reply = a.say(channel=HELP, user=uid, text=FOLLOW_UP, thread_ts=top["event"]["ts"])
        conversation = f"slack:{HELP}:{top['event']['ts']}"
        # Both turns look the new conversation up before either has stored it.
        upserting = threading.local()
        real_upsert = repo.Store.upsert_conversation

        def upsert(self, **kwargs):
            upserting.on = True
            try:
                return real_upsert(self, **kwargs)
            finally:
                upserting.on = False

        class Session(repo.Session):
            pass

        monkeypatch.setattr(repo.Store, "upsert_conversation", upsert)
        monkeypatch.setattr(repo, "Session", Session)
        meet(monkeypatch, Session, "get", when=lambda self, entity, ident, **_: getattr(upserting, "on", False) and entity is ConversationRow and ident == conversation, after=True)

        sent = await asyncio.gather(send_on(slack_api, ws_a, top), send_on(slack_api, ws_b, reply))
        for envelope_id in sent:
            await slack_api.wait_socket_ack(envelope_id)
        await until(lambda: all_tried(a.core, [top, reply]), what="both turns over")
        for baton in (a, b):
            await baton.adapter.drain(timeout=5)
        keys = sorted(m["metadata"]["event_payload"]["key"] for m in answers(slack_api, top))
        assert not [k for k in keys if k.startswith("fallback:")], f"a turn failed and the customer was told something went wrong: {keys}"
        tried = {r.key: (r.status, r.attempts, r.error) for r in rows(a.core, InboxRow)}
        assert {(status, attempts) for status, attempts, _ in tried.values()} == {("done", 1)}, f"a turn failed: {tried}"
        # One replica answers both, or answers one and relays the other to the ticket it opened.
        assert keys and len(keys) == len({k.split(":", 1)[1] for k in keys}) and {k.split(":", 1)[1] for k in keys} <= {top["event_id"], reply["event_id"]}, keys
        customer_lines = [m.text for m in rows(a.core, MessageRow, MessageRow.conversation_id == conversation) if m.role == "customer"]
        assert sorted(customer_lines) == sorted([FOLLOW_UP, QUESTION])


async def test_two_escalating_messages_of_one_conversation_on_two_replicas_open_one_ticket(replica_settings, slack_api, startup_sweeps, monkeypatch):
    from bot.store.models import TicketRow
    from bot.store.repo import Store

    async with AsyncExitStack() as stack:
        a, b, ws_a, ws_b = await connect_replicas(stack, replica_settings, slack_api, startup_sweeps)
        [uid] = customers(slack_api, 1)
        top = a.say(channel=HELP, user=uid, text=QUESTION)
        await slack_api.wait_socket_ack(await send_on(slack_api, ws_a, top))
        await finish([a, b], [top])
        ts, conversation = top["event"]["ts"], f"slack:{HELP}:{top['event']['ts']}"
        first = a.say(channel=HELP, user=uid, text=RISKY, thread_ts=ts)
        second = a.say(channel=HELP, user=uid, text=RISKY_AGAIN, thread_ts=ts)
        # Both turns have checked for an open ticket before either stores its own.
        meet(monkeypatch, Store, "create_ticket", when=lambda self, *, ticket: ticket.conversation_id == conversation)

        sent = await asyncio.gather(send_on(slack_api, ws_a, first), send_on(slack_api, ws_b, second))
        for envelope_id in sent:
            await slack_api.wait_socket_ack(envelope_id)
        await until(lambda: inbox_done(a.core, [top, first, second]), what="every inbox row done")
        for baton in (a, b):
            await baton.adapter.drain(timeout=5)
        tickets = rows(a.core, TicketRow, TicketRow.conversation_id == conversation)
        assert len(tickets) == 1, f"{len(tickets)} tickets (and handoff cards) for one conversation: {[t.id for t in tickets]}"
        holding = [m for m in answers(slack_api, top) if m["metadata"]["event_payload"]["key"].startswith("holding:")]
        assert len(holding) == 1, f"the customer was told {len(holding)} times that a person will follow up"
