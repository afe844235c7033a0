"""Microsoft Teams adapter: botbuilder lives in this folder and nowhere else.

``mount(*, app, core, settings)`` adds ``POST /api/messages`` to the shared aiohttp server and
returns the ``TeamsOutbox`` (or None when Teams must not run). Authentication (Bot Framework
JWT) is on whenever an app id is configured; without one the adapter runs only in explicit
local mode (``BATON_TEAMS_LOCAL_MODE=true``), for the Emulator and tests.

Modules: ``convert`` (activity -> core types), ``render`` (card -> Adaptive Card), ``bot``
(activity handler), ``actions`` (card verbs), ``outbox`` (proactive sends), ``http`` (the
/api/messages handler with the invoke workaround), ``inbox`` (activities stored before the
201 and run by a worker), ``package`` (the Teams app zip).
"""

from __future__ import annotations

import logging
from types import SimpleNamespace
from typing import Any

from aiohttp import web

from adapters.teams import texts

log = logging.getLogger(__name__)
ROUTE = "/api/messages"
INBOX_KEY = web.AppKey("baton_teams_inbox", object)  # the app's TeamsInbox (tests wait on it; shutdown drains it)


def auth_config(*, settings: Any) -> SimpleNamespace | None:
    """botbuilder's configuration object, or None when Teams must not be mounted."""
    app_id = settings.microsoft_app_id or ""
    password = settings.microsoft_app_password.get_secret_value() if settings.microsoft_app_password else ""
    if not app_id:
        return SimpleNamespace(APP_ID="", APP_PASSWORD="", APP_TYPE="MultiTenant", APP_TENANTID="") if settings.teams_local_mode else None
    if not password:
        log.error(texts.LOG_NO_PASSWORD)
        return None
    tenant = settings.microsoft_app_tenant_id or ""
    return SimpleNamespace(APP_ID=app_id, APP_PASSWORD=password, APP_TYPE="SingleTenant" if tenant else "MultiTenant", APP_TENANTID=tenant)


def build_adapter(*, config: SimpleNamespace) -> Any:
    """A CloudAdapter authenticating with the app registration (none when the app id is empty)."""
    from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication

    return CloudAdapter(ConfigurationBotFrameworkAuthentication(config))


def mount(*, app: Any, core: Any, settings: Any) -> Any:
    """Add POST /api/messages and return the Teams outbox, or None (with a clear log line).

    Called on every start, so a team that expected Teams learns from the log why it is off."""
    config = auth_config(settings=settings)
    if config is None:
        if not settings.microsoft_app_id:
            log.info(texts.LOG_REFUSED)
        return None
    from adapters.teams.bot import BatonTeamsBot
    from adapters.teams.http import messages_handler
    from adapters.teams.inbox import TeamsInbox
    from adapters.teams.outbox import TeamsOutbox

    _log_mode(config)
    quiet_msrest()
    adapter = build_adapter(config=config)
    bot = BatonTeamsBot(core=core, home_tenant=settings.microsoft_app_tenant_id)
    inbox = TeamsInbox(inbox=core.inbox, adapter=adapter, bot=bot) if core.inbox is not None else None
    if inbox is not None:
        app[INBOX_KEY] = inbox
        app.on_startup.append(inbox.start)
        app.on_cleanup.append(inbox.stop)
    app.router.add_post(ROUTE, messages_handler(adapter=adapter, bot=bot, auth_required=bool(config.APP_ID), inbox=inbox))
    return TeamsOutbox(adapter=adapter, conversations=core.conversations, reads=core.reads, default_queue=core.rules.default_queue, app_id=config.APP_ID)


def quiet_msrest() -> None:
    """msrest warns about every Teams field botbuilder does not model (``teamsChannelId``,
    ``trigger``...) on every activity; keep its real errors, drop that noise."""
    logging.getLogger("msrest.serialization").setLevel(logging.ERROR)


def _log_mode(config: SimpleNamespace) -> None:
    if config.APP_ID:
        log.info(texts.LOG_AUTH_ON, config.APP_ID, config.APP_TYPE)
    else:
        log.warning(texts.LOG_LOCAL_MODE)
