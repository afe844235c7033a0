"""The Slack adapter: Events API and interactivity over HTTP or Socket Mode, Block Kit cards.

``mount`` is what ``bot.server`` calls. Pure conversions live in ``convert`` (payload -> core
types) and ``render`` (core types -> Block Kit); ``app`` holds the wiring, ``outbox`` the
core's PlatformOutbox. See docs/slack.md for setting up the Slack app from manifest.yaml.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aiohttp import web

    from adapters.slack.outbox import SlackOutbox
    from bot.app import Core
    from bot.settings import Settings


def mount(*, app: web.Application, core: Core, settings: Settings) -> SlackOutbox | None:
    """Add POST /slack/events (with a signing secret) and Socket Mode (with an app token).

    Returns the SlackOutbox for the core's router, or None when Slack is not configured.
    """
    if not settings.slack_enabled:
        return None
    from adapters.slack.app import ADAPTER_KEY, EVENTS_PATH, build_adapter

    adapter = build_adapter(core=core, settings=settings)
    app[ADAPTER_KEY] = adapter
    if adapter.signing_secret:
        app.router.add_post(EVENTS_PATH, adapter.handle_http)
    app.on_startup.append(adapter.start)
    app.on_cleanup.append(adapter.stop)
    return adapter.outbox
