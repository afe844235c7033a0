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

import secrets
import sys

from bot.app import Core, build_core
from bot.metrics import Metrics
from bot.settings import Settings
from adapters.web.access import AccessPolicy, access_middleware
from adapters.web.exposure import ExposureError, WebMode, check_web_surface
from adapters.web.hardening import body_limit_middleware, security_headers
from adapters.web.ratelimit import SlidingWindowLimiter
from adapters.web.roles import RoleMap
from adapters.web.sessions import CookieSigner
from adapters.web.signin import SIGNIN_KEY, SignIn
from adapters.web.signin import routes as signin_routes

log = logging.getLogger(__name__)
CORE_KEY = web.AppKey("baton_core", Core)
METRICS_KEY = web.AppKey("baton_metrics", Metrics)


def adapters_for(settings: Settings) -> list[Any]:
    """The adapter packages to mount: the sandbox unless turned off, Slack when configured, and
    Teams, whose mount adds its route only when configured and logs why not otherwise."""
    mounted = []
    if settings.sandbox:
        import adapters.sandbox as sandbox

        mounted.append(sandbox)
    if settings.slack_enabled:
        import adapters.slack as slack

        mounted.append(slack)
    import adapters.teams as teams  # always: its mount logs why Teams is off when it is

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


def _secret(value) -> str:
    return value.get_secret_value() if value is not None else ""


def _session_key(*, settings: Settings, mode: WebMode) -> bytes:
    """BATON_SESSION_SECRET, or a random key for this process (sessions end at a restart)."""
    if settings.session_secret is not None and settings.session_secret.get_secret_value():
        return settings.session_secret.get_secret_value().encode()
    if mode.deployment:
        log.warning("BATON_SESSION_SECRET is not set: sign-ins last until this process restarts and do not carry over to other replicas")
    return secrets.token_bytes(32)


def build_access(*, settings: Settings, mode: WebMode) -> AccessPolicy:
    """Sessions, roles, tokens and rate limits for the web surface."""
    return AccessPolicy(
        mode=mode, signer=CookieSigner(secret=_session_key(settings=settings, mode=mode)), roles=RoleMap.from_settings(settings),
        admin_token=_secret(settings.admin_token), metrics_token=_secret(settings.metrics_token),
        chat_limiter=SlidingWindowLimiter(limit=settings.chat_rate_per_minute), token_limiter=SlidingWindowLimiter(limit=10),
        public_url=settings.public_url, trust_forwarded_for=settings.trust_forwarded_for,
    )


def oidc_clients(*, settings: Settings, mode: WebMode) -> dict:
    """One OpenID Connect client per sign-in provider the settings turn on."""
    if not {"slack", "entra"} & set(mode.sign_in):
        return {}
    from adapters.web.oidc import OidcClient, entra_config, slack_config

    clients = {}
    if "slack" in mode.sign_in:
        config = slack_config(client_id=settings.slack_signin_client_id, client_secret=_secret(settings.slack_signin_client_secret), issuer=settings.slack_signin_issuer, team_id=settings.slack_signin_team_id)
        clients["slack"] = OidcClient(config=config)
    if "entra" in mode.sign_in:
        config = entra_config(client_id=settings.entra_client_id, client_secret=_secret(settings.entra_client_secret), tenant_id=settings.entra_tenant_id, authority=settings.entra_authority)
        clients["entra"] = OidcClient(config=config)
    return clients


def _mount_sign_in(*, app: web.Application, core: Core, settings: Settings, policy: AccessPolicy) -> None:
    signin = SignIn(policy=policy, audit=core.desk, settings=settings, clients=oidc_clients(settings=settings, mode=policy.mode))
    app[SIGNIN_KEY] = signin
    app.router.add_routes(signin_routes())

    async def close_clients(_app: web.Application) -> None:
        for client in signin.clients.values():
            await client.close()

    app.on_cleanup.append(close_clients)


