"""The sandbox's JSON API on the real core: messages, chats, cards, actions, dashboard, audit."""

from __future__ import annotations

import asyncio

ANSWERABLE = "How do I add my company logo to invoices?"
RISKY = "Someone logged into our account from another country last night and changed our bank details"
UNKNOWN = "How do I export my expenses to Sage 50?"  # in scope, but the knowledge base has no answer
SAM = {"name": "Sam Rivera", "email": "sam@acme.example"}


async def send(client, chat_id: str, text: str, customer: dict | None = None) -> dict:
    response = await client.post("/sandbox/api/messages", json={"conversation": chat_id, "customer": customer or SAM, "text": text})
    assert response.status == 200, await response.text()
    return await response.json()


async def act(client, ticket_id: str, action: str, agent: str = "Dana", **extra) -> tuple[int, dict]:
    response = await client.post(f"/sandbox/api/tickets/{ticket_id}/actions", json={"action": action, "agent": agent, **extra})
    return response.status, await response.json()


async def test_page_and_assets_are_served_locally(client):
    page = await client.get("/")
    html = await page.text()
    assert page.status == 200 and "/sandbox/static/app.js" in html
    assert "http://" not in html and "https://" not in html  # no CDN
    for asset in ("app.js", "chat.js", "queue.js", "dashboard.js", "charts.js", "dom.js", "style.css"):
        assert (await client.get(f"/sandbox/static/{asset}")).status == 200
    samples = await (await client.get("/sandbox/api/samples")).json()
    assert len(samples["samples"]) == 7 and samples["agents"] == ["Dana", "Eli"]


async def test_answer_comes_back_with_sources_and_buttons(client, chat_id):
    data = await send(client, chat_id, ANSWERABLE)
    assert data["status"] == "answered"
    customer, answer = data["chat"]["messages"]
    assert customer["text"] == ANSWERABLE and customer["author"] == "Sam Rivera"
    assert answer["kind"] == "answer" and answer["sources"][0]["url"].startswith("https://")
    assert "Source:" not in answer["body"] and [a["action"] for a in answer["actions"]] == ["helpful", "not_helpful", "talk_to_person"]
    again = await (await client.get(f"/sandbox/api/conversations/{chat_id}")).json()
    assert again["messages"] == data["chat"]["messages"]


async def test_customer_buttons(client, chat_id, sandbox_core):
    data = await send(client, chat_id, ANSWERABLE)
    decision_id = data["chat"]["messages"][1]["decision_id"]
    rated = await client.post(f"/sandbox/api/conversations/{chat_id}/feedback", json={"action": "helpful", "decision_id": decision_id, "customer": SAM})
    assert rated.status == 200
    assert sandbox_core.store.decision(decision_id=decision_id).feedback == "helpful"
    person = await client.post(f"/sandbox/api/conversations/{chat_id}/feedback", json={"action": "talk_to_person", "customer": SAM})
    body = await person.json()
    assert body["status"] == "escalated" and "human_requested" in body["decision"]["reasons"]
    assert body["chat"]["messages"][-1]["kind"] == "holding" and body["chat"]["ticket"]["id"] == body["ticket_id"]
    not_an_answer = await client.post(f"/sandbox/api/conversations/{chat_id}/feedback", json={"action": "not_helpful", "decision_id": body["decision_id"]})
    assert not_an_answer.status == 400 and "not an answer" in (await not_an_answer.json())["error"]


async def test_risky_message_puts_a_complete_card_in_the_queue(client, chat_id):
    data = await send(client, chat_id, RISKY)
    assert data["status"] == "escalated" and data["chat"]["messages"][-1]["kind"] == "holding"
    queue = await (await client.get("/sandbox/api/queue")).json()
    [card] = [c for c in queue["cards"] if c["ticket_id"] == data["ticket_id"]]
    assert card["original_message"] == RISKY and card["conversation"] == chat_id
    assert card["reasons"] and card["intent"] and card["suggested_reply"] and card["sla"]["state"] == "on_time"
    assert card["status_line"] == "Waiting for an agent" and card["queue"] == "security"
    assert {"security", "support", "billing"} <= set(queue["queues"])


