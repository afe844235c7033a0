"""Two modes that cannot be confused: the loopback demo with no account, and a deployment behind sign-in."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from adapters.web.exposure import ExposureError, check_web_surface, is_loopback, web_mode

from .conftest import ADMIN_TOKEN, REPO_ROOT, deployment_settings


@pytest.mark.parametrize("host, loopback", [("127.0.0.1", True), ("127.8.9.10", True), ("localhost", True), ("::1", True), ("[::1]", True),
                                             ("0.0.0.0", False), ("", False), ("::", False), ("10.0.0.5", False), ("baton.example.com", False)])
def test_loopback_addresses(host, loopback):
    assert is_loopback(host) is loopback


def test_the_default_settings_are_the_demo(make_settings):
    mode = check_web_surface(settings=make_settings(), host="127.0.0.1")
    assert not mode.deployment and mode.name == "demo"


@pytest.mark.parametrize("overrides, host, reason", [
    ({}, "0.0.0.0", "listens on 0.0.0.0"),
    ({"slack_bot_token": "xoxb-1", "slack_signing_secret": "s"}, "127.0.0.1", "Slack is configured"),
    ({"teams_local_mode": True}, "127.0.0.1", "Teams is configured"),
    ({"microsoft_app_id": "app", "microsoft_app_password": "pw"}, "127.0.0.1", "Teams is configured"),
])
def test_an_exposed_server_with_the_ui_and_no_sign_in_refuses_to_start(make_settings, overrides, host, reason):
    with pytest.raises(ExposureError) as refused:
        check_web_surface(settings=make_settings(**overrides), host=host)
    text = str(refused.value)
    assert reason in text and "BATON_ADMIN_TOKEN" in text and "BATON_SANDBOX=false" in text


def test_sign_in_or_no_sandbox_makes_an_exposed_server_acceptable(make_settings):
    assert check_web_surface(settings=make_settings(admin_token=ADMIN_TOKEN), host="0.0.0.0").deployment
    assert check_web_surface(settings=make_settings(sandbox=False), host="0.0.0.0").deployment


def test_a_sign_in_method_on_loopback_is_a_deployment_too(make_settings):
    mode = web_mode(settings=make_settings(admin_token=ADMIN_TOKEN), host="127.0.0.1")
    assert mode.deployment and mode.sign_in == ("token",)


@pytest.mark.parametrize("overrides, missing", [
    ({"slack_signin_client_id": "123.456"}, "SLACK_CLIENT_SECRET"),
    ({"slack_signin_client_id": "123.456", "slack_signin_client_secret": "s"}, "BATON_PUBLIC_URL"),
    ({"entra_client_id": "abc", "public_url": "https://baton.example.com"}, "BATON_ENTRA_CLIENT_SECRET, BATON_ENTRA_TENANT_ID"),
    ({"admin_token": ADMIN_TOKEN, "public_url": "baton.example.com"}, r"BATON_PUBLIC_URL must be an http\(s\) URL"),
])
def test_a_half_set_sign_in_method_is_a_clear_error(make_settings, overrides, missing):
    with pytest.raises(ExposureError, match=missing):
        check_web_surface(settings=make_settings(**overrides), host="127.0.0.1")


def test_baton_serve_refuses_to_expose_the_ui_and_says_what_to_set(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BATON_", "SLACK_", "MICROSOFT_", "OPENAI_"))}
    env.update(BATON_HOME=str(tmp_path), SLACK_BOT_TOKEN="xoxb-1", SLACK_SIGNING_SECRET="s")
    done = subprocess.run([sys.executable, "-m", "bot", "serve", "--host", "0.0.0.0", "--port", "3999"], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "Baton will not start" in done.stderr and "BATON_ADMIN_TOKEN" in done.stderr and "BATON_SANDBOX=false" in done.stderr
    assert not (tmp_path / "baton.db").exists()  # refused before anything was built


async def test_the_demo_opens_the_sandbox_with_no_account(demo):
    client = demo.client
    async with client.get("/") as page:
        assert page.status == 200 and "Baton sandbox" in await page.text()
    async with client.get("/auth/me") as response:
        me = await response.json()
    assert me["mode"] == "demo" and me["role"] == "admin" and me["csrf"]
    body = {"conversation": "demo-1", "text": "How do I export my invoices?", "customer": {"name": "Dana"}}
    async with client.post("/sandbox/api/messages", json=body, headers={"X-CSRF-Token": me["csrf"]}) as response:
        assert response.status == 200 and (await response.json())["status"]
    for path in ("/sandbox/api/dashboard", "/sandbox/api/queue", "/sandbox/api/agent-actions", "/metrics"):
        async with client.get(path) as response:
            assert response.status == 200, path


async def test_with_the_sandbox_off_only_platform_and_health_routes_exist(serve_app, make_settings, slack):
    served = await serve_app(deployment_settings(make_settings=make_settings, slack=slack, sandbox=False, admin_token=None))
    templates = {resource.canonical for resource in served.client.app.router.resources()}
    assert not any(t.startswith("/sandbox") for t in templates) and "/" not in templates
    assert {"/slack/events", "/api/messages", "/healthz", "/readyz"} <= templates
