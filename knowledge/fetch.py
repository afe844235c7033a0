"""A polite HTTP client for crawling one docs site: robots.txt, pacing, one retry, own redirects.

Politeness is the point: a support bot re-crawling a customer's docs every day must never
be the reason their site slows down or blocks us.  So :class:`Fetcher`

* sends ``User-Agent: BatonBot``, reads ``/robots.txt`` first (``urllib.robotparser``) and
  never requests a URL it disallows, redirects included (they are followed here, one hop at
  a time, so a redirect into a disallowed or off-site path is refused, not fetched);
* keeps at most ``concurrency`` (4) requests in flight, and when robots.txt sets a
  ``Crawl-delay`` spaces requests by it (capped at ``max_crawl_delay``);
* gives every request a timeout, and answers a 429 or 503 by waiting its ``Retry-After``
  (capped) and trying once more: the one retry layer of a crawl (design lesson 6);
* reads a body only when its content type is wanted, and never more than ``max_bytes``.

Errors become :class:`FetchError` (the page could not be had: connection, timeout, size) or
:class:`SkipPage` (we chose not to fetch it), each with a one-line reason.
"""

from __future__ import annotations

import asyncio
import email.utils
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit
from urllib.robotparser import RobotFileParser

import aiohttp

__all__ = ["USER_AGENT", "CrawlPolicy", "FetchError", "Fetcher", "Response", "SkipPage", "origin_of"]

USER_AGENT = "BatonBot"
_REDIRECTS = {301, 302, 303, 307, 308}


@dataclass(frozen=True, slots=True)
class CrawlPolicy:
    """How hard a crawl may push a site; the defaults suit a public docs site."""

    concurrency: int = 4
    timeout_seconds: float = 15.0
    max_retry_after: float = 30.0
    default_retry_after: float = 1.0
    max_crawl_delay: float = 10.0
    max_redirects: int = 5
    max_bytes: int = 5_000_000
    user_agent: str = USER_AGENT


@dataclass(frozen=True, slots=True)
class Response:
    """A final (non-redirect) answer: status, headers (lower-case keys) and the body if read."""

    url: str
    status: int
    headers: dict[str, str]
    body: bytes = b""

    @property
    def content_type(self) -> str:
        """The media type without parameters, lower-case (``text/html``)."""
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()

    def text(self) -> str:
        """The body decoded with the declared charset (UTF-8 when none), never raising."""
        charset = "utf-8"
        for param in self.headers.get("content-type", "").split(";")[1:]:
            key, _, value = param.partition("=")
            if key.strip().lower() == "charset" and value.strip():
                charset = value.strip().strip("\"'")
        try:
            return self.body.decode(charset, errors="replace")
        except LookupError:
            return self.body.decode("utf-8", errors="replace")


class FetchError(RuntimeError):
    """A URL could not be fetched (unreachable, timed out, too large); the message says why."""


