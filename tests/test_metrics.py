"""/metrics: decisions by action and reason, the store's gauges, request timings, a database that is down."""

from __future__ import annotations

import collections
import itertools
import time
from datetime import timedelta

from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine

import bot.metrics
from bot.metrics import SLA_CLOCKS, Metrics
from bot.ops.sla import skip_reason
from bot.server import build_web_app
from bot.store.db import make_engine, migrate
from bot.store.models import DecisionRow, TicketRow
from bot.store.repo import Store
from bot.types import Action, ConversationRef, InboundMessage, Person, utcnow
from tests.conftest import fresh_database_url

_ids = itertools.count(1)
ANSWERABLE = "How do I add my company logo to invoices?"
REFUND = "I was charged twice this month and I want my money back"


def message(text: str, *, thread: str) -> InboundMessage:
    ref = ConversationRef(platform="test", channel="C-customer", thread=thread)
    return InboundMessage(event_id=f"metrics-{next(_ids)}", ref=ref, author=Person(platform_id="U1", display_name="Casey"), text=text)


def parse(text: str) -> dict[tuple[str, frozenset], float]:
    return {(s.name, frozenset(s.labels.items())): s.value for family in text_string_to_metric_families(text) for s in family.samples}


def value(scrape: dict, name: str, **labels: str) -> float:
    return scrape.get((name, frozenset(labels.items())), 0.0)


async def scrape(client: TestClient) -> dict:
    response = await client.get("/metrics")
    assert response.status == 200 and response.content_type == "text/plain"
    return parse(await response.text())


async def test_decisions_are_counted_by_action_and_reason(core, make_settings):
    async with TestClient(TestServer(build_web_app(core=core, settings=make_settings()))) as client:
        before = await scrape(client)
        answered = await core.dialogue.handle(message(ANSWERABLE, thread="m1"))
        escalated = await core.dialogue.handle(message(REFUND, thread="m2"))
        after = await scrape(client)
    assert answered.status == "answered" and escalated.status == "escalated"
    assert value(after, "baton_decisions_total", action="answer", reason="none") - value(before, "baton_decisions_total", action="answer", reason="none") == 1
    assert escalated.decision.reasons
    for reason in escalated.decision.reasons:
        moved = value(after, "baton_decisions_total", action="escalate", reason=reason.value) - value(before, "baton_decisions_total", action="escalate", reason=reason.value)
        assert moved == 1, reason
    engine = answered.decision.engine
    assert value(after, "baton_decision_latency_seconds_count", engine=engine) - value(before, "baton_decision_latency_seconds_count", engine=engine) == 2
    assert value(after, "baton_decision_latency_seconds_sum", engine=engine) > 0


async def test_llm_tokens_are_counted_from_saved_decisions(core, make_settings):
    result = await core.dialogue.handle(message(ANSWERABLE, thread="m3"))
    async with TestClient(TestServer(build_web_app(core=core, settings=make_settings()))) as client:
        before = await scrape(client)
        result.decision.engine, result.decision.tokens = "llm", 321
        conversation = core.store.conversations(platform="test")[0]
        core.store.save_decision(conversation_id=conversation.id, message_id=None, decision=result.decision, input_text=ANSWERABLE)
        after = await scrape(client)
    assert value(after, "baton_llm_tokens_total", engine="llm") - value(before, "baton_llm_tokens_total", engine="llm") == 321


async def test_each_registry_counts_only_its_own_store_once(core, tmp_path):
    other_engine = make_engine(url=fresh_database_url(tmp_path, name="other"))
    migrate(engine=other_engine)
    mine, same_store, elsewhere = Metrics(store=core.store), Metrics(store=core.store), Metrics(store=Store(engine=other_engine))
    await core.dialogue.handle(message(ANSWERABLE, thread="m4"))
    for metrics, expected in ((mine, 1), (same_store, 1), (elsewhere, 0)):
        assert value(parse(metrics.exposition()[0].decode()), "baton_decisions_total", action="answer", reason="none") == expected


def test_only_committed_decisions_are_counted(core):
    metrics = Metrics(store=core.store)
    conversation = core.store.upsert_conversation(ref=ConversationRef(platform="test", channel="C", thread="rollback"), author=None)
    for finish in ("rollback", "close"):
        session = core.store.session()
        session.add(DecisionRow(conversation_id=conversation.id, action="answer", reasons=[]))
        session.flush()
        getattr(session, finish)()
    assert value(parse(metrics.exposition()[0].decode()), "baton_decisions_total", action="answer", reason="none") == 0


