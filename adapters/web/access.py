"""Who may call which route: one table, default-deny, enforced by one middleware.

Every route the server registers is looked up by its template (``/sandbox/api/tickets/{ticket}/
actions``). Public routes are listed by name; a route in no list needs the admin role, so a new
route cannot slip through unprotected (tests/web/test_routes_locked.py enumerates them all).
In the demo mode everyone is the local sandbox user; in a deployment a session is required.
State-changing requests carry the session's CSRF token except at the platform endpoints, which
Slack and Microsoft sign themselves.
"""

from __future__ import annotations

import hmac
import json
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from aiohttp import web

from adapters.web.exposure import WebMode
from adapters.web.ratelimit import SlidingWindowLimiter
from adapters.web.roles import Role, RoleMap
from adapters.web.sessions import CSRF_FIELD, CSRF_HEADER, SESSION_COOKIE, CookieSigner, WebSession, csrf_token

PLATFORM_PATHS = frozenset({"/slack/events", "/api/messages"})
PUBLIC_PATHS = PLATFORM_PATHS | {
    "/healthz", "/readyz", "/auth/signin", "/auth/signin.css", "/auth/me", "/auth/token", "/auth/signout",
    "/auth/start/{provider}", "/auth/callback/{provider}",
}
METRICS_PATH = "/metrics"
AGENT_PATHS = frozenset({
    "/", "/sandbox", "/sandbox/static", "/sandbox/api/samples", "/sandbox/api/version", "/sandbox/api/messages",
    "/sandbox/api/conversations/{conversation}", "/sandbox/api/conversations/{conversation}/feedback",
    "/sandbox/api/queue", "/sandbox/api/tickets/{ticket}/actions",
})
LEAD_PATHS = frozenset({
    "/sandbox/api/dashboard", "/sandbox/api/audit/{conversation}", "/sandbox/api/conversations", "/sandbox/api/agent-actions",
})
CHAT_PATHS = frozenset({"/sandbox/api/messages", "/sandbox/api/conversations/{conversation}/feedback"})
TOKEN_SIGN_IN_PATH = "/auth/token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
PRINCIPAL_KEY = web.RequestKey("baton_principal", object)
UNMATCHED = ""


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is making a request, with the role they hold now."""

    id: str
    name: str
    role: Role
    provider: str
    email: str = ""

    @property
    def signed_in(self) -> bool:
        return self.provider not in ("demo", "anonymous")


DEMO_USER = Principal(id="sandbox", name="", role=Role.ADMIN, provider="demo")
TOKEN_ADMIN = Principal(id="admin-token", name="Admin (token)", role=Role.ADMIN, provider="token")


def route_template(request: web.Request) -> str:
    """The matched route's template, or UNMATCHED for a 404/405 (aiohttp answers those)."""
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else UNMATCHED


def required_role(route: str) -> Role | None:
    """None for a public route, else the least role that may call it (admin when unlisted)."""
    if route in PUBLIC_PATHS or route == METRICS_PATH:
        return None
    if route in AGENT_PATHS:
        return Role.AGENT
    if route in LEAD_PATHS:
        return Role.LEAD
    return Role.ADMIN


class AccessPolicy:
    """Reads sessions and bearer tokens, decides, and answers 401/403/429 with a clear reason."""

    def __init__(self, *, mode: WebMode, signer: CookieSigner, roles: RoleMap, admin_token: str, metrics_token: str,
                 chat_limiter: SlidingWindowLimiter, token_limiter: SlidingWindowLimiter, public_url: str = "", trust_forwarded_for: bool = False) -> None:
        self.mode, self.signer, self.roles = mode, signer, roles
        self._admin_token, self._metrics_token = admin_token, metrics_token
        self.chat_limiter, self.token_limiter = chat_limiter, token_limiter
        self.public_url, self.trust_forwarded_for = public_url.rstrip("/"), trust_forwarded_for

    # --- who is asking -------------------------------------------------------------------------

    def session(self, request: web.Request) -> WebSession | None:
        return WebSession.from_payload(self.signer.unsign(request.cookies.get(SESSION_COOKIE)))

    def _bearer(self, request: web.Request) -> str:
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        return value.strip() if scheme.lower() == "bearer" else ""

    def token_matches(self, value: str) -> bool:
        return bool(self._admin_token) and hmac.compare_digest(value.encode(), self._admin_token.encode())

    def principal(self, request: web.Request) -> Principal | None:
        """The signed-in person (or the admin token), None when nobody is signed in."""
        if not self.mode.deployment:
            return DEMO_USER
        if self.token_matches(self._bearer(request)):
            return TOKEN_ADMIN
        session = self.session(request)
        if session is None or not session.signed_in:
            return None
        return self.principal_of(session)

    def principal_of(self, session: WebSession) -> Principal:
        role = self.roles.role_for(provider=session.provider, email=session.email, user_id=session.user_id)
        ident = session.user_id or session.email
        return Principal(id=ident, name=session.name or session.email or ident, role=role, provider=session.provider, email=session.email)

    def client_key(self, request: web.Request) -> str:
        forwarded = request.headers.get("X-Forwarded-For", "") if self.trust_forwarded_for else ""
        return forwarded.split(",")[0].strip() or request.remote or "unknown"

    # --- checks --------------------------------------------------------------------------------

    def check_metrics(self, request: web.Request) -> None:
        if not self.mode.deployment:
            return
        if not self._metrics_token:
            raise _refusal(403, "/metrics is closed on an exposed server: set BATON_METRICS_TOKEN and scrape with 'Authorization: Bearer <token>'")
        if not hmac.compare_digest(self._bearer(request).encode(), self._metrics_token.encode()):
            raise _refusal(401, "/metrics needs 'Authorization: Bearer <BATON_METRICS_TOKEN>'", challenge=True)

    async def check_csrf(self, request: web.Request) -> None:
        """State changes need this session's token, from this site (never from another origin)."""
        if self.token_matches(self._bearer(request)):
            return  # a bearer token is not sent by browsers on their own: no cross-site forgery
        origin = request.headers.get("Origin")
        if origin and origin != "null" and urlsplit(origin).netloc not in self._own_hosts(request):
            raise _refusal(403, "cross-site request refused (its Origin is another site)")
        session = self.session(request)
        sent = request.headers.get(CSRF_HEADER) or await _form_field(request, CSRF_FIELD)
        if session is None or not sent or not hmac.compare_digest(sent.encode(), csrf_token(signer=self.signer, session=session).encode()):
            raise _refusal(403, f"missing or wrong CSRF token: reload the page (send the {CSRF_HEADER} header from /auth/me)")

    def check_rate(self, *, request: web.Request, limiter: SlidingWindowLimiter, what: str) -> None:
        allowed, wait = limiter.allow(key=self.client_key(request))
        if not allowed:
            raise _refusal(429, f"too many {what} from this address: wait {wait} s", headers={"Retry-After": str(wait)})

    def _own_hosts(self, request: web.Request) -> set[str]:
        hosts = {request.host}
        if self.public_url:
            hosts.add(urlsplit(self.public_url).netloc)
        return hosts


