"""Headers and limits every response and request gets, whatever route or mode.

* Security headers on every response (pages, JSON, static files, errors): a Content-Security-
  Policy with no inline script or style and ``frame-ancestors 'none'``, ``nosniff``, no referrer,
  HSTS when the public URL is https.
* A request-body size limit on every route, the platform endpoints included: a declared
  Content-Length over it is refused with 413 before the handler reads anything; a chunked body
  is cut at the same size by aiohttp's ``client_max_size``.
"""

from __future__ import annotations

import json

from aiohttp import web

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
BASE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
HSTS = "max-age=31536000"


def security_headers(*, https: bool):
    """An ``on_response_prepare`` hook adding the security headers to every response."""
    headers = {**BASE_HEADERS, **({"Strict-Transport-Security": HSTS} if https else {})}

    async def add_headers(request: web.Request, response: web.StreamResponse) -> None:
        for name, value in headers.items():
            response.headers.setdefault(name, value)

    return add_headers


def body_limit_middleware(*, max_bytes: int):
    """413 for any request that declares a body larger than ``max_bytes``."""

    @web.middleware
    async def limited(request: web.Request, handler):
        if request.content_length is not None and request.content_length > max_bytes:
            raise web.HTTPRequestEntityTooLarge(
                max_size=max_bytes, actual_size=request.content_length,
                text=json.dumps({"ok": False, "error": f"the request body is larger than {max_bytes} bytes"}), content_type="application/json",
            )
        return await handler(request)

    return limited
