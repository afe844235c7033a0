"""The sign-in routes: the page, the admin token, Sign in with Slack and Microsoft Entra ID.

OpenID Connect runs as an authorization-code flow with PKCE: ``/auth/start/{provider}`` keeps
state, nonce and verifier in a short-lived signed cookie and sends the browser to the provider;
``/auth/callback/{provider}`` checks the state, lets :mod:`adapters.web.oidc` verify the ID token,
looks up the person's role and starts a new session (a new session id: no fixation). Every
sign-in, failed attempt and sign-out is kept in the audit trail with who it was.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from urllib.parse import quote

from aiohttp import web

from adapters.web.access import AccessPolicy, principal_of
from adapters.web.roles import Role
from adapters.web.sessions import SESSION_COOKIE, SIGNIN_COOKIE, WebSession, csrf_token

log = logging.getLogger(__name__)
STATIC = Path(__file__).resolve().parent / "static"
SIGNIN_SECONDS = 600
PROVIDER_LABELS = {"slack": "Sign in with Slack", "entra": "Sign in with Microsoft"}


@dataclass
class SignIn:
    """What the sign-in routes need: the access policy, the audit trail, the OIDC clients."""

    policy: AccessPolicy
    audit: object  # the core's desk: record_access(...)
    settings: object
    clients: dict = field(default_factory=dict)  # provider -> adapters.web.oidc.OidcClient

    @property
    def secure(self) -> bool:
        return self.settings.public_url.lower().startswith("https://")

    def redirect_uri(self, provider: str) -> str:
        return f"{self.settings.public_url.rstrip('/')}/auth/callback/{provider}"

    def set_cookie(self, response: web.StreamResponse, *, name: str, payload: dict, seconds: float) -> None:
        value = self.policy.signer.sign(payload=payload, max_age_seconds=seconds)
        response.set_cookie(name, value, max_age=int(seconds), path="/", httponly=True, samesite="Lax", secure=self.secure)

    def start_session(self, response: web.StreamResponse, session: WebSession) -> None:
        self.set_cookie(response, name=SESSION_COOKIE, payload=session.payload(), seconds=self.settings.session_hours * 3600)

    def session_or_new(self, request: web.Request) -> tuple[WebSession, bool]:
        """This browser's session, or a new anonymous one (for its CSRF token) and True."""
        session = self.policy.session(request)
        return (session, False) if session is not None else (WebSession.anonymous(), True)

    async def record(self, *, actor_id: str, actor_name: str, action: str, ok: bool = True, detail: str = "") -> None:
        try:
            await asyncio.to_thread(self.audit.record_access, actor_id=actor_id or "unknown", actor_name=actor_name, action=action, ok=ok, detail=detail)
        except Exception:
            log.exception("could not record the audit entry for %s", action)


SIGNIN_KEY = web.AppKey("baton_signin", SignIn)