async def test_claim_race_has_one_winner_and_the_loser_is_told_who(client, chat_id):
    ticket_id = (await send(client, chat_id, RISKY))["ticket_id"]
    results = await asyncio.gather(*(act(client, ticket_id, "claim", agent) for agent in ("Dana", "Eli")))
    assert sorted(status for status, _ in results) == [200, 409]
    winner = next(body for status, body in results if status == 200)["card"]["claimed_by"]
    loser = next(body for status, body in results if status == 409)
    assert f"already claimed by {winner}" in loser["message"] and loser["ok"] is False
    assert loser["card"]["status_line"].startswith(f"Claimed by {winner} at ")


async def test_agent_replies_reach_the_customer_with_the_agents_name(client, chat_id):
    ticket_id = (await send(client, chat_id, RISKY))["ticket_id"]
    await act(client, ticket_id, "claim")
    status, body = await act(client, ticket_id, "send_suggested")
    assert status == 200 and body["ok"]
    status, _ = await act(client, ticket_id, "edit_send", text="I've locked the account; call us on the number on your contract.")
    assert status == 200
    chat = await (await client.get(f"/sandbox/api/conversations/{chat_id}")).json()
    agents = [m for m in chat["messages"] if m["role"] == "agent"]
    assert [m["author"] for m in agents] == ["Dana", "Dana"] and agents[-1]["text"].startswith("I've locked")
    assert chat["ticket"]["claimed_by"] == "Dana"


async def test_follow_up_lands_on_the_card_while_a_person_has_it(client, chat_id):
    ticket_id = (await send(client, chat_id, RISKY))["ticket_id"]
    follow = await send(client, chat_id, "Hello? Any news?")
    assert follow["status"] == "relayed"
    queue = await (await client.get("/sandbox/api/queue")).json()
    [card] = [c for c in queue["cards"] if c["ticket_id"] == ticket_id]
    assert card["notes"][-1].endswith("Hello? Any news?")


async def test_resolve_feedback_and_dashboard(client, chat_id):
    ticket_id = (await send(client, chat_id, UNKNOWN))["ticket_id"]
    dashboard = await (await client.get("/sandbox/api/dashboard")).json()
    assert ticket_id in [t["id"] for t in dashboard["tickets"]]
    assert any(ticket_id in g["ticket_ids"] for g in dashboard["gaps"])
    assert dashboard["kpis"]["escalations"] >= 1 and 'class="baton-chart"' in dashboard["kpi_charts"]
    rated_before = dashboard["kpis"]["precision"]["rated"]
    await act(client, ticket_id, "claim")
    assert (await act(client, ticket_id, "resolve"))[0] == 200
    assert (await act(client, ticket_id, "feedback", kind="needed_yes"))[0] == 200
    status, body = await act(client, ticket_id, "feedback_card_missing", field="sources")
    assert status == 200 and body["card"]["feedback"] == {"needed_person": True, "card_complete": False, "missing_field": "sources"}
    assert [b["action"] for b in body["card"]["buttons"]][0].startswith("feedback_")
    dashboard = await (await client.get("/sandbox/api/dashboard")).json()
    assert ticket_id not in [t["id"] for t in dashboard["tickets"]]
    [row] = [t for t in dashboard["resolved"] if t["id"] == ticket_id]
    assert row["sla"]["state"] == "resolved" and row["feedback"]["missing_field"] == "sources"
    assert dashboard["counts"]["resolved"] >= 1
    assert dashboard["kpis"]["precision"]["rated"] == rated_before + 1  # the agents' feedback feeds the KPIs
    bad_period = await client.get("/sandbox/api/dashboard?since=yesterday-ish")
    assert bad_period.status == 400 and "7d" in (await bad_period.json())["error"]


async def test_no_person_needed_closes_and_records_a_false_escalation(client, chat_id):
    ticket_id = (await send(client, chat_id, UNKNOWN))["ticket_id"]
    status, body = await act(client, ticket_id, "no_person_needed", agent="Eli")
    assert status == 200 and body["card"]["status"] == "resolved" and body["card"]["feedback"]["needed_person"] is False
    assert (await act(client, ticket_id, "resolve"))[0] == 409  # already resolved


async def test_audit_trail_explains_each_decision(client, chat_id):
    await send(client, chat_id, ANSWERABLE)
    await send(client, chat_id, RISKY)
    audit = await (await client.get(f"/sandbox/api/audit/{chat_id}")).json()
    answered, escalated = audit["decisions"]
    assert answered["action"] == "answer" and answered["sources"] and answered["rules_version"].startswith("ledgerly-sample-1")
    assert escalated["action"] == "escalate" and escalated["triggers"][0]["label"] and "evidence" in escalated["triggers"][0]
    assert escalated["latency_ms"] >= 0 and escalated["scores"]
    listed = await (await client.get("/sandbox/api/conversations")).json()
    assert listed["conversations"][0]["conversation"] == chat_id