async def test_gauges_show_open_tickets_sla_breaches_and_gaps(core, make_settings):
    escalated = await core.dialogue.handle(message(REFUND, thread="m5"))
    await core.dialogue.handle(message("Do you sponsor amateur curling tournaments in Manitoba?", thread="m6"))
    ticket = core.store.ticket(ticket_id=escalated.ticket_id)
    async with TestClient(TestServer(build_web_app(core=core, settings=make_settings()))) as client:
        fresh = await scrape(client)
        core.store.update_ticket(ticket_id=ticket.id, first_response_due=utcnow() - timedelta(minutes=5))
        breached = await scrape(client)
        core.store.claim(ticket_id=ticket.id, agent_id="A1", agent_name="Alex")
        core.store.mark_first_agent_reply(ticket_id=ticket.id)
        answered = await scrape(client)
    assert value(fresh, "baton_database_up") == 1
    assert value(fresh, "baton_open_tickets", queue=ticket.queue, status="open") >= 1
    assert value(fresh, "baton_open_knowledge_gaps") == 1
    assert value(fresh, "baton_sla_breaches", queue=ticket.queue, clock="first_response") == 0
    assert value(breached, "baton_sla_breaches", queue=ticket.queue, clock="first_response") == 1
    assert value(answered, "baton_open_tickets", queue=ticket.queue, status="claimed") == 1
    assert value(answered, "baton_sla_breaches", queue=ticket.queue, clock="first_response") == 0


def test_the_breach_gauge_follows_the_sla_alert_rule(core):
    now, hour = utcnow(), timedelta(hours=1)
    states = itertools.product(("open", "claimed", "released", "resolved"), (None, now - hour, now + hour), (None, now - hour, now + hour), (None, now - 2 * hour))
    conversation = lambda i: core.store.upsert_conversation(ref=ConversationRef(platform="test", channel="C", thread=f"sla-{i}"), author=None).id  # noqa: E731
    tickets = [TicketRow(id=f"T-SLA{i:03d}", conversation_id=conversation(i), status=status, queue="support", first_response_due=first, resolution_due=resolution, first_agent_reply_at=reply)
               for i, (status, first, resolution, reply) in enumerate(states)]
    for ticket in tickets:
        core.store.create_ticket(ticket=ticket)
    alerted = collections.Counter(clock for t in tickets for clock, due in (("first_response", t.first_response_due), ("resolution", t.resolution_due))
                                  if due is not None and now >= due and skip_reason(kind=f"{clock}.breach", ticket=t, now=now) is None)
    scraped = parse(Metrics(store=core.store, clock=lambda: now).exposition()[0].decode())
    assert all(alerted[clock] > 0 for clock in SLA_CLOCKS)
    assert {clock: value(scraped, "baton_sla_breaches", queue="support", clock=clock) for clock in SLA_CLOCKS} == dict(alerted)


async def test_requests_are_timed_by_route_template_not_raw_path(core, make_settings):
    async with TestClient(TestServer(build_web_app(core=core, settings=make_settings()))) as client:
        await client.get("/healthz")
        await client.get("/sandbox/api/conversations/secret-looking-id-123")
        await client.get("/no/such/page")
        text = await (await client.get("/metrics")).text()
    scraped = parse(text)
    assert value(scraped, "baton_http_requests_total", route="/healthz", method="GET", status="200") == 1
    assert value(scraped, "baton_http_request_duration_seconds_count", route="/healthz", method="GET", status="200") == 1
    routes = {dict(labels).get("route") for name, labels in scraped if name == "baton_http_requests_total"}
    assert "/sandbox/api/conversations/{conversation}" in routes
    assert value(scraped, "baton_http_requests_total", route="unmatched", method="GET", status="404") == 1
    assert "secret-looking-id-123" not in text and "/no/such/page" not in text


async def test_scrape_answers_200_with_database_down(core, make_settings, monkeypatch, tmp_path):
    await core.dialogue.handle(message(ANSWERABLE, thread="m7"))
    app = build_web_app(core=core, settings=make_settings())
    unreachable = create_engine(f"sqlite:///{tmp_path / 'missing-folder' / 'baton.db'}")  # the folder does not exist
    monkeypatch.setattr(core.store, "engine", unreachable)
    async with TestClient(TestServer(app)) as client:
        scraped = await scrape(client)
    assert value(scraped, "baton_database_up") == 0
    assert ("baton_decisions_total", frozenset({("action", Action.ANSWER.value), ("reason", "none")})) in scraped
    assert not any(name.startswith("baton_open_tickets") for name, _ in scraped)


def test_a_hanging_database_is_reported_down_within_the_timeout(core, monkeypatch):
    monkeypatch.setattr(bot.metrics, "store_figures", lambda **_: time.sleep(2))
    metrics = Metrics(store=core.store, store_timeout=0.2)
    started = time.perf_counter()
    body, _ = metrics.exposition()
    assert time.perf_counter() - started < 1.5
    assert value(parse(body.decode()), "baton_database_up") == 0


async def test_the_inbox_backlog_is_a_gauge_by_state(core, make_settings):
    core.inbox.accept(key="slack:Ev1", platform="slack", kind="event", payload={})
    core.inbox.accept(key="slack:Ev2", platform="slack", kind="event", payload={})
    core.inbox.finish(keys=["slack:Ev2"])
    async with TestClient(TestServer(build_web_app(core=core, settings=make_settings()))) as client:
        figures = await scrape(client)
    assert value(figures, "baton_inbox_events", state="pending") == 1
    assert value(figures, "baton_inbox_events", state="done") == 1
    assert value(figures, "baton_inbox_events", state="failed") == 0
