"""A real sandbox server for tests and the docs screenshot: the real core and web app.

``start_live_server`` serves the app on a free loopback port from a background thread, so
synchronous Playwright code can drive it.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from bot.settings import SAMPLE_KNOWLEDGE, SAMPLE_RULES, Settings


def sandbox_settings(*, home: Path, database: Path, **overrides) -> Settings:
    """Sample rules and knowledge, a fresh database, no Slack or Teams.

    ``database`` is the SQLite file; with ``BATON_TEST_DATABASE=postgres`` it is a fresh
    PostgreSQL schema instead (see tests/conftest.py), dropped by ``LiveServer.stop`` or at the
    end of the test session."""
    from tests.conftest import fresh_database_url

    database_url = fresh_database_url(database.parent, name=database.stem)
    return Settings(_env_file=None, home=home, database_url=database_url, rules=SAMPLE_RULES, knowledge=SAMPLE_KNOWLEDGE,
                    **{"slack_bot_token": None, "microsoft_app_id": "", "teams_local_mode": False, **overrides})


def build(settings: Settings):
    from bot.app import build_core
    from bot.outbox import OutboxRouter
    from bot.server import build_web_app

    core = build_core(settings=settings, outboxes=OutboxRouter())
    return core, build_web_app(core=core, settings=settings)


@dataclass
class LiveServer:
    """A running sandbox server in a background thread."""

    url: str
    core: object
    loop: asyncio.AbstractEventLoop
    thread: threading.Thread
    runner: web.AppRunner

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        from tests.conftest import drop_database

        self.core.store.engine.dispose()
        drop_database(self.core.settings.effective_database_url)


def start_live_server(settings: Settings) -> LiveServer:
    """Build the core and the web app inside a new thread's loop, bound to 127.0.0.1:<free port>."""
    ready, box = threading.Event(), {}

    def run() -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            core, app = build(settings)
            runner = web.AppRunner(app)
            loop.run_until_complete(runner.setup())
            site = web.TCPSite(runner, "127.0.0.1", 0)
            loop.run_until_complete(site.start())
            host, port = runner.addresses[0][:2]
            box.update(url=f"http://{host}:{port}", core=core, loop=loop, runner=runner)
        except BaseException as exc:  # reported to the test thread below
            box["error"] = exc
            ready.set()
            return
        ready.set()
        loop.run_forever()
        loop.close()

    thread = threading.Thread(target=run, name="sandbox-live-server", daemon=True)
    thread.start()
    ready.wait(timeout=600)
    if "error" in box:
        raise box["error"]
    return LiveServer(url=box["url"], core=box["core"], loop=box["loop"], thread=thread, runner=box["runner"])
