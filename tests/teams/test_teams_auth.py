"""Authentication is on whenever an app id is configured; without one, only explicit local mode runs."""

from __future__ import annotations

import logging
import time

import jwt
import pytest
from aiohttp import web

import adapters.teams as teams_adapter
from teams.harness import start_harness

APP_ID = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"
SECRET = "not-a-real-secret"


def _token(issuer: str) -> str:
    claims = {"iss": issuer, "aud": APP_ID, "exp": int(time.time()) + 600, "serviceurl": "http://127.0.0.1:9/"}
    return jwt.encode(claims, "k" * 32, algorithm="HS256")


@pytest.fixture
async def secured(make_settings, connector):
    settings = make_settings(microsoft_app_id=APP_ID, microsoft_app_password=SECRET, teams_local_mode=False, admin_token="test-admin-token")
    harness = await start_harness(settings=settings, connector=connector)
    yield harness
    await harness.client.close()


async def test_requests_without_a_valid_token_get_401_without_any_network(secured, loopback_only, caplog):
    for headers in ({}, {"Authorization": "Bearer not-a-jwt"}, {"Authorization": "Basic abc"}, {"Authorization": f"Bearer {_token('https://evil.example')}"}):
        response = await secured.post(secured.message("hello"), headers=headers)
        assert response.status == 401, headers
    assert secured.connector.requests == [] and secured.core.store.tickets() == []
    assert loopback_only == [], f"unexpected network attempts: {loopback_only}"
    assert SECRET not in caplog.text


async def test_the_mounted_adapter_authenticates_with_the_app_registration(make_settings):
    settings = make_settings(microsoft_app_id=APP_ID, microsoft_app_password=SECRET, microsoft_app_tenant_id="t-1", admin_token="test-admin-token")
    config = teams_adapter.auth_config(settings=settings)
    assert (config.APP_ID, config.APP_PASSWORD, config.APP_TYPE, config.APP_TENANTID) == (APP_ID, SECRET, "SingleTenant", "t-1")
    assert SECRET not in repr(settings) and SECRET not in str(settings.describe())


def test_without_app_id_or_local_mode_mount_refuses_clearly(make_settings, caplog):
    app = web.Application()
    with caplog.at_level(logging.INFO):  # INFO, not ERROR: a Slack-only deployment is not broken
        assert teams_adapter.mount(app=app, core=None, settings=make_settings(microsoft_app_id="", teams_local_mode=False)) is None
    assert "BATON_TEAMS_LOCAL_MODE" in caplog.text and "MICROSOFT_APP_ID" in caplog.text
    assert not [r for r in app.router.routes() if r.resource.canonical == teams_adapter.ROUTE]


def test_app_id_without_password_refuses_clearly(make_settings, caplog):
    with caplog.at_level(logging.ERROR):
        assert teams_adapter.mount(app=web.Application(), core=None, settings=make_settings(microsoft_app_id=APP_ID, teams_local_mode=True)) is None
    assert "MICROSOFT_APP_PASSWORD is missing" in caplog.text


async def test_local_mode_is_announced_loudly(make_settings, connector, caplog):
    harness = await start_harness(settings=make_settings(teams_local_mode=True, admin_token="test-admin-token"), connector=connector)
    try:
        assert "LOCAL MODE" in caplog.text
        assert any(r.resource.canonical == "/api/messages" for r in harness.client.app.router.routes())
    finally:
        await harness.client.close()

