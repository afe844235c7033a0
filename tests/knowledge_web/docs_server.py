"""A stand-in docs web server on 127.0.0.1: the fixture site, with ETags, faults and a request log.

It runs aiohttp in its own thread and event loop, so both synchronous code (``baton ingest``,
``load_knowledge``) and async tests can crawl it.  Every request is recorded (path with query,
headers, status), so tests can assert what was and was not fetched.  Files are served as
MkDocs serves them (``/a/`` is ``a/index.html``, ``/a`` redirects to ``/a/``), with the real
site's address (``https://www.python-httpx.org/``) replaced by the server's own.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

SITE = Path(__file__).resolve().parent / "site"
REAL_BASE = "https://www.python-httpx.org/"
LAST_MODIFIED = "Wed, 10 Dec 2025 18:58:48 GMT"
_TYPES = {".html": "text/html; charset=utf-8", ".xml": "application/xml", ".txt": "text/plain; charset=utf-8",
          ".md": "text/markdown", ".png": "image/png", ".pdf": "application/pdf"}


@dataclass(frozen=True, slots=True)
class Hit:
    """One request the server received."""

    path: str
    headers: dict[str, str]
    status: int
    at: float  # time.monotonic() when it arrived


class DocsServer:
    """The fixture site on a random 127.0.0.1 port; change pages with :meth:`put` / :meth:`remove`."""

    def __init__(self, *, root: Path = SITE, validators: bool = True) -> None:
        self.root = root
        self.validators = validators
        self.hits: list[Hit] = []
        self.pages: dict[str, bytes | None] = {}  # path -> replacement body (None: 404)
        self.handlers: dict[str, Callable[[web.Request], web.StreamResponse | None]] = {}
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> "DocsServer":
        ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, args=(ready,), daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("docs server did not start")
        return self

    def stop(self) -> None:
        """Close the port (a second call does nothing)."""
        loop, self._loop = self._loop, None
        if loop is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), loop).result(10)
            loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(10)

    def _serve(self, ready: threading.Event) -> None:
        loop = self._loop = asyncio.new_event_loop()
        app = web.Application()
        app.router.add_route("GET", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        loop.run_until_complete(site.start())
        self.port = site._server.sockets[0].getsockname()[1]
        ready.set()
        loop.run_forever()
        loop.close()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    # ------------------------------------------------------------------ changing the site

    def reset(self) -> None:
        """Back to the fixture site as it is on disk, with validators and an empty request log."""
        self.pages.clear()
        self.handlers.clear()
        self.hits.clear()
        self.validators = True

    def put(self, path: str, body: str | bytes) -> None:
        """Serve ``body`` at ``path`` instead of the fixture file (real base URL replaced)."""
        self.pages[path] = body.encode() if isinstance(body, str) else body

    def remove(self, path: str) -> None:
        """Answer 404 at ``path`` from now on."""
        self.pages[path] = None

    def text(self, path: str) -> str:
        """The body currently served at ``path`` (real base URL replaced)."""
        return self._body(path).decode("utf-8")

    def paths(self, *, status: int | None = None) -> list[str]:
        """Paths requested so far (optionally only those answered with ``status``)."""
        return [h.path for h in self.hits if status is None or h.status == status]

    # ------------------------------------------------------------------ serving

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        response = self._respond(request)
        self.hits.append(Hit(request.path_qs, dict(request.headers), response.status, time.monotonic()))
        return response

    def _respond(self, request: web.Request) -> web.StreamResponse:
        handler = self.handlers.get(request.path)
        custom = handler(request) if handler is not None else None
        if custom is not None:
            return custom
        if request.path in self.pages and self.pages[request.path] is None:
            return web.Response(status=404, text="not found")
        file = self._file(request.path)
        if file is None and request.path not in self.pages:
            if (self.root / request.path.strip("/")).is_dir() and not request.path.endswith("/"):
                raise web.HTTPMovedPermanently(request.path + "/")
            return web.Response(status=404, text="not found")
        body = self._body(request.path)
        headers = {"Content-Type": _TYPES.get(Path(file or request.path).suffix or ".html", "application/octet-stream")}
        if self.validators:
            headers.update(ETag=f'"{hashlib.sha1(body).hexdigest()[:16]}"', **{"Last-Modified": LAST_MODIFIED})
            if request.headers.get("If-None-Match") == headers["ETag"]:
                return web.Response(status=304, headers={"ETag": headers["ETag"]})
        return web.Response(status=200, body=body, headers=headers)

    def _file(self, path: str) -> Path | None:
        rel = path.lstrip("/")
        candidate = self.root / rel / "index.html" if path.endswith("/") else self.root / rel
        return candidate if candidate.is_file() and self.root in candidate.resolve().parents else None

    def _body(self, path: str) -> bytes:
        data = self.pages.get(path)
        if data is None:
            data = self._file(path).read_bytes()
        return data.replace(REAL_BASE.encode(), self.base.encode())
