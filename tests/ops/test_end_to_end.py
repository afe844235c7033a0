"""Running support end to end: conversations through the real core, agents' and customers'
feedback, an SLA reminder, a re-ingest that closes a knowledge gap, and every KPI checked."""

from __future__ import annotations

import itertools
import shutil
from datetime import timedelta

import pytest

from bot.app import build_core, build_models
from bot.cards import missing_fields
from bot.ops.digest import stats_text
from bot.ops.feedback import record_customer_feedback, record_review
from bot.ops.gaps_reask import reask_gaps
from bot.ops.kpis import Rate, compute_kpis
from bot.ops.period import Period
from bot.ops.report import build_report, report_html
from bot.ops.sla import SlaScheduler
from bot.outbox import OutboxRouter
from bot.settings import SAMPLE_KNOWLEDGE
from bot.types import ConversationRef, InboundMessage, Person, utcnow

_ids = itertools.count(1)
CURLING = """# Sponsorship of amateur curling tournaments

Ledgerly sponsors amateur curling tournaments in Manitoba and across Canada. Clubs can apply
for a tournament sponsorship of up to 500 dollars once a year by writing to
sponsorship@ledgerly.example with the tournament's name, date and expected number of teams.
We answer every curling sponsorship request within two weeks.
"""


class Clock:
    """A clock the test moves forward by hand."""

    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self):
        return self.now

    def at(self, minutes: float):
        return self.start + timedelta(minutes=minutes)


def message(text: str, *, thread: str) -> InboundMessage:
    ref = ConversationRef(platform="test", channel="C-customer", thread=thread)
    return InboundMessage(event_id=f"e2e-{next(_ids)}", ref=ref, author=Person(platform_id="U-casey", display_name="Casey"), text=text)


@pytest.fixture
def world(make_settings, recording, shared_home, tmp_path):
    """The core on a copy of the sample knowledge, with its own index (seeded from the shared one)."""
    knowledge, home = tmp_path / "kb", tmp_path / "home"
    shutil.copytree(SAMPLE_KNOWLEDGE, knowledge)
    for folder in ("index", "cache"):
        if (shared_home / folder).is_dir():
            shutil.copytree(shared_home / folder, home / folder)
    clock = Clock()
    clock.start = clock.now
    core = build_core(settings=make_settings(home=home, knowledge=knowledge), outboxes=OutboxRouter(outboxes=[recording]), clock=clock)
    return core, clock, knowledge


async def work_ticket(core, clock, ticket_id, *, agent, claim, reply, resolve, feedback):
    clock.now = clock.at(claim)
    assert (await core.desk.claim(ticket_id=ticket_id, agent_id=agent, agent_name=agent)).ok
    clock.now = clock.at(reply)
    assert (await core.desk.agent_reply(ticket_id=ticket_id, agent_id=agent, agent_name=agent, text="On it.")).ok
    clock.now = clock.at(resolve)
    assert (await core.desk.resolve(ticket_id=ticket_id, agent_id=agent)).ok
    for kind, value in feedback:
        assert (await core.desk.record_feedback(ticket_id=ticket_id, kind=kind, by=agent, value=value)).ok


