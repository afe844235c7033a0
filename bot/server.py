"""The web process's composition root: one aiohttp server for the sandbox, Slack and Teams.

Each adapter package exposes ``mount(*, app, core, settings)`` that adds its routes and
returns its outbox (or None when the platform is not configured). This is the only module of
``bot/`` allowed to import adapters; the import-boundary test knows it.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.app import Core, build_core
from bot.metrics import Metrics
from bot.settings import Settings

log = logging.getLogger(__name__)
CORE_KEY = web.AppKey("baton_core", Core)
METRICS_KEY = web.AppKey("baton_metrics", Metrics)


def adapters_for(settings: Settings) -> list[Any]:
    """The adapter packages to mount: the sandbox always, Slack and Teams when configured."""
    import adapters.sandbox as sandbox

    mounted = [sandbox]
    if settings.slack_enabled:
        import adapters.slack as slack

        mounted.append(slack)
    if settings.teams_enabled:
        import adapters.teams as teams

        mounted.append(teams)
    return mounted


async def _health(request: web.Request) -> web.Response:
    """Liveness: the process answers."""
    return web.json_response({"status": "ok"})


async def _ready(request: web.Request) -> web.Response:
    """Readiness: the database answers and the models are loaded (503 otherwise)."""
    core = request.app[CORE_KEY]
    try:
        await asyncio.to_thread(core.store.ping)
    except Exception as exc:  # any database failure means "not ready", never a 500
        log.warning("readiness check failed: %s", type(exc).__name__)
        return web.json_response({"status": "unavailable", "database": "down"}, status=503)
    return web.json_response({"status": "ready", "database": "ok", "knowledge_passages": len(core.knowledge.passages) if core.knowledge is not None else 0})


async def _metrics(request: web.Request) -> web.Response:
    """Prometheus scrape: always 200; the store's gauges are read in a worker thread."""
    body, content_type = await asyncio.to_thread(request.app[METRICS_KEY].exposition, accept=request.headers.get("Accept"))
    return web.Response(body=body, headers={"Content-Type": content_type})


def _route_template(request: web.Request) -> str:
    """The matched resource's canonical path ('/api/tickets/{id}'), never the raw URL."""
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "unmatched"


def timing_middleware(*, metrics: Metrics):
    """Count and time every request by route template, method and status."""

    @web.middleware
    async def timed(request: web.Request, handler):
        started, status = time.perf_counter(), 500
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as exc:
            status = exc.status
            raise
        except asyncio.CancelledError:
            status = 499  # the client went away before the answer
            raise
        finally:
            metrics.observe_request(route=_route_template(request), method=request.method, status=status, seconds=time.perf_counter() - started)

    return timed


def build_web_app(*, core: Core, settings: Settings) -> web.Application:
    """The aiohttp application with metrics, health routes and every configured adapter."""
    metrics = Metrics(store=core.store)
    app = web.Application(client_max_size=1024 * 1024, middlewares=[timing_middleware(metrics=metrics)])
    app[CORE_KEY] = core
    app[METRICS_KEY] = metrics
    app.router.add_get("/healthz", _health)
    app.router.add_get("/readyz", _ready)
    app.router.add_get("/metrics", _metrics)
    for adapter in adapters_for(settings):
        outbox = adapter.mount(app=app, core=core, settings=settings)
        if outbox is not None:
            core.outboxes.add(outbox)
    return app


async def _operations(app: web.Application):
    """SLA timers, weekly digest and review sample, run in every process (each fires once)."""
    from bot.ops.loop import run_ops

    stop = asyncio.Event()
    task = asyncio.create_task(run_ops(core=app[CORE_KEY], stop=stop))
    yield
    stop.set()
    await task


def serve(*, settings: Settings, host: str, port: int) -> int:
    """Build the core, mount the adapters and serve until interrupted."""
    core = build_core(settings=settings, progress=True)
    app = build_web_app(core=core, settings=settings)
    app.cleanup_ctx.append(_operations)
    gc.freeze()  # the loaded models never change: keep full collections from walking them (ack latency)
    print(f"Baton is running: open http://{host}:{port}/ (Ctrl+C to stop)", flush=True)
    access_log = logging.getLogger("aiohttp.access") if settings.log_level == "DEBUG" else None  # /metrics counts requests
    web.run_app(app, host=host, port=port, print=None, access_log=access_log)
    return 0


def teams_package(*, settings: Settings, out_dir: str, version: str, domains: list[str]) -> str:
    """Build the Teams app package (wiring lives here, with the other adapter imports)."""
    from adapters.teams.package import build_package

    return str(build_package(settings=settings, out_dir=Path(out_dir), version=version, valid_domains=tuple(domains)))
