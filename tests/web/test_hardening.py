"""Hardening that holds on every route and in both modes: headers, CSRF, body size, chat rate limit."""

from __future__ import annotations

import asyncio

from adapters.web.sessions import CSRF_HEADER

from .conftest import ADMIN_TOKEN

MESSAGE = {"conversation": "hard-1", "text": "How do I export my invoices?", "customer": {"name": "Dana", "email": "dana@smallshop.example"}}


async def csrf_of(client, cookies=None) -> str:
    async with client.get("/auth/me", cookies=cookies) as response:
        return (await response.json())["csrf"]


async def test_security_headers_are_on_pages_json_static_and_errors(demo):
    for path in ("/", "/sandbox/api/samples", "/sandbox/static/app.js", "/no-such-page", "/auth/signin", "/healthz"):
        async with demo.client.get(path) as response:
            csp = response.headers.get("Content-Security-Policy", "")
            assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp, path
            assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, path
            assert response.headers.get("X-Content-Type-Options") == "nosniff", path
            assert response.headers.get("X-Frame-Options") == "DENY", path


async def test_the_sandbox_page_has_no_inline_script_or_style(demo):
    async with demo.client.get("/") as response:
        page = await response.text()
    assert "<script>" not in page and " style=" not in page and "onclick=" not in page
    assert '<script type="module" src="/sandbox/static/app.js">' in page


async def test_a_state_change_without_the_csrf_token_is_refused(demo):
    client = demo.client
    await csrf_of(client)  # the browser has its session cookie, but sends no token
    async with client.post("/sandbox/api/messages", json=MESSAGE) as response:
        assert response.status == 403 and "CSRF" in (await response.json())["error"]
    async with client.post("/sandbox/api/messages", json=MESSAGE, headers={CSRF_HEADER: "forged-token"}) as response:
        assert response.status == 403


async def test_a_token_from_another_session_does_not_carry_over(demo):
    client = demo.client
    theirs = await csrf_of(client)
    client.session.cookie_jar.clear()
    await csrf_of(client)  # a new session
    async with client.post("/sandbox/api/messages", json=MESSAGE, headers={CSRF_HEADER: theirs}) as response:
        assert response.status == 403


async def test_a_cross_site_origin_is_refused_even_with_the_token(demo):
    client = demo.client
    token = await csrf_of(client)
    headers = {CSRF_HEADER: token, "Origin": "https://evil.example"}
    async with client.post("/sandbox/api/messages", json=MESSAGE, headers=headers) as response:
        assert response.status == 403 and "Origin" in (await response.json())["error"]
    async with client.post("/sandbox/api/messages", json=MESSAGE, headers={CSRF_HEADER: token}) as response:
        assert response.status == 200


async def test_bodies_over_the_limit_get_413_on_every_route(serve_app, make_settings):
    served = await serve_app(make_settings(max_body_bytes=4096, teams_local_mode=True, admin_token=ADMIN_TOKEN))
    client = served.client
    big = b"x" * 5000
    for path in ("/sandbox/api/messages", "/api/messages", "/auth/token"):
        async with client.post(path, data=big, headers={"Content-Type": "application/json"}) as response:
            assert response.status == 413, path

    async def chunks():
        for _ in range(5):
            yield b"y" * 1000

    async with client.post("/api/messages", data=chunks(), headers={"Content-Type": "application/json"}) as response:
        assert response.status == 413  # no Content-Length: aiohttp cuts the stream at the same size
    async with client.get("/healthz") as response:
        assert response.status == 200  # still up


async def test_customer_chat_is_rate_limited_per_client(serve_app, make_settings):
    served = await serve_app(make_settings(chat_rate_per_minute=3))
    client = served.client
    token = await csrf_of(client)
    statuses = []
    for n in range(5):
        body = {**MESSAGE, "conversation": f"rate-{n}", "text": "hello there"}
        async with client.post("/sandbox/api/messages", json=body, headers={CSRF_HEADER: token}) as response:
            statuses.append(response.status)
            retry_after = response.headers.get("Retry-After")
    assert statuses == [200, 200, 200, 429, 429]
    assert retry_after is not None and 1 <= int(retry_after) <= 60
    async with client.get("/sandbox/api/queue") as response:
        assert response.status == 200  # reading is not limited


async def test_admin_token_guessing_is_rate_limited(deployment):
    client = deployment.client
    token = await csrf_of(client)
    statuses = []
    for _ in range(12):
        async with client.post("/auth/token", data={"token": "guess", "csrf": token, "next": "/"}, allow_redirects=False) as response:
            statuses.append(response.status)
    assert statuses[:10] == [401] * 10 and statuses[10:] == [429, 429]


async def test_a_malformed_body_is_400_and_the_server_stays_up(demo):
    client = demo.client
    token = await csrf_of(client)
    async with client.post("/sandbox/api/messages", data=b"{not json", headers={CSRF_HEADER: token, "Content-Type": "application/json"}) as response:
        assert response.status == 400
    results = await asyncio.gather(*(client.get("/healthz") for _ in range(3)))
    assert all(r.status == 200 for r in results)
