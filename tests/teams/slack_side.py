"""The Slack side of the cross-platform tests: signed requests into Baton's Slack endpoint.

Signatures are Slack's v0 scheme (HMAC-SHA256 of 'v0:{timestamp}:{body}'); events and clicks are
shaped like tests/slack/payloads. Kept here so tests/teams does not import tests/slack modules.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from pathlib import Path
from urllib.parse import urlencode

import yaml

from bot.settings import SAMPLE_RULES

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
HOME_TEAM = "T0HOME"
DANA, CORA = "U0DANA", "U0CORA"
HELP = "C0HELP"
USERS = {
    DANA: {"name": "dana", "real_name": "Dana Scully", "display_name": "Dana"},
    CORA: {"name": "cora", "real_name": "Cora Jones", "display_name": "Cora", "email": "cora@smallshop.example"},
}


def rules_on(platform: str, *, folder: Path) -> Path:
    """The sample rules with every queue pinned to ``platform`` (the rules' ``platform:`` key)."""
    rules = yaml.safe_load(SAMPLE_RULES.read_text(encoding="utf-8"))
    for queue in rules["queues"].values():
        queue["platform"] = platform
    path = folder / f"rules-{platform}.yaml"
    path.write_text(yaml.safe_dump(rules, sort_keys=False), encoding="utf-8")
    return path


def _headers(body: str, content_type: str) -> dict[str, str]:
    ts = str(int(time.time()))
    digest = hmac.new(SECRET.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}", "Content-Type": content_type}


async def send_event(client, slack, *, channel: str, user: str, text: str, thread_ts: str | None = None) -> dict:
    """A person's message, stored in the stand-in and delivered as a signed event_callback."""
    event = slack.message_event(channel=channel, user=user, text=text, thread_ts=thread_ts)
    event |= {"team": HOME_TEAM, "user_team": HOME_TEAM, "source_team": HOME_TEAM}
    body = json.dumps(slack.event_callback(event))
    response = await client.post("/slack/events", data=body.encode(), headers=_headers(body, "application/json"))
    assert response.status == 200, await response.text()
    return event


async def click(client, slack, *, action: str, ticket_id: str, user: str, channel: str, message_ts: str) -> None:
    """A signed block_actions click on a card button."""
    payload = {
        "type": "block_actions", "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": HOME_TEAM},
        "api_app_id": slack.app_id, "token": "verification-token", "trigger_id": slack.new_trigger_id(),
        "container": {"type": "message", "message_ts": message_ts, "channel_id": channel, "is_ephemeral": False},
        "team": {"id": HOME_TEAM, "domain": "example"}, "channel": {"id": channel, "name": channel.lower()},
        "message": {"type": "message", "ts": message_ts, "bot_id": slack.bot_id, "text": "card"}, "state": {"values": {}},
        "response_url": "https://hooks.slack.com/actions/T0HOME/1/abc",
        "actions": [{"action_id": action, "block_id": "baton_card_actions", "value": ticket_id, "type": "button", "action_ts": f"{time.time():.6f}"}],
    }
    body = urlencode({"payload": json.dumps(payload)})
    response = await client.post("/slack/events", data=body.encode(), headers=_headers(body, "application/x-www-form-urlencoded"))
    assert response.status == 200, await response.text()
