"""The agent side of the sandbox API: the queue of cards, card actions, dashboard, audit trail."""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime

from aiohttp import web

from bot.ops.charts import kpi_charts_svg
from bot.ops.period import period_for
from bot.reads import TicketView
from adapters.web.access import principal_of

from adapters.sandbox.actions import TicketCommand, command_from_json, run_command
from adapters.sandbox.convert import PLATFORM, BadRequest, checked_id, conversation_key, short_id
from adapters.sandbox.views import agent_action_json, card_json, decision_json, gap_json, iso, sla_json, ticket_feedback_json, ticket_json
from adapters.sandbox.jsonapi import NotFound, SandboxState, api, read_json, reply, state

RESOLVED_SHOWN = 20
KPI_PERIOD = "7d"
KPI_FAILED = "The KPIs could not be computed just now; the server log has the details. No numbers are shown rather than wrong ones."
log = logging.getLogger(__name__)


def queue_card_json(*, sandbox: SandboxState, ticket: TicketView, now: datetime) -> dict:
    """A card as the queue pane shows it: the neutral card plus SLA state, feedback and notes."""
    card = card_json(card=ticket.card, notes=sandbox.outbox.notes_for(ticket_id=ticket.id))
    return {**card, "conversation": short_id(key=ticket.conversation_id), "created_at": iso(ticket.created_at), "sla": sla_json(ticket=ticket, now=now), "feedback": ticket_feedback_json(ticket)}


def _queue_order(ticket: TicketView) -> tuple:
    due = ticket.first_response_due.isoformat() if ticket.first_response_due else "9999"
    return (ticket.status == "resolved", due if ticket.status != "resolved" else "", ticket.id)


@api
async def get_queue(request: web.Request) -> web.Response:
    """GET /sandbox/api/queue: open cards (soonest SLA first), then the latest resolved ones."""
    sandbox = state(request)
    reads, now = sandbox.core.reads, sandbox.core.desk.clock()
    active = reads.open_tickets(platform=PLATFORM)  # cards posted to the sandbox, or kept only in the store
    resolved = reads.latest_resolved(limit=RESOLVED_SHOWN, platform=PLATFORM)
    tickets = sorted(active, key=_queue_order) + list(reversed(resolved))
    queues = [name for name, queue in sandbox.core.rules.queues.items() if getattr(queue, PLATFORM, None)]
    return reply({"queues": queues, "cards": [queue_card_json(sandbox=sandbox, ticket=t, now=now) for t in tickets], "version": sandbox.outbox.version})


def _ticket(*, sandbox: SandboxState, ticket_id: str) -> TicketView:
    ticket = sandbox.core.reads.ticket(ticket_id=checked_id(value=ticket_id, what="ticket id"))
    if ticket is None:
        raise NotFound(f"ticket {ticket_id} does not exist")
    return ticket


def _as_signed_in_agent(*, request: web.Request, data: object) -> TicketCommand:
    """The card action; in a deployment the agent is whoever is signed in, never the body's 'agent'."""
    who = principal_of(request)
    if who is None or not who.signed_in:
        return command_from_json(data=data)
    named = {**data, "agent": who.name[:60] or who.id[:60]} if isinstance(data, dict) else data
    return dataclasses.replace(command_from_json(data=named), agent_id=who.id, agent_name=who.name or who.id)


@api
async def post_ticket_action(request: web.Request) -> web.Response:
    """POST /sandbox/api/tickets/{id}/actions: claim, reply, release, resolve, feedback."""
    sandbox = state(request)
    ticket = _ticket(sandbox=sandbox, ticket_id=request.match_info["ticket"])
    command = _as_signed_in_agent(request=request, data=await read_json(request))
    result = await run_command(desk=sandbox.core.desk, ticket_id=ticket.id, command=command)
    sandbox.outbox.touch()
    fresh = sandbox.core.reads.ticket(ticket_id=ticket.id)
    card = queue_card_json(sandbox=sandbox, ticket=fresh, now=sandbox.core.desk.clock()) if fresh else None
    return reply({"ok": result.ok, "message": result.message, "card": card}, status=200 if result.ok else 409)


def _counts(*, sandbox: SandboxState, open_rows: list[dict]) -> dict:
    """Plain counts from the store (real numbers, not KPIs)."""
    reads = sandbox.core.reads
    decisions = reads.decisions()
    return {
        "answered": sum(1 for d in decisions if d.action == "answer"), "escalated": sum(1 for d in decisions if d.action == "escalate"),
        "open": sum(1 for t in open_rows if t["status"] in ("open", "released")), "claimed": sum(1 for t in open_rows if t["status"] == "claimed"),
        "breached": sum(1 for t in open_rows if t["sla"]["state"] == "breached"), "resolved": reads.resolved_count(),
    }


def _kpis(*, sandbox: SandboxState, now: datetime, since: str) -> dict:
    """The five KPIs of the period as numbers and inline SVG charts (bot.ops), never made up."""
    try:
        period = period_for(since=since, now=now)
    except ValueError as exc:
        raise BadRequest(str(exc)) from None
    try:
        kpis = sandbox.core.reads.kpis(period=period)
    except Exception:
        log.exception("could not compute the KPIs for the sandbox dashboard")
        return {"kpis": None, "kpi_charts": "", "kpi_note": KPI_FAILED}
    return {"kpis": kpis.to_dict(), "kpi_charts": kpi_charts_svg(kpis), "kpi_note": f"Last {since}: {period.label}. Rates without feedback show as n/a."}


@api
async def get_dashboard(request: web.Request) -> web.Response:
    """GET /sandbox/api/dashboard[?since=7d]: tickets with SLA state, knowledge gaps, counts, KPIs."""
    sandbox = state(request)
    since = request.query.get("since", KPI_PERIOD)
    reads, now = sandbox.core.reads, sandbox.core.desk.clock()
    open_rows = [ticket_json(ticket=t, now=now) for t in sorted(reads.open_tickets(), key=_queue_order)]
    resolved = [ticket_json(ticket=t, now=now) for t in reads.latest_resolved(limit=RESOLVED_SHOWN)][::-1]
    gaps = [gap_json(g) for g in reads.open_gaps()]
    return reply({
        "now": iso(now), "tickets": open_rows, "resolved": resolved, "gaps": gaps,
        "counts": _counts(sandbox=sandbox, open_rows=open_rows), **_kpis(sandbox=sandbox, now=now, since=since),
        "rules_version": sandbox.core.rules.label, "version": sandbox.outbox.version,
    })


@api
async def get_audit(request: web.Request) -> web.Response:
    """GET /sandbox/api/audit/{conversation}: every decision made in one chat, oldest first."""
    sandbox = state(request)
    conversation = checked_id(value=request.match_info["conversation"], what="conversation")
    key = conversation_key(conversation=conversation)
    if not sandbox.core.conversations.is_known(conversation_id=key):
        raise NotFound(f"conversation {conversation} does not exist")
    decisions = [decision_json(d) for d in sandbox.core.reads.decisions(conversation_id=key)]
    return reply({"conversation": conversation, "decisions": decisions})


@api
async def get_agent_actions(request: web.Request) -> web.Response:
    """GET /sandbox/api/agent-actions[?ticket=T-...]: who did what, newest first (leads)."""
    ticket = request.query.get("ticket")
    rows = state(request).core.reads.agent_actions(ticket_id=checked_id(value=ticket, what="ticket id") if ticket else None)
    return reply({"actions": [agent_action_json(row) for row in rows]})
