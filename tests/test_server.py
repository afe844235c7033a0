"""The web process's own routes: liveness and readiness."""

from __future__ import annotations

from aiohttp.test_utils import TestClient, TestServer

from bot.server import build_web_app


async def test_healthz_and_readyz(core, make_settings):
    app = build_web_app(core=core, settings=make_settings())
    async with TestClient(TestServer(app)) as client:
        assert (await client.get("/healthz")).status == 200
        ready = await client.get("/readyz")
        assert ready.status == 200 and (await ready.json())["knowledge_passages"] > 0


async def test_readyz_is_503_when_the_database_is_down(core, make_settings, monkeypatch):
    def down() -> None:
        raise ConnectionError("database is gone")

    monkeypatch.setattr(core.store, "ping", down)
    app = build_web_app(core=core, settings=make_settings())
    async with TestClient(TestServer(app)) as client:
        response = await client.get("/readyz")
        assert response.status == 503 and (await response.json())["database"] == "down"
