"""Helpers for the Slack adapter tests: recorded payloads, Slack signatures, the Baton harness.

Requests are signed exactly as Slack signs them and posted over loopback into the aiohttp
application built by ``bot.server.build_web_app``; the adapter's Web API calls land in the
stand-in, where tests read them back.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from aiohttp.test_utils import TestClient

from standins.slack_api import SlackStandIn

PAYLOADS = Path(__file__).parent / "payloads"
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
HOME = "T0HOME"
CUSTOMER, DANA, ERIN, GRACE, MALLORY = "U0CUST", "U0DANA", "U0ERIN", "U0GLOBEXFIN", "U0MALLORY"
HELP, QUEUE = "C0HELP", "C0SUPPORT1"
USERS = {
    CUSTOMER: {"name": "cora", "real_name": "Cora Jones", "display_name": "Cora", "email": "cora@smallshop.example"},
    DANA: {"name": "dana", "real_name": "Dana Scully", "display_name": "Dana"},
    ERIN: {"name": "erin", "real_name": "Erin Brock", "display_name": "Erin"},
    GRACE: {"name": "grace", "real_name": "Grace Globex", "display_name": "grace.finance", "team_id": "T0GLOBEX", "email": "grace@globex.example"},
    MALLORY: {"name": "mallory", "real_name": "Mallory Outsider", "display_name": "Mallory", "team_id": "T0OUTSIDE"},
}


def payload(name: str) -> dict:
    """A recorded payload from tests/slack/payloads (a fresh copy)."""
    return json.loads((PAYLOADS / f"{name}.json").read_text(encoding="utf-8"))


def signed_headers(body: str, *, secret: str = SECRET, timestamp: int | None = None, content_type: str = "application/json") -> dict[str, str]:
    """Slack's v0 signature: HMAC-SHA256 of 'v0:{timestamp}:{body}' with the signing secret."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}", "Content-Type": content_type}


def form_body(data: dict) -> str:
    """An interactivity body: ``payload=<url-encoded JSON>``."""
    return urlencode({"payload": json.dumps(data)})


@dataclass
class Baton:
    """Baton's web app under test, the stand-in it talks to, and request helpers."""

    client: TestClient
    core: Any
    slack: SlackStandIn
    app: Any

    async def post(self, body: str, *, headers: dict[str, str]) -> Any:
        return await self.client.post("/slack/events", data=body.encode(), headers=headers)

    async def event(self, envelope: dict, *, retry: int | None = None) -> Any:
        """Deliver an event_callback, signed; ``retry`` adds X-Slack-Retry-Num like a redelivery."""
        body = json.dumps(envelope)
        headers = signed_headers(body)
        if retry:
            headers |= {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
        return await self.post(body, headers=headers)

    async def action(self, data: dict) -> Any:
        body = form_body(data)
        return await self.post(body, headers=signed_headers(body, content_type="application/x-www-form-urlencoded"))

    def say(self, *, channel: str, user: str, text: str, thread_ts: str | None = None, team: str = HOME) -> dict:
        """A person's message stored in the stand-in, wrapped as Slack would deliver it."""
        event = self.slack.message_event(channel=channel, user=user, text=text, thread_ts=thread_ts)
        event |= {"team": team, "user_team": team, "source_team": team}
        envelope = self.slack.event_callback(event)
        envelope["is_ext_shared_channel"] = team != HOME
        return envelope

    def click(self, *, action: str, value: str, user: str, channel: str, message_ts: str, team: str = HOME, thread_ts: str | None = None) -> dict:
        """A block_actions payload shaped like the recorded one, for a button on ``message_ts``."""
        data = copy.deepcopy(payload("block_actions_claim"))
        data["user"] = {"id": user, "username": user.lower(), "name": user.lower(), "team_id": team}
        data["container"] = {"type": "message", "message_ts": message_ts, "channel_id": channel, "is_ephemeral": False}
        if thread_ts:
            data["container"]["thread_ts"] = thread_ts
        data["channel"] = {"id": channel, "name": channel.lower()}
        data["message"] = {"type": "message", "ts": message_ts, "bot_id": self.slack.bot_id, "text": "card"}
        data["trigger_id"] = self.slack.new_trigger_id()
        data["actions"][0] |= {"action_id": action, "value": value, "action_ts": f"{time.time():.6f}"}
        return data

    @property
    def adapter(self) -> Any:
        from adapters.slack.app import ADAPTER_KEY

        return self.app[ADAPTER_KEY]


async def escalate(baton, *, text: str = "You charged my card twice, I want that reversed now") -> tuple[dict, object]:
    """A risky customer message; returns its envelope and the ticket it opened."""
    envelope = baton.say(channel=HELP, user=CUSTOMER, text=text)
    await baton.event(envelope)
    ts = envelope["event"]["ts"]
    await baton.slack.wait_for("chat.postMessage", predicate=lambda c: c.args.get("channel") != HELP)
    await baton.slack.wait_for("chat.postMessage", predicate=lambda c: c.args.get("thread_ts") == ts)
    return envelope, baton.core.store.active_ticket(conversation_id=f"slack:{HELP}:{ts}")