class SkipPage(RuntimeError):
    """A URL we decided not to fetch (robots.txt, off-site redirect); the message says why."""


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of a URL: the unit a crawl stays inside."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class _Pacer:
    """Spaces request starts by a fixed delay (robots.txt ``Crawl-delay``); free when zero."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self._lock = asyncio.Lock()
        self._next = 0.0

    async def wait(self) -> None:
        if self.delay <= 0:
            return
        async with self._lock:
            pause = self._next - time.monotonic()
            if pause > 0:
                await asyncio.sleep(pause)
            self._next = time.monotonic() + self.delay


class Fetcher:
    """Fetches URLs of one site politely (see the module docstring); load robots.txt first."""

    def __init__(self, *, session: aiohttp.ClientSession, policy: CrawlPolicy) -> None:
        self.session = session
        self.policy = policy
        self.robots = RobotFileParser()
        self.robots.allow_all = True
        self.requests = 0
        self.robots_status = 0
        self._slots = asyncio.Semaphore(max(1, policy.concurrency))
        self._pacer = _Pacer(0.0)

    # ------------------------------------------------------------------ robots

    async def load_robots(self, *, origin: str) -> None:
        """Read ``origin/robots.txt``: 2xx rules apply, 4xx allows all, 5xx disallows all (RFC 9309).

        Raises :class:`FetchError` when the site cannot be reached at all.
        """
        response = await self._request(f"{origin}/robots.txt", headers={}, wanted=lambda _type: True)
        robots = RobotFileParser()
        self.robots_status = response.status
        if 200 <= response.status < 300:
            robots.parse(response.text().splitlines())
        elif response.status >= 500:
            robots.disallow_all = True
        else:
            robots.allow_all = True
        self.robots = robots
        delay = robots.crawl_delay(self.policy.user_agent) if 200 <= response.status < 300 else None
        self._pacer = _Pacer(min(float(delay or 0.0), self.policy.max_crawl_delay))

    def allowed(self, url: str) -> bool:
        """Whether robots.txt lets BatonBot fetch ``url``."""
        return self.robots.can_fetch(self.policy.user_agent, url)

    # ------------------------------------------------------------------ fetching

    async def get(self, url: str, *, headers: dict[str, str] | None = None,
                  follow: Callable[[str], bool] = lambda _url: True,
                  wanted: Callable[[str], bool] = lambda _type: True) -> Response:
        """GET ``url``, following redirects that ``follow`` accepts and robots.txt allows.

        The body is read only for a 200 whose content type ``wanted`` accepts.  Raises
        :class:`SkipPage` for a disallowed URL or redirect, :class:`FetchError` on failure.
        """
        for _ in range(self.policy.max_redirects + 1):
            if not self.allowed(url):
                raise SkipPage(f"disallowed by robots.txt: {url}")
            response = await self._with_retry(url, headers=headers or {}, wanted=wanted)
            location = response.headers.get("location")
            if response.status not in _REDIRECTS or not location:
                return response
            target = urljoin(url, location).split("#", 1)[0]
            if not follow(target):
                raise SkipPage(f"redirects off the site to {target}")
            url = target
        raise FetchError(f"more than {self.policy.max_redirects} redirects")

    async def _with_retry(self, url: str, *, headers: dict[str, str], wanted: Callable[[str], bool]) -> Response:
        """One request; on 429 or 503 wait Retry-After (capped) and try exactly once more."""
        response = await self._request(url, headers=headers, wanted=wanted)
        if response.status not in (429, 503):
            return response
        await asyncio.sleep(retry_after_seconds(response.headers.get("retry-after"), policy=self.policy))
        return await self._request(url, headers=headers, wanted=wanted)

    async def _request(self, url: str, *, headers: dict[str, str], wanted: Callable[[str], bool]) -> Response:
        timeout = aiohttp.ClientTimeout(total=self.policy.timeout_seconds)
        sent = {"User-Agent": f"{self.policy.user_agent}/1.0", **headers}
        async with self._slots:
            await self._pacer.wait()
            self.requests += 1
            try:
                async with self.session.get(url, headers=sent, allow_redirects=False, timeout=timeout) as raw:
                    found = {k.lower(): v for k, v in raw.headers.items()}
                    media = found.get("content-type", "").split(";", 1)[0].strip().lower()
                    body = await self._body(raw) if raw.status == 200 and wanted(media) else b""
                    return Response(url=url, status=raw.status, headers=found, body=body)
            except asyncio.TimeoutError:
                raise FetchError(f"timed out after {self.policy.timeout_seconds:g} s") from None
            except aiohttp.ClientError as exc:
                raise FetchError(_describe(exc)) from None

    async def _body(self, raw: aiohttp.ClientResponse) -> bytes:
        parts, size = [], 0
        async for chunk in raw.content.iter_chunked(1 << 16):
            size += len(chunk)
            if size > self.policy.max_bytes:
                raise FetchError(f"larger than {self.policy.max_bytes} bytes")
            parts.append(chunk)
        return b"".join(parts)


def retry_after_seconds(value: str | None, *, policy: CrawlPolicy) -> float:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date), within the cap."""
    wait = policy.default_retry_after
    if value:
        value = value.strip()
        if value.isdigit():
            wait = float(value)
        else:
            try:
                wait = email.utils.parsedate_to_datetime(value).timestamp() - time.time()
            except (TypeError, ValueError):
                pass
    return max(0.0, min(wait, policy.max_retry_after))


def _describe(exc: aiohttp.ClientError) -> str:
    """A one-line reason for a client error (the connector's own text is already readable)."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 200 else text[:199] + "…"
