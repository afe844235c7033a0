"""The Slack Web API client with one kept-alive HTTP session per event loop.

slack_sdk's AsyncWebClient opens a new aiohttp session, and so a new TCP (and TLS) connection,
for every call unless it is given one. A session belongs to the loop that made it, and Baton
calls Slack from two loops (the HTTP loop and the worker loop), so each loop gets its own,
made on first use and closed by ``close``.
"""

from __future__ import annotations

import asyncio
import weakref

import aiohttp
from slack_sdk.web.async_client import AsyncWebClient


class PooledWebClient(AsyncWebClient):
    """AsyncWebClient whose ``session`` is the running loop's kept-alive session."""

    def __init__(self, **kwargs) -> None:
        self._sessions: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aiohttp.ClientSession] = weakref.WeakKeyDictionary()
        super().__init__(**kwargs)

    @property
    def session(self) -> aiohttp.ClientSession | None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return None
        session = self._sessions.get(loop)
        if session is None or session.closed:
            session = self._sessions[loop] = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100), timeout=aiohttp.ClientTimeout(total=self.timeout))
        return session

    @session.setter
    def session(self, value: aiohttp.ClientSession | None) -> None:
        """slack_sdk assigns ``session`` in its constructor; sessions here are per loop instead."""
        if value is not None:
            raise ValueError("PooledWebClient makes its own sessions, one per event loop")

    async def close(self) -> None:
        """Close the running loop's session (call once on each loop that used the client)."""
        loop = asyncio.get_running_loop()
        session = self._sessions.pop(loop, None)
        if session is not None and not session.closed:
            await session.close()
