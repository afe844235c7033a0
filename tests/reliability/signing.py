"""Slack request signing for the reliability tests and benchmarks (exactly as Slack signs)."""

from __future__ import annotations

import hashlib
import hmac
import time

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


def sign(body: bytes, *, secret: str = SECRET, timestamp: int | None = None, content_type: str = "application/json") -> dict[str, str]:
    """Headers for ``body``: v0 HMAC-SHA256 of ``v0:{timestamp}:{body}`` with ``secret``."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}", "Content-Type": content_type}
