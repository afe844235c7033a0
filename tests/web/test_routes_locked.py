"""Every route the deployed server registers is closed to strangers, and each role opens only its own.

The list of routes is read from the running app's router, not written here: a route added
later without a place in adapters/web/access.py's table needs the admin role, and a route added to
the public list has to be added to EXPECTED_PUBLIC below as well, on purpose.
"""

from __future__ import annotations

import re

from adapters.web.access import required_role
from adapters.web.roles import Role

from .conftest import ADMIN_TOKEN, METRICS_TOKEN

EXPECTED_PUBLIC = {
    "/healthz", "/readyz", "/slack/events", "/api/messages", "/auth/signin", "/auth/signin.css", "/auth/me",
    "/auth/token", "/auth/signout", "/auth/start/{provider}", "/auth/callback/{provider}",
}
STATIC_SAMPLE = "/sandbox/static/app.js"


def registered(app) -> list[tuple[str, str]]:
    """(method, route template) of every route the app serves, HEAD aside."""
    found = set()
    for resource in app.router.resources():
        for route in resource:
            if route.method != "HEAD":
                found.add((route.method, resource.canonical))
    return sorted(found)


def concrete(template: str) -> str:
    """A requestable path for a template: placeholders filled, the static prefix given a file."""
    if template == "/sandbox/static":
        return STATIC_SAMPLE
    return re.sub(r"\{[^}]+\}", "x1", template)


async def call(client, method: str, path: str, **kwargs):
    async with client.request(method, path, allow_redirects=False, **kwargs) as response:
        await response.read()
        return response


async def test_the_public_routes_are_exactly_the_expected_ones(deployment):
    routes = registered(deployment.client.app)
    public = {template for _, template in routes if required_role(template) is None and template != "/metrics"}
    assert public == EXPECTED_PUBLIC
    assert len(routes) >= 25, routes  # the sandbox, sign-in, Slack, Teams and operations routes are all mounted


async def test_every_non_public_route_refuses_a_stranger(deployment):
    client = deployment.client
    checked = []
    for method, template in registered(client.app):
        if required_role(template) is None and template != "/metrics":
            continue
        response = await call(client, method, concrete(template), json={})
        assert response.status in (401, 403), f"{method} {template} answered {response.status} without a session"
        checked.append(template)
    assert "/sandbox/api/tickets/{ticket}/actions" in checked and "/sandbox/static" in checked and "/" in checked
    assert "/metrics" in checked and "/admin/settings" in checked


async def test_a_forged_or_expired_session_is_a_stranger(deployment):
    from adapters.web.sessions import SESSION_COOKIE

    client = deployment.client
    good = deployment.cookie_for(role="admin")[SESSION_COOKIE]
    body, mac = good.split(".")
    forged = {SESSION_COOKIE: body + "." + ("A" if mac[0] != "A" else "B") + mac[1:]}
    assert (await call(client, "GET", "/sandbox/api/queue", cookies=forged)).status == 401
    from adapters.web.sessions import CookieSigner

    other_key = CookieSigner(secret=b"not the server's key").sign(payload={"sid": "s", "provider": "token"}, max_age_seconds=60)
    assert (await call(client, "GET", "/sandbox/api/queue", cookies={SESSION_COOKIE: other_key})).status == 401


async def test_each_role_opens_its_routes_and_no_more(deployment):
    client = deployment.client
    expectations = {
        "agent": {"/sandbox/api/queue": 200, "/sandbox/api/dashboard": 403, "/sandbox/api/agent-actions": 403, "/admin/settings": 403},
        "lead": {"/sandbox/api/queue": 200, "/sandbox/api/dashboard": 200, "/sandbox/api/agent-actions": 200, "/admin/settings": 403},
        "admin": {"/sandbox/api/queue": 200, "/sandbox/api/dashboard": 200, "/admin/settings": 200},
    }
    for role, paths in expectations.items():
        cookies = deployment.cookie_for(role=role)
        for path, status in paths.items():
            assert (await call(client, "GET", path, cookies=cookies)).status == status, (role, path)


async def test_someone_named_in_no_role_list_is_refused(deployment):
    cookies = deployment.cookie_for(role="agent", email="eve@elsewhere.example")
    response = await call(deployment.client, "GET", "/sandbox/api/queue", cookies=cookies)
    assert response.status == 403


async def test_the_page_sends_a_browser_to_sign_in(deployment):
    async with deployment.client.get("/", headers={"Accept": "text/html"}, allow_redirects=False) as response:
        page = await response.text()
    assert response.status == 401 and "/auth/signin?next=%2F" in page


async def test_the_admin_token_opens_everything_as_a_bearer(deployment):
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    assert (await call(deployment.client, "GET", "/admin/settings", headers=headers)).status == 200
    assert (await call(deployment.client, "GET", "/sandbox/api/dashboard", headers=headers)).status == 200
    wrong = {"Authorization": f"Bearer {ADMIN_TOKEN}x"}
    assert (await call(deployment.client, "GET", "/sandbox/api/dashboard", headers=wrong)).status == 401


async def test_metrics_need_their_own_token_when_exposed(deployment):
    client = deployment.client
    assert (await call(client, "GET", "/metrics")).status == 401
    assert (await call(client, "GET", "/metrics", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})).status == 401
    async with client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}) as response:
        assert response.status == 200 and "baton_" in await response.text()


async def test_metrics_are_closed_when_exposed_without_a_metrics_token(serve_app, make_settings, slack):
    from .conftest import deployment_settings

    served = await serve_app(deployment_settings(make_settings=make_settings, slack=slack))
    async with served.client.get("/metrics") as response:
        assert response.status == 403 and "BATON_METRICS_TOKEN" in await response.text()


async def test_the_platform_endpoints_and_health_stay_open(deployment):
    client = deployment.client
    assert (await call(client, "GET", "/healthz")).status == 200
    assert (await call(client, "GET", "/readyz")).status == 200
    unsigned = await call(client, "POST", "/slack/events", data=b'{"type":"event_callback"}', headers={"Content-Type": "application/json"})
    assert unsigned.status == 401  # Slack's own signature check answers, not the sign-in guard
    teams = await call(client, "POST", "/api/messages", data=b'{"type":"message"}', headers={"Content-Type": "application/json"})
    assert teams.status == 401  # the Bot Framework token check answers


def test_unlisted_routes_need_the_admin_role():
    assert required_role("/sandbox/api/some-new-route") is Role.ADMIN
    assert required_role("/brand-new") is Role.ADMIN
