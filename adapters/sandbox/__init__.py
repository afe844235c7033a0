"""The local web sandbox: a customer chat, an agent queue and a dashboard, no Slack or Teams needed.

``mount`` adds the page, its static assets and a small JSON API to the shared aiohttp app and
returns the sandbox outbox, which ``bot.server`` adds to the core's router. The browser polls
``/sandbox/api/version`` about once a second and re-reads what changed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp import web

from adapters.sandbox import agent_api, chat_api
from adapters.sandbox.outbox import SandboxOutbox
from adapters.sandbox.jsonapi import STATE_KEY, SandboxState

STATIC_DIR = Path(__file__).resolve().parent / "static"
API = "/sandbox/api"

__all__ = ["SandboxOutbox", "mount", "routes"]


async def _page(request: web.Request) -> web.FileResponse:
    """GET /: the single-page sandbox."""
    return web.FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache"})


async def _to_page(request: web.Request) -> web.Response:
    raise web.HTTPFound("/")


def routes() -> list[web.RouteDef]:
    """Every sandbox route (the page, the JSON API); static files are added by ``mount``."""
    return [
        web.get("/", _page),
        web.get("/sandbox", _to_page),
        web.get(f"{API}/samples", chat_api.get_samples),
        web.get(f"{API}/version", chat_api.get_version),
        web.post(f"{API}/messages", chat_api.post_message),
        web.get(f"{API}/conversations", chat_api.list_conversations),
        web.get(f"{API}/conversations/{{conversation}}", chat_api.get_conversation),
        web.post(f"{API}/conversations/{{conversation}}/feedback", chat_api.post_customer_feedback),
        web.get(f"{API}/queue", agent_api.get_queue),
        web.post(f"{API}/tickets/{{ticket}}/actions", agent_api.post_ticket_action),
        web.get(f"{API}/dashboard", agent_api.get_dashboard),
        web.get(f"{API}/audit/{{conversation}}", agent_api.get_audit),
        web.get(f"{API}/agent-actions", agent_api.get_agent_actions),
    ]


def mount(*, app: web.Application, core: Any, settings: Any) -> SandboxOutbox:
    """Add the sandbox to the web app and return its outbox (the sandbox is always mounted)."""
    outbox = SandboxOutbox()
    app[STATE_KEY] = SandboxState(core=core, outbox=outbox)
    app.router.add_routes(routes())
    app.router.add_static("/sandbox/static/", STATIC_DIR, name="sandbox-static")
    return outbox
