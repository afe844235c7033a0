"""A local OpenID Connect provider on 127.0.0.1, shaped like Sign in with Slack or Entra ID v2.

It serves discovery, an authorization endpoint that "signs in" ``user`` at once (302 back to the
redirect URI with a code and the same state), a token endpoint that checks the client secret,
the redirect URI, single use of the code and the PKCE verifier, and returns an RS256 ID token
signed with a key made at start, and the JWKS. ``fault`` makes the next token wrong on purpose.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from dataclasses import dataclass, field

import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa

CLIENT_ID, CLIENT_SECRET = "baton-client-123", "client-secret-xyz"
TEAM, TENANT = "T0ACME", "11111111-2222-4333-8444-555555555555"


@dataclass
class User:
    subject: str = "sub-ann"
    email: str = "ann@support.example"
    name: str = "Ann Agent"
    user_id: str = "U0ANN"
    workspace: str = ""
    email_verified: bool = True


@dataclass
class OidcStandin:
    flavour: str = "slack"
    user: User = field(default_factory=User)
    fault: str = ""  # wrong_issuer | expired | wrong_audience | wrong_nonce | other_key | alg_none | token_error | slack_not_ok | no_discovery
    requests: list[tuple[str, dict]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = "key-1"
        self._codes: dict[str, dict] = {}
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    @property
    def issuer(self) -> str:
        return self.base_url if self.flavour == "slack" else f"{self.base_url}/{TENANT}/v2.0"

    async def __aenter__(self) -> "OidcStandin":
        app = web.Application()
        prefix = "" if self.flavour == "slack" else f"/{TENANT}/v2.0"
        app.router.add_get(f"{prefix}/.well-known/openid-configuration", self._discovery)
        app.router.add_get("/authorize", self._authorize)
        app.router.add_post("/token", self._token)
        app.router.add_get("/jwks", self._jwks)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.base_url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self

    async def __aexit__(self, *exc) -> None:
        await self._runner.cleanup()

    async def _discovery(self, request: web.Request) -> web.Response:
        self.requests.append(("discovery", {}))
        if self.fault == "no_discovery":
            return web.Response(status=503)
        return web.json_response({"issuer": self.issuer, "authorization_endpoint": f"{self.base_url}/authorize",
                                  "token_endpoint": f"{self.base_url}/token", "jwks_uri": f"{self.base_url}/jwks"})

    async def _authorize(self, request: web.Request) -> web.Response:
        query = dict(request.query)
        self.requests.append(("authorize", query))
        code = secrets.token_urlsafe(16)
        self._codes[code] = query
        return web.Response(status=302, headers={"Location": f"{query['redirect_uri']}?code={code}&state={query['state']}"})

    async def _token(self, request: web.Request) -> web.Response:
        form = dict(await request.post())
        self.requests.append(("token", form))
        problem = self._token_problem(form)
        if problem:
            if self.flavour == "slack":
                return web.json_response({"ok": False, "error": problem})
            return web.json_response({"error": problem}, status=400)
        asked = self._codes.pop(form["code"])
        return web.json_response({"ok": True, "access_token": "at", "token_type": "Bearer", "id_token": self._id_token(asked["nonce"])})

    def _token_problem(self, form: dict) -> str:
        asked = self._codes.get(form.get("code", ""))
        if self.fault in ("token_error", "slack_not_ok"):
            return "invalid_grant"
        if (form.get("client_id"), form.get("client_secret")) != (CLIENT_ID, CLIENT_SECRET):
            return "invalid_client"
        if asked is None:
            return "invalid_grant"  # unknown or already used
        if form.get("redirect_uri") != asked["redirect_uri"]:
            return "invalid_grant"
        challenge = base64.urlsafe_b64encode(hashlib.sha256(form.get("code_verifier", "").encode()).digest()).rstrip(b"=").decode()
        return "" if challenge == asked.get("code_challenge") and asked.get("code_challenge_method") == "S256" else "invalid_grant"

    def _id_token(self, nonce: str) -> str:
        now = int(time.time())
        user = self.user
        claims = {"iss": self.issuer, "aud": CLIENT_ID, "sub": user.subject, "iat": now, "exp": now + 300, "nonce": nonce,
                  "email": user.email, "email_verified": user.email_verified, "name": user.name}
        if self.flavour == "slack":
            claims.update({"https://slack.com/team_id": user.workspace or TEAM, "https://slack.com/user_id": user.user_id})
        else:
            claims.update({"tid": user.workspace or TENANT, "oid": user.user_id, "preferred_username": user.email})
        claims = self._with_fault(claims, now=now)
        if self.fault == "alg_none":
            return jwt.encode(claims, key=None, algorithm="none", headers={"kid": self.kid})
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048) if self.fault == "other_key" else self.key
        return jwt.encode(claims, key=key, algorithm="RS256", headers={"kid": self.kid})

    def _with_fault(self, claims: dict, *, now: int) -> dict:
        changes = {"wrong_issuer": {"iss": "https://evil.example"}, "expired": {"iat": now - 7200, "exp": now - 3600},
                   "wrong_audience": {"aud": "someone-else"}, "wrong_nonce": {"nonce": "not-the-nonce"}}
        return {**claims, **changes.get(self.fault, {})}

    async def _jwks(self, request: web.Request) -> web.Response:
        self.requests.append(("jwks", {}))
        public = jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        return web.json_response({"keys": [{**public, "kid": self.kid, "use": "sig", "alg": "RS256"}]})