async def test_bad_input_gets_clear_errors_and_the_server_stays_up(client, chat_id):
    bad_json = await client.post("/sandbox/api/messages", data=b"{not json", headers={"Content-Type": "application/json"})
    assert bad_json.status == 400 and "not valid JSON" in (await bad_json.json())["error"]
    empty = await client.post("/sandbox/api/messages", json={"conversation": chat_id, "customer": SAM, "text": "   "})
    assert empty.status == 400 and "empty" in (await empty.json())["error"]
    no_body = await client.post("/sandbox/api/messages", data=b"")
    assert no_body.status == 400
    unknown = await client.post("/sandbox/api/tickets/T-NOPE1234/actions", json={"action": "claim", "agent": "Dana"})
    assert unknown.status == 404 and "T-NOPE1234" in (await unknown.json())["error"]
    ticket_id = (await send(client, chat_id, RISKY))["ticket_id"]
    bad_action = await client.post(f"/sandbox/api/tickets/{ticket_id}/actions", json={"action": "explode", "agent": "Dana"})
    assert bad_action.status == 400 and "action" in (await bad_action.json())["error"]
    no_agent = await client.post(f"/sandbox/api/tickets/{ticket_id}/actions", json={"action": "claim"})
    assert no_agent.status == 400
    assert (await client.get("/sandbox/api/audit/never-seen")).status == 404
    assert (await client.get("/sandbox/api/conversations/bad%20id")).status == 400
    rate_nothing = await client.post("/sandbox/api/conversations/empty-chat/feedback", json={"action": "helpful"})
    assert rate_nothing.status == 404
    assert (await client.get("/healthz")).status == 200


async def test_unexpected_failure_is_a_500_and_the_server_keeps_serving(client, sandbox_core, monkeypatch):
    def broken(**_):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(sandbox_core.store, "tickets", broken)
    response = await client.get("/sandbox/api/queue")
    assert response.status == 500 and "disk on fire" not in await response.text()
    monkeypatch.undo()
    assert (await client.get("/sandbox/api/queue")).status == 200


async def test_enterprise_customer_gets_their_organisation_on_the_card(client, chat_id):
    data = await send(client, chat_id, "How do I connect Ledgerly to Slack?", customer={"name": "Jane Park", "email": "jane@globex.example"})
    assert data["status"] == "escalated" and "high_value" in data["decision"]["reasons"]
    queue = await (await client.get("/sandbox/api/queue")).json()
    [card] = [c for c in queue["cards"] if c["ticket_id"] == data["ticket_id"]]
    assert card["organisation"] == "Globex" and card["tier"] == "enterprise" and card["priority"] == "high"


async def test_a_serious_follow_up_re_triages_the_card_and_the_customer_hears_back(client, chat_id):
    """Issue 13 in the sandbox: new reasons, a higher priority and the billing queue on the card."""
    first = await send(client, chat_id, UNKNOWN)
    ticket_id = first["ticket_id"]
    queue = await (await client.get("/sandbox/api/queue")).json()
    [before] = [c for c in queue["cards"] if c["ticket_id"] == ticket_id]
    serious = "I want a refund of this month's charge, you billed us twice. Fix it today or we leave and I'll post about it on Twitter."
    follow = await send(client, chat_id, serious)
    assert follow["status"] == "relayed" and follow["ticket_id"] == ticket_id
    queue = await (await client.get("/sandbox/api/queue")).json()
    [after] = [c for c in queue["cards"] if c["ticket_id"] == ticket_id]
    reasons = {r["reason"] for r in after["reasons"]}
    assert {"emotional", "policy_risk"} <= reasons and after["queue"] == "billing" and before["queue"] == "support"
    ranks = ("urgent", "high", "normal", "low")
    assert ranks.index(after["priority"]) < ranks.index(before["priority"])
    assert any(note.startswith("Re-triaged on the customer's follow-up") for note in after["notes"])
    bot_texts = [m["text"] for m in follow["chat"]["messages"] if m.get("role") == "bot"]
    assert any("added this to your request" in text for text in bot_texts)