def safe_next(value: str | None) -> str:
    """Only a path on this site: never //other.host, a scheme or a backslash trick."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value or any(ord(c) < 32 for c in value):
        return "/"
    return value


def _page(*, title: str, body: str, status: int = 200) -> web.Response:
    html = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<title>{escape(title)} · Baton</title><link rel="stylesheet" href="/auth/signin.css"></head>'
        f'<body><main class="card"><h1>{escape(title)}</h1>{body}</main></body></html>'
    )
    return web.Response(text=html, content_type="text/html", status=status, headers={"Cache-Control": "no-store"})


def _signin_body(*, signin: SignIn, csrf: str, next_path: str, error: str = "") -> str:
    mode = signin.policy.mode
    if not mode.deployment:
        return '<p>This is the local demo: no sign-in is needed.</p><p><a class="button" href="/">Open the sandbox</a></p>'
    parts = [f'<p class="error" role="alert">{escape(error)}</p>' if error else ""]
    for provider in ("slack", "entra"):
        if provider in mode.sign_in:
            parts.append(f'<p><a class="button" href="/auth/start/{provider}?next={quote(next_path, safe="")}">{PROVIDER_LABELS[provider]}</a></p>')
    if "token" in mode.sign_in:
        parts.append(
            '<form method="post" action="/auth/token">'
            f'<input type="hidden" name="csrf" value="{escape(csrf)}"><input type="hidden" name="next" value="{escape(next_path)}">'
            '<label>Admin token <input type="password" name="token" autocomplete="current-password" required></label>'
            '<button type="submit">Sign in with the admin token</button></form>'
        )
    return "".join(parts)


async def signin_page(request: web.Request) -> web.Response:
    """GET /auth/signin: the sign-in methods this deployment offers."""
    signin = request.app[SIGNIN_KEY]
    session, fresh = signin.session_or_new(request)
    body = _signin_body(signin=signin, csrf=csrf_token(signer=signin.policy.signer, session=session), next_path=safe_next(request.query.get("next")))
    response = _page(title="Sign in to Baton", body=body)
    if fresh:
        signin.start_session(response, session)
    return response


async def signin_css(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "signin.css")


async def me(request: web.Request) -> web.Response:
    """GET /auth/me: the mode, who is signed in with which role, and the CSRF token to send."""
    signin = request.app[SIGNIN_KEY]
    session, fresh = signin.session_or_new(request)
    who = signin.policy.principal(request)
    response = web.json_response({
        "mode": signin.policy.mode.name, "signed_in": bool(who and who.signed_in), "name": who.name if who else None,
        "role": who.role.label if who else None, "provider": who.provider if who else None,
        "csrf": csrf_token(signer=signin.policy.signer, session=session), "methods": list(signin.policy.mode.sign_in),
    }, headers={"Cache-Control": "no-store"})
    if fresh:
        signin.start_session(response, session)
    return response


def _redirect(location: str, *, status: int = 303) -> web.Response:
    return web.Response(status=status, headers={"Location": location, "Cache-Control": "no-store"})


async def token_signin(request: web.Request) -> web.StreamResponse:
    """POST /auth/token (form: token, csrf, next): the static admin token signs in as admin."""
    signin = request.app[SIGNIN_KEY]
    form = await request.post()
    next_path = safe_next(str(form.get("next", "")))
    if "token" not in signin.policy.mode.sign_in or not signin.policy.token_matches(str(form.get("token", ""))):
        await signin.record(actor_id=signin.policy.client_key(request), actor_name="", action="signin_failed", ok=False, detail="token")
        session = signin.policy.session(request) or WebSession.anonymous()
        body = _signin_body(signin=signin, csrf=csrf_token(signer=signin.policy.signer, session=session), next_path=next_path, error="That token is not right.")
        return _page(title="Sign in to Baton", body=body, status=401)
    response = _redirect(next_path)
    signin.start_session(response, WebSession(sid=WebSession.anonymous().sid, provider="token", user_id="admin-token", name="Admin (token)"))
    await signin.record(actor_id="admin-token", actor_name="Admin (token)", action="signin", detail="token")
    return response


async def signout(request: web.Request) -> web.StreamResponse:
    """POST /auth/signout: forget the session cookie (the audit trail keeps who left)."""
    signin = request.app[SIGNIN_KEY]
    session = signin.policy.session(request)
    if session is not None and session.signed_in:
        who = signin.policy.principal_of(session)
        await signin.record(actor_id=who.id, actor_name=who.name, action="signout", detail=session.provider)
    response = _redirect("/auth/signin")
    response.del_cookie(SESSION_COOKIE, path="/")
    return response


async def start(request: web.Request) -> web.StreamResponse:
    """GET /auth/start/{provider}: off to Slack or Microsoft, with state, nonce and PKCE."""
    signin = request.app[SIGNIN_KEY]
    provider = request.match_info["provider"]
    client = signin.clients.get(provider)
    if client is None:
        return _page(title="Sign-in method not available", body=f"<p>{escape(provider)} sign-in is not set up here.</p>", status=404)
    from adapters.web.oidc import SignInError

    try:
        begun = await client.start(redirect_uri=signin.redirect_uri(provider))
    except SignInError as exc:
        return _page(title="Sign-in failed", body=f"<p>{escape(str(exc))}</p>", status=502)
    response = _redirect(begun.url, status=302)
    payload = {"state": begun.state, "nonce": begun.nonce, "verifier": begun.code_verifier, "provider": provider, "next": safe_next(request.query.get("next"))}
    signin.set_cookie(response, name=SIGNIN_COOKIE, payload=payload, seconds=SIGNIN_SECONDS)
    return response


async def callback(request: web.Request) -> web.StreamResponse:
    """GET /auth/callback/{provider}: check the state, verify the ID token, start the session."""
    signin = request.app[SIGNIN_KEY]
    provider = request.match_info["provider"]
    pending = signin.policy.signer.unsign(request.cookies.get(SIGNIN_COOKIE)) or {}
    client = signin.clients.get(provider)
    failure = _callback_problem(request=request, pending=pending, provider=provider, client=client)
    if failure:
        await signin.record(actor_id=signin.policy.client_key(request), actor_name="", action="signin_failed", ok=False, detail=f"{provider}: {failure}")
        return _page(title="Sign-in failed", body=f'<p>{escape(failure)}</p><p><a href="/auth/signin">Try again</a></p>', status=401)
    from adapters.web.oidc import SignInError

    try:
        identity = await client.finish(code=request.query["code"], redirect_uri=signin.redirect_uri(provider), nonce=pending["nonce"], code_verifier=pending["verifier"])
    except SignInError as exc:
        await signin.record(actor_id=signin.policy.client_key(request), actor_name="", action="signin_failed", ok=False, detail=f"{provider}: {exc}")
        return _page(title="Sign-in failed", body=f'<p>{escape(str(exc))}</p><p><a href="/auth/signin">Try again</a></p>', status=401)
    return await _welcome(signin=signin, identity=identity, next_path=safe_next(pending.get("next")))


def _callback_problem(*, request: web.Request, pending: dict, provider: str, client) -> str:
    if client is None:
        return f"{provider} sign-in is not set up here."
    if request.query.get("error"):
        return f"The provider refused the sign-in ({request.query.get('error')[:80]})."
    state = request.query.get("state", "")
    if pending.get("provider") != provider or not state or not hmac.compare_digest(state.encode(), str(pending.get("state", "")).encode()):
        return "This sign-in link is stale or was not started in this browser."
    if not request.query.get("code"):
        return "The provider sent no authorization code."
    return ""


async def _welcome(*, signin: SignIn, identity, next_path: str) -> web.StreamResponse:
    session = WebSession(sid=WebSession.anonymous().sid, provider=identity.provider, user_id=identity.user_id, name=identity.name, email=identity.email, workspace=identity.workspace)
    who = signin.policy.principal_of(session)
    if who.role is Role.NONE:
        await signin.record(actor_id=who.id, actor_name=who.name, action="signin_failed", ok=False, detail=f"{identity.provider}: no role")
        body = f"<p>You signed in as {escape(who.name)} ({escape(identity.email or identity.user_id)}), but no role is granted to you. Ask an admin to add you to BATON_AGENTS.</p>"
        response = _page(title="No access yet", body=body, status=403)
    else:
        response = _redirect(next_path)
        signin.start_session(response, session)
        await signin.record(actor_id=who.id, actor_name=who.name, action="signin", detail=f"{identity.provider} as {who.role.label}")
    response.del_cookie(SIGNIN_COOKIE, path="/")
    return response


async def admin_settings(request: web.Request) -> web.Response:
    """GET /admin/settings: the effective settings with every secret masked (admin only)."""
    signin = request.app[SIGNIN_KEY]
    who = principal_of(request)
    await signin.record(actor_id=who.id if who else "unknown", actor_name=who.name if who else "", action="view_settings")
    return web.json_response({"settings": signin.settings.describe(), "mode": signin.policy.mode.name}, headers={"Cache-Control": "no-store"})


def routes() -> list[web.RouteDef]:
    return [
        web.get("/auth/signin", signin_page), web.get("/auth/signin.css", signin_css), web.get("/auth/me", me),
        web.post("/auth/token", token_signin), web.post("/auth/signout", signout),
        web.get("/auth/start/{provider}", start), web.get("/auth/callback/{provider}", callback),
        web.get("/admin/settings", admin_settings),
    ]