async def _form_field(request: web.Request, name: str) -> str:
    if request.content_type not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return ""
    form = await request.post()  # cached: the handler reads the same form again
    value = form.get(name, "")
    return value if isinstance(value, str) else ""


def _refusal(status: int, message: str, *, challenge: bool = False, headers: dict | None = None) -> web.HTTPException:
    extra = dict(headers or {})
    if challenge:
        extra["WWW-Authenticate"] = 'Bearer realm="baton"'
    classes = {401: web.HTTPUnauthorized, 403: web.HTTPForbidden, 429: web.HTTPTooManyRequests}
    return classes[status](text=json.dumps({"ok": False, "error": message}), content_type="application/json", headers={**extra, "Cache-Control": "no-store"})


def _sign_in_needed(request: web.Request) -> web.HTTPException:
    """401 for everyone; a browser asking for a page is also sent on to the sign-in page."""
    wants_page = request.method == "GET" and "text/html" in request.headers.get("Accept", "") and not request.path.startswith("/sandbox/api/")
    if not wants_page:
        return _refusal(401, "sign in first: open /auth/signin", challenge=True)
    target = "/auth/signin?next=" + quote(request.path_qs, safe="")
    page = f'<!doctype html><meta charset="utf-8"><meta http-equiv="refresh" content="0;url={target}"><title>Sign in</title><p><a href="{target}">Sign in to Baton</a></p>'
    return web.HTTPUnauthorized(text=page, content_type="text/html", headers={"Cache-Control": "no-store"})


def access_middleware(*, policy: AccessPolicy):
    """Sign-in, roles, CSRF and the chat rate limit, before any handler runs."""

    @web.middleware
    async def guard(request: web.Request, handler):
        route = route_template(request)
        if route == UNMATCHED:
            return await handler(request)
        await _authorise(policy=policy, request=request, route=route)
        if request.method in UNSAFE_METHODS and route not in PLATFORM_PATHS:
            await policy.check_csrf(request)
        _limit(policy=policy, request=request, route=route)
        return await handler(request)

    return guard


async def _authorise(*, policy: AccessPolicy, request: web.Request, route: str) -> None:
    if route == METRICS_PATH:
        policy.check_metrics(request)
        return
    need = required_role(route)
    if need is None:
        return
    principal = policy.principal(request)
    if principal is None:
        raise _sign_in_needed(request)
    if principal.role < need:
        raise _refusal(403, f"{principal.name or principal.id} is signed in as {principal.role.label}; this needs the {need.label} role (ask an admin: BATON_{need.label.upper()}S)")
    request[PRINCIPAL_KEY] = principal


def _limit(*, policy: AccessPolicy, request: web.Request, route: str) -> None:
    if request.method != "POST":
        return
    if route in CHAT_PATHS:
        policy.check_rate(request=request, limiter=policy.chat_limiter, what="chat messages")
    elif route == TOKEN_SIGN_IN_PATH:
        policy.check_rate(request=request, limiter=policy.token_limiter, what="sign-in attempts")


def principal_of(request: web.Request) -> Principal | None:
    """The principal the guard let through (None on public routes)."""
    return request.get(PRINCIPAL_KEY)
