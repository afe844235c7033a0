"""OpenID Connect sign-in for the web UI: Sign in with Slack and Microsoft Entra ID.

An authorization-code flow with PKCE (RFC 7636), a ``state`` and a ``nonce``. ``start`` builds
the provider's authorization URL; ``finish`` trades the code for an ID token and verifies it
against the provider's published keys: signature (RS256 or ES256 only, never ``none`` or HMAC),
issuer, audience, expiry and nonce, and the workspace or tenant when one is required. Every
failure is a :class:`SignInError` whose text is safe to show (no token, no secret).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from dataclasses import dataclass
from urllib.parse import urlencode

import aiohttp
import jwt

ALGORITHMS = ("RS256", "ES256")
LEEWAY_SECONDS = 60
WORKSPACE_CLAIMS = {"slack": "https://slack.com/team_id", "entra": "tid"}
USER_CLAIMS = {"slack": "https://slack.com/user_id", "entra": "oid"}


class SignInError(Exception):
    """Sign-in failed; the text is a sentence safe to show the person signing in."""


@dataclass(frozen=True, slots=True)
class OidcConfig:
    provider: str
    issuer: str
    client_id: str
    client_secret: str
    scopes: tuple[str, ...] = ("openid", "email", "profile")
    workspace: str = ""
    http_timeout_seconds: float = 10.0


@dataclass(frozen=True, slots=True)
class SignInStart:
    url: str
    state: str
    nonce: str
    code_verifier: str


@dataclass(frozen=True, slots=True)
class Identity:
    provider: str
    subject: str
    email: str
    name: str
    workspace: str
    user_id: str


def slack_config(*, client_id: str, client_secret: str, issuer: str = "https://slack.com", team_id: str = "") -> OidcConfig:
    return OidcConfig(provider="slack", issuer=issuer.rstrip("/"), client_id=client_id, client_secret=client_secret, workspace=team_id)


def entra_config(*, client_id: str, client_secret: str, tenant_id: str, authority: str = "https://login.microsoftonline.com") -> OidcConfig:
    return OidcConfig(provider="entra", issuer=f"{authority.rstrip('/')}/{tenant_id}/v2.0", client_id=client_id, client_secret=client_secret, workspace=tenant_id)


def _challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


class OidcClient:
    """One provider: discovery and keys are fetched once and cached (keys again for a new kid)."""

    def __init__(self, *, config: OidcConfig) -> None:
        self.config = config
        self._discovery: dict | None = None
        self._keys: dict[str, jwt.PyJWK] = {}
        self._session: aiohttp.ClientSession | None = None

    async def start(self, *, redirect_uri: str) -> SignInStart:
        """The authorization URL to send the browser to, with what the callback must check."""
        endpoint = (await self._metadata())["authorization_endpoint"]
        state, nonce, verifier = secrets.token_urlsafe(32), secrets.token_urlsafe(32), secrets.token_urlsafe(48)
        query = {"response_type": "code", "client_id": self.config.client_id, "redirect_uri": redirect_uri, "scope": " ".join(self.config.scopes),
                 "state": state, "nonce": nonce, "code_challenge": _challenge(verifier), "code_challenge_method": "S256"}
        return SignInStart(url=f"{endpoint}?{urlencode(query)}", state=state, nonce=nonce, code_verifier=verifier)

    async def finish(self, *, code: str, redirect_uri: str, nonce: str, code_verifier: str) -> Identity:
        """Trade the code for a verified ID token and read who signed in."""
        token = await self._exchange(code=code, redirect_uri=redirect_uri, code_verifier=code_verifier)
        claims = await self._verify(token=token, nonce=nonce)
        return self._identity(claims)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    # --- HTTP -----------------------------------------------------------------------------------

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.config.http_timeout_seconds))
        return self._session

    async def _get_json(self, url: str) -> dict:
        try:
            async with self._http().get(url) as response:
                if response.status != 200:
                    raise SignInError(f"The sign-in provider answered {response.status}; try again in a minute.")
                return json.loads(await response.text())
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise SignInError(f"Baton could not reach the sign-in provider ({type(exc).__name__}); try again in a minute.") from None

    async def _metadata(self) -> dict:
        if self._discovery is None:
            data = await self._get_json(f"{self.config.issuer}/.well-known/openid-configuration")
            if str(data.get("issuer", "")).rstrip("/") != self.config.issuer.rstrip("/"):
                raise SignInError("The sign-in provider's discovery document names another issuer; check the issuer setting.")
            if not all(isinstance(data.get(k), str) for k in ("authorization_endpoint", "token_endpoint", "jwks_uri")):
                raise SignInError("The sign-in provider's discovery document is incomplete.")
            self._discovery = data
        return self._discovery

    async def _exchange(self, *, code: str, redirect_uri: str, code_verifier: str) -> str:
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri, "client_id": self.config.client_id,
                "client_secret": self.config.client_secret, "code_verifier": code_verifier}
        endpoint = (await self._metadata())["token_endpoint"]
        try:
            async with self._http().post(endpoint, data=form) as response:
                status, body = response.status, await response.text()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise SignInError(f"Baton could not reach the sign-in provider ({type(exc).__name__}); try again in a minute.") from None
        try:
            data = json.loads(body)
        except ValueError:
            data = {}
        if status != 200 or data.get("ok") is False or not isinstance(data.get("id_token"), str):
            error = str(data.get("error") or f"HTTP {status}")[:80]
            raise SignInError(f"The sign-in provider refused the code ({error}); start the sign-in again.")
        return data["id_token"]

    # --- the ID token ---------------------------------------------------------------------------

    async def _key_for(self, token: str) -> jwt.PyJWK:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise SignInError("The sign-in provider sent an ID token that is not a JWT.") from None
        if header.get("alg") not in ALGORITHMS:
            raise SignInError(f"The ID token is signed with {header.get('alg')!r}, which Baton does not accept.")
        kid = str(header.get("kid", ""))
        if kid not in self._keys:
            await self._load_keys()
        if kid not in self._keys:
            raise SignInError("The ID token is signed with a key the sign-in provider does not publish.")
        return self._keys[kid]

    async def _load_keys(self) -> None:
        data = await self._get_json((await self._metadata())["jwks_uri"])
        keys = {}
        for entry in data.get("keys", []) if isinstance(data, dict) else []:
            try:
                keys[str(entry.get("kid", ""))] = jwt.PyJWK(entry)
            except (jwt.PyJWTError, ValueError, TypeError):
                continue  # a key type we cannot use is skipped, not fatal
        self._keys = keys

    async def _verify(self, *, token: str, nonce: str) -> dict:
        key = await self._key_for(token)
        try:
            claims = jwt.decode(token, key=key.key, algorithms=list(ALGORITHMS), audience=self.config.client_id, issuer=self.config.issuer,
                                leeway=LEEWAY_SECONDS, options={"require": ["exp", "iat", "iss", "aud", "sub"]})
        except jwt.ExpiredSignatureError:
            raise SignInError("The sign-in expired; start it again.") from None
        except jwt.InvalidAudienceError:
            raise SignInError("The ID token was issued for another application.") from None
        except jwt.InvalidIssuerError:
            raise SignInError("The ID token comes from another issuer.") from None
        except jwt.PyJWTError:
            raise SignInError("The ID token's signature or claims are not valid.") from None
        if not secrets.compare_digest(str(claims.get("nonce", "")), nonce):
            raise SignInError("The ID token does not belong to this sign-in (nonce mismatch); start it again.")
        self._check_workspace(claims)
        return claims

    def _check_workspace(self, claims: dict) -> None:
        wanted = self.config.workspace
        if wanted and str(claims.get(WORKSPACE_CLAIMS.get(self.config.provider, ""), "")) != wanted:
            where = "workspace" if self.config.provider == "slack" else "tenant"
            raise SignInError(f"This account is not a member of the {where} this Baton serves.")

    def _identity(self, claims: dict) -> Identity:
        provider = self.config.provider
        email = str(claims.get("email") or (claims.get("preferred_username") if provider == "entra" else "") or "")
        if claims.get("email_verified") is False or "@" not in email:
            email = ""
        subject = str(claims["sub"])
        return Identity(
            provider=provider, subject=subject, email=email.lower(), name=str(claims.get("name") or email or subject),
            workspace=str(claims.get(WORKSPACE_CLAIMS.get(provider, ""), "")), user_id=str(claims.get(USER_CLAIMS.get(provider, "")) or subject),
        )
