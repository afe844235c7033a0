"""Sessions in signed cookies: who signed in, how, until when; plus the CSRF token bound to them.

A cookie value is ``base64url(json) "." base64url(HMAC-SHA256(key, json))``. Nothing in it is
secret (no token, no password), but nothing in it can be changed without the key. The key is
``BATON_SESSION_SECRET`` (the same on every replica) or a random one per process.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import asdict, dataclass

SESSION_COOKIE = "baton_session"
SIGNIN_COOKIE = "baton_signin"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class CookieSigner:
    """Signs and checks small JSON payloads with an expiry; a bad or old value reads as None."""

    def __init__(self, *, secret: bytes, clock=time.time) -> None:
        self._key = hashlib.sha256(b"baton-cookie\x00" + secret).digest()
        self._clock = clock

    def sign(self, *, payload: dict, max_age_seconds: float) -> str:
        body = json.dumps({**payload, "exp": int(self._clock() + max_age_seconds)}, separators=(",", ":"), sort_keys=True).encode()
        return f"{_b64(body)}.{_b64(self._mac(body))}"

    def unsign(self, value: str | None) -> dict | None:
        if not value or value.count(".") != 1:
            return None
        body_part, mac_part = value.split(".")
        try:
            body, mac = _unb64(body_part), _unb64(mac_part)
            if not hmac.compare_digest(mac, self._mac(body)):
                return None
            payload = json.loads(body)
        except (ValueError, TypeError):
            return None
        if not isinstance(payload, dict) or not isinstance(payload.get("exp"), int) or payload["exp"] < self._clock():
            return None
        return payload

    def derive(self, *, purpose: str, value: str) -> str:
        """A keyed digest of a value for one purpose (the CSRF token of a session id)."""
        return _b64(hmac.new(self._key, f"{purpose}\x00{value}".encode(), hashlib.sha256).digest())

    def _mac(self, body: bytes) -> bytes:
        return hmac.new(self._key, body, hashlib.sha256).digest()


@dataclass(frozen=True, slots=True)
class WebSession:
    """One browser's session: anonymous (provider "anonymous") until someone signs in."""

    sid: str
    provider: str = "anonymous"
    user_id: str = ""
    name: str = ""
    email: str = ""
    workspace: str = ""

    @property
    def signed_in(self) -> bool:
        return self.provider != "anonymous"

    @classmethod
    def anonymous(cls) -> "WebSession":
        return cls(sid=secrets.token_urlsafe(18))

    @classmethod
    def from_payload(cls, payload: dict | None) -> "WebSession | None":
        if not payload or not isinstance(payload.get("sid"), str):
            return None
        fields = {name: str(payload.get(name, "")) for name in ("provider", "user_id", "name", "email", "workspace")}
        return cls(sid=payload["sid"], **{k: v for k, v in fields.items() if v or k != "provider"} or {})

    def payload(self) -> dict:
        return asdict(self)


def csrf_token(*, signer: CookieSigner, session: WebSession) -> str:
    """The token state-changing requests of this session must carry (header or form field)."""
    return signer.derive(purpose="csrf", value=session.sid)