async def test_running_support_end_to_end(world, recording, encoder):
    core, clock, knowledge = world
    handle = core.dialogue.handle
    logo = await handle(message("How do I add my company logo to invoices?", thread="logo"))
    export = await handle(message("Can I export my expenses to CSV?", thread="export"))
    slack = await handle(message("How do I connect Ledgerly to Slack?", thread="slack"))
    person = await handle(message("That didn't help. Can I talk to a real person please?", thread="slack"))
    refund = await handle(message("I was charged twice this month and I want my money back", thread="refund"))
    curling = await handle(message("Do you sponsor curling clubs?", thread="curling"))
    hacked = await handle(message("Someone hacked my account and changed our bank details", thread="hacked"))
    assert [r.status for r in (logo, export, slack)] == ["answered"] * 3
    assert [r.status for r in (person, refund, curling, hacked)] == ["escalated"] * 4
    assert "human_requested" in [r.value for r in person.decision.reasons]

    # customers' clicks and a reviewer's verdict on the answers
    record_customer_feedback(store=core.store, decision_id=logo.decision_id, kind="helpful", by="U-casey")
    record_customer_feedback(store=core.store, decision_id=export.decision_id, kind="not_helpful", by="U-casey")
    record_review(store=core.store, decision_id=logo.decision_id, verdict="review_fine", by="U-reviewer")

    # agents work the other three tickets and give their one-click feedback on resolve
    await work_ticket(core, clock, refund.ticket_id, agent="Dana", claim=5, reply=15, resolve=65, feedback=[("needed_yes", ""), ("card_ok", "")])
    await work_ticket(core, clock, curling.ticket_id, agent="Eli", claim=10, reply=20, resolve=125, feedback=[("needed_yes", ""), ("card_missing", "sources")])
    await work_ticket(core, clock, person.ticket_id, agent="Dana", claim=30, reply=32, resolve=50, feedback=[("needed_no", ""), ("card_ok", "")])

    # the resolved tickets get no timers; the open security ticket's card thread gets a reminder (80% of its first-response window)
    sla = SlaScheduler(store=core.store, rules=core.rules, outboxes=core.outboxes)
    hacked_ticket = core.store.ticket(ticket_id=hacked.ticket_id)
    window = hacked_ticket.first_response_due - hacked_ticket.created_at
    [reminder] = await sla.tick(hacked_ticket.created_at + window * 0.85)
    assert reminder.ticket_id == hacked.ticket_id
    assert recording.of_kind("card_thread")[-1].payload.startswith("SLA reminder: first response for " + hacked.ticket_id)
    assert await sla.tick(hacked_ticket.created_at + window * 0.9) == []

    # the knowledge base gains an article that answers the open gap; re-ingest and re-ask
    opened = core.store.gaps(status="open")
    gap = next(g for g in opened if g.question == "Do you sponsor curling clubs?")
    assert reask_gaps(store=core.store, engine=core.engine) == []
    (knowledge / "curling-sponsorship.md").write_text(CURLING, encoding="utf-8")
    from knowledge.index import KnowledgeIndex, ingest

    report = ingest(source_dir=knowledge, index_dir=core.settings.index_dir, encoder=encoder)
    assert report.added == ["curling-sponsorship.md"]
    engine = build_models(rules=core.rules, knowledge_index=KnowledgeIndex.load(core.settings.index_dir, encoder=encoder), encoder=encoder, cache_dir=core.settings.cache_dir)
    clock.now = clock.at(24 * 60)
    [closed] = reask_gaps(store=core.store, engine=engine, now=clock())
    assert (closed.gap_id, closed.doc_id) == (gap.id, "curling-sponsorship")
    assert gap.id not in [g.id for g in core.store.gaps(status="open")]

    # every KPI, by hand: 3 answers, 4 handoffs (3 rated), the curling gap opened and closed
    kpis = compute_kpis(store=core.store, period=Period(since=clock.start - timedelta(days=1), until=clock.start + timedelta(days=3)))
    assert (kpis.conversations, kpis.answers, kpis.escalations) == (6, 3, 4)
    p = kpis.precision
    assert (p.escalations, p.rated, p.needed, p.precision, p.feedback_coverage) == (4, 3, 2, pytest.approx(2 / 3), 0.75)
    assert p.breakdown["reason"]["human_requested"] == Rate(0, 1, 0.0)
    assert p.breakdown["queue"][core.store.ticket(ticket_id=refund.ticket_id).queue].hits >= 1
    m = kpis.missed
    assert (m.answers, m.flagged, m.rate) == (3, 2, pytest.approx(2 / 3))  # not helpful + asked for a person next
    assert (m.reviewed, m.review_flagged, m.review_rate) == (1, 0, 0.0)
    assert m.signals == {"asked_for_person_after_answer": 1, "not_helpful": 1}
    c = kpis.completeness
    assert c.complete == sum(1 for card in recording.cards() if not missing_fields(card)) == 4
    assert (c.auto_rate, c.rated, c.rated_complete, c.agent_rate, c.agent_missing) == (1.0, 3, 2, pytest.approx(2 / 3), {"sources": 1})
    r = kpis.resolution
    assert (r.handoffs, r.resolved, r.unresolved) == (4, 3, 1)
    assert (r.resolution.median, r.resolution.p90) == (pytest.approx(65), pytest.approx(113))
    assert (r.to_claim.median, r.to_claim.p90) == (pytest.approx(10), pytest.approx(26))
    assert r.to_first_reply.median == pytest.approx(20)
    assert (r.first_response_met, r.first_response_judged) == (3, 4)  # the hacked account is still waiting
    g = kpis.gaps
    n = len(opened)
    assert (g.opened, g.closed, g.open_at_end, g.closure_rate, g.closed_by_doc) == (n, 1, n - 1, pytest.approx(1 / n), {"curling-sponsorship": 1})
    assert g.median_hours_to_close == pytest.approx(24, abs=0.1)

    # time saved, the report and the slash command's text
    built = build_report(store=core.store, period=Period(since=clock.start - timedelta(days=1), until=clock.start + timedelta(days=3)))
    assert (built.saved.conversations_without_person, built.saved.triage_minutes) == (1, pytest.approx(4))
    assert 'data-chart="headline"' in report_html(built)
    assert "Escalation precision: 67% (2/3" in stats_text(store=core.store, since="1d", now=clock.start + timedelta(hours=3))