def build_web_app(*, core: Core, settings: Settings, host: str | None = None) -> web.Application:
    """The aiohttp application: access control, hardening, metrics, health, every configured adapter.

    Raises ExposureError when the settings would expose the web UI without sign-in.
    """
    mode = check_web_surface(settings=settings, host=settings.host if host is None else host)
    metrics = Metrics(store=core.store)
    policy = build_access(settings=settings, mode=mode)
    middlewares = [timing_middleware(metrics=metrics), body_limit_middleware(max_bytes=settings.max_body_bytes), access_middleware(policy=policy)]
    app = web.Application(client_max_size=settings.max_body_bytes, middlewares=middlewares)
    app.on_response_prepare.append(security_headers(https=settings.public_url.lower().startswith("https://")))
    app[CORE_KEY] = core
    app[METRICS_KEY] = metrics
    _mount_sign_in(app=app, core=core, settings=settings, policy=policy)
    app.router.add_get("/healthz", _health)
    app.router.add_get("/readyz", _ready)
    app.router.add_get("/metrics", _metrics)
    for adapter in adapters_for(settings):
        outbox = adapter.mount(app=app, core=core, settings=settings)
        if outbox is not None:
            core.outboxes.add(outbox)
    return app


async def _operations(app: web.Application):
    """SLA timers, weekly digest and review sample, and card re-posts, in every process (each fires once)."""
    from bot.ops.cards import run_card_reposts
    from bot.ops.loop import run_ops

    stop = asyncio.Event()
    tasks = [asyncio.create_task(run_ops(core=app[CORE_KEY], stop=stop)), asyncio.create_task(run_card_reposts(desk=app[CORE_KEY].desk, stop=stop))]
    yield
    stop.set()
    await asyncio.gather(*tasks)


def serve(*, settings: Settings, host: str, port: int) -> int:
    """Build the core, mount the adapters and serve until interrupted (exit 2 on unsafe settings)."""
    try:
        mode = check_web_surface(settings=settings, host=host)
    except ExposureError as exc:
        print(f"Baton will not start: {exc}", file=sys.stderr, flush=True)
        return 2
    if mode.deployment and (settings.sandbox is False or settings.slack_enabled or settings.teams_enabled):
        _warn_about_the_sample(settings)
    core = build_core(settings=settings, progress=True)
    app = build_web_app(core=core, settings=settings, host=host)
    log.info("web surface: %s mode%s", mode.name, f" ({'; '.join(mode.reasons)}), sign-in: {', '.join(mode.sign_in) or 'none'}" if mode.deployment else "")
    app.cleanup_ctx.append(_operations)
    gc.freeze()  # the loaded models never change: keep full collections from walking them (ack latency)
    shown = settings.public_url.rstrip("/") or f"http://{host}:{port}"
    print(f"Baton is running: open {shown}/ (Ctrl+C to stop)", flush=True)
    access_log = logging.getLogger("aiohttp.access") if settings.log_level == "DEBUG" else None  # /metrics counts requests
    web.run_app(app, host=host, port=port, print=None, access_log=access_log)
    return 0


def _warn_about_the_sample(settings: Settings) -> None:
    """Real Slack or Teams channels on the fictional sample's rules or help centre: say so."""
    from bot.settings import SAMPLE_KNOWLEDGE, SAMPLE_RULES

    if Path(settings.rules).resolve() == SAMPLE_RULES.resolve():
        log.warning("Slack or Teams runs on the sample rules of the fictional product Ledgerly (placeholder queue channels): run `baton init --product NAME` and set BATON_RULES")
    if Path(settings.knowledge).resolve() == SAMPLE_KNOWLEDGE.resolve() and not settings.knowledge_urls:
        log.warning("Slack or Teams answers from the sample help centre of the fictional product Ledgerly: set BATON_KNOWLEDGE (a folder) or BATON_KNOWLEDGE_URLS (your docs site)")


def teams_package(*, settings: Settings, out_dir: str, version: str, domains: list[str]) -> str:
    """Build the Teams app package (wiring lives here, with the other adapter imports)."""
    from adapters.teams.package import build_package

    return str(build_package(settings=settings, out_dir=Path(out_dir), version=version, valid_domains=tuple(domains)))
