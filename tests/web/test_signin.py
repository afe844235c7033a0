"""The admin token sign-in, sessions in cookies, sign-out, and the audit trail of who did what."""

from __future__ import annotations

from adapters.web.sessions import CSRF_HEADER, SESSION_COOKIE

from .conftest import ADMIN_TOKEN


async def sign_in_page_token(client) -> str:
    async with client.get("/auth/signin") as response:
        page = await response.text()
    assert response.status == 200
    marker = 'name="csrf" value="'
    return page[page.index(marker) + len(marker):].split('"', 1)[0]


def set_cookie_header(response, name: str) -> str:
    return next(value for value in response.headers.getall("Set-Cookie") if value.startswith(name + "="))


async def test_the_admin_token_signs_in_with_a_safe_cookie(deployment):
    client = deployment.client
    csrf = await sign_in_page_token(client)
    form = {"token": ADMIN_TOKEN, "csrf": csrf, "next": "/sandbox/api/dashboard"}
    async with client.post("/auth/token", data=form, allow_redirects=False) as response:
        assert response.status == 303 and response.headers["Location"] == "/sandbox/api/dashboard"
        cookie = set_cookie_header(response, SESSION_COOKIE)
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    assert ADMIN_TOKEN not in cookie
    async with client.get("/sandbox/api/dashboard") as response:
        assert response.status == 200
    async with client.get("/auth/me") as response:
        me = await response.json()
    assert me["signed_in"] and me["role"] == "admin" and me["mode"] == "deployment"
    actions = [row.action for row in deployment.core.store.agent_actions()]
    assert "signin" in actions


async def test_a_wrong_token_is_refused_and_kept_in_the_audit_trail(deployment):
    client = deployment.client
    csrf = await sign_in_page_token(client)
    async with client.post("/auth/token", data={"token": "nope", "csrf": csrf}, allow_redirects=False) as response:
        assert response.status == 401 and "not right" in await response.text()
    async with client.get("/sandbox/api/queue") as response:
        assert response.status == 401
    failed = [row for row in deployment.core.store.agent_actions() if row.action == "signin_failed"]
    assert failed and not failed[0].ok


async def test_the_token_form_needs_its_csrf_token(deployment):
    client = deployment.client
    await sign_in_page_token(client)
    async with client.post("/auth/token", data={"token": ADMIN_TOKEN}, allow_redirects=False) as response:
        assert response.status == 403  # login CSRF: another site cannot sign this browser in


async def test_next_never_leaves_the_site(deployment):
    client = deployment.client
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        csrf = await sign_in_page_token(client)
        async with client.post("/auth/token", data={"token": ADMIN_TOKEN, "csrf": csrf, "next": target}, allow_redirects=False) as response:
            assert response.headers["Location"] == "/", target


async def test_sign_out_ends_the_session(deployment):
    client = deployment.client
    csrf = await sign_in_page_token(client)
    await client.post("/auth/token", data={"token": ADMIN_TOKEN, "csrf": csrf}, allow_redirects=False)
    async with client.get("/auth/me") as response:
        token = (await response.json())["csrf"]
    async with client.post("/auth/signout", headers={CSRF_HEADER: token}, allow_redirects=False) as response:
        assert response.status == 303
    async with client.get("/sandbox/api/queue") as response:
        assert response.status == 401
    assert any(row.action == "signout" for row in deployment.core.store.agent_actions())


async def test_settings_are_shown_to_admins_with_secrets_masked(deployment):
    async with deployment.client.get("/admin/settings", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}) as response:
        text = await response.text()
    assert response.status == 200 and ADMIN_TOKEN not in text and "teams-secret" not in text and "********" in text


async def test_card_actions_are_done_as_the_signed_in_agent_and_audited(deployment):
    """The body's 'agent' is ignored in a deployment: nobody can act in someone else's name."""
    client, core = deployment.client, deployment.core
    cookies = deployment.cookie_for(role="agent", user_id="U0ANN")
    async with client.get("/auth/me", cookies=cookies) as response:
        csrf = (await response.json())["csrf"]
    headers = {CSRF_HEADER: csrf}
    message = {"conversation": "audit-1", "text": "I want a refund, you charged me twice!", "customer": {"name": "Rita", "email": "rita@smallshop.example"}}
    async with client.post("/sandbox/api/messages", json=message, headers=headers, cookies=cookies) as response:
        ticket_id = (await response.json())["ticket_id"]
    assert ticket_id
    action = {"action": "claim", "agent": "Mallory"}
    async with client.post(f"/sandbox/api/tickets/{ticket_id}/actions", json=action, headers=headers, cookies=cookies) as response:
        assert response.status == 200
    ticket = core.store.ticket(ticket_id=ticket_id)
    assert ticket.claimed_by == "U0ANN" and ticket.claimed_by_name == "Ann"
    audit = core.store.agent_actions(ticket_id=ticket_id)
    assert [(row.action, row.actor_id, row.actor_name, row.ok) for row in audit] == [("claim", "U0ANN", "Ann", True)]
    async with client.get("/sandbox/api/agent-actions", params={"ticket": ticket_id}, cookies=deployment.cookie_for(role="lead")) as response:
        shown = (await response.json())["actions"]
    assert shown[0]["actor"] == "Ann" and shown[0]["action"] == "claim"


async def test_every_desk_action_leaves_an_audit_entry(core):
    from bot.types import ConversationRef, InboundMessage, Person

    message = InboundMessage(event_id="e-audit", ref=ConversationRef(platform="test", channel="C-audit"), author=Person(platform_id="c1", display_name="Cy"), text="I demand a refund now, this is a scam")
    result = await core.dialogue.handle(message)
    ticket_id = result.ticket_id
    desk = core.desk
    await desk.claim(ticket_id=ticket_id, agent_id="A1", agent_name="Ann")
    await desk.claim(ticket_id=ticket_id, agent_id="B1", agent_name="Bob")
    await desk.agent_reply(ticket_id=ticket_id, agent_id="A1", agent_name="Ann", text="Looking into it")
    await desk.release(ticket_id=ticket_id, agent_id="A1", agent_name="Ann")
    await desk.resolve(ticket_id=ticket_id, agent_id="B1", agent_name="Bob")
    await desk.record_feedback(ticket_id=ticket_id, kind="card_ok", by="Bob", agent_id="B1")
    trail = [(row.action, row.actor_id, row.ok) for row in reversed(core.store.agent_actions(ticket_id=ticket_id))]
    assert trail == [("claim", "A1", True), ("claim", "B1", False), ("reply", "A1", True), ("release", "A1", True), ("resolve", "B1", True), ("feedback:card_ok", "B1", True)]
