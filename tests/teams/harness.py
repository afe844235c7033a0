"""A Teams test harness: the real web app (bot.server.build_web_app) on 127.0.0.1, fed real
Bot Framework activities, with every outbound call landing in the BotConnectorStandIn."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from adapters.teams import INBOX_KEY
from bot.app import Core, build_core
from bot.server import build_web_app
from standins.botconnector import BotConnectorStandIn, RecordedActivity, teams_invoke_action_execute, teams_message

HOME_TENANT = "11111111-0000-4000-8000-00000000aaaa"
CUSTOMER_CHAT = "a:1customer-ada"
BILLING_CHANNEL = "19:billing-queue@thread.tacv2"
SUPPORT_CHANNEL = "19:support-queue@thread.tacv2"
AGENTS = {"Dana": "29:agent-dana", "Eli": "29:agent-eli", "Mallory": "29:outsider-mallory"}


@dataclass
class Agent:
    """An agent as Teams knows them."""

    id: str
    name: str


class TeamsHarness:
    """Send activities to POST /api/messages and read what the bot sent."""

    def __init__(self, *, core: Core, client: TestClient, connector: BotConnectorStandIn) -> None:
        self.core = core
        self.client = client
        self.connector = connector

    async def post(self, activity: dict, **kwargs: Any):
        """POST one activity; a stored one (a message) has been run when this returns."""
        response = await self.client.post("/api/messages", json=activity, **kwargs)
        await self.settle()
        return response

    async def sweep(self) -> int:
        """One pass of the inbox's recovery sweep, as it runs every 15 s; returns how many it ran."""
        return await self.client.app[INBOX_KEY].sweep(older_than=timedelta(0))

    async def settle(self) -> None:
        """Wait for the turns the durable inbox started (messages are answered 201 before they run)."""
        inbox = self.client.app.get(INBOX_KEY)
        if inbox is not None:
            await inbox.drain(timeout=30.0)

    def message(self, text: str, *, conversation_id: str = CUSTOMER_CHAT, from_id: str = "29:customer-ada", from_name: str = "Ada Lovelace", tenant_id: str = HOME_TENANT, **fields: Any) -> dict:
        return teams_message(text=text, conversation_id=conversation_id, from_id=from_id, from_name=from_name, tenant_id=tenant_id, service_url=self.connector.service_url, **fields)

    async def say(self, text: str, **fields: Any):
        """A customer message; returns the HTTP response (the turn is done when it returns)."""
        response = await self.post(self.message(text, **fields))
        assert response.status in (200, 201), await response.text()
        return response

    async def set_queue(self, *, queue: str, channel: str) -> None:
        """An agent runs "@Baton use this channel as the <queue> queue" in a channel."""
        activity = self.message(f"use this channel as the {queue} queue", conversation_id=channel, conversation_type="channel", mention_bot=True, from_id=AGENTS["Dana"], from_name="Dana")
        await self.say_raw(activity)

    async def say_raw(self, activity: dict):
        response = await self.post(activity)
        assert response.status in (200, 201), await response.text()
        return response

    def in_card_thread(self, text: str, *, card: RecordedActivity, agent: str = "Dana") -> dict:
        """An agent's @Baton message in a card's thread."""
        return self.message(text, conversation_id=card.conversation_id, conversation_type="channel", reply_to_id=card.activity_id, mention_bot=True, from_id=AGENTS[agent], from_name=agent)

    async def click(self, verb: str, *, card: RecordedActivity, agent: str = "Dana", **data: Any) -> tuple[int, dict]:
        """An agent clicks an Action.Execute button on a card; returns (status, invoke response)."""
        ticket = card.activity["attachments"][0]["content"]["refresh"]["action"]["data"]["ticket"]
        invoke = teams_invoke_action_execute(
            verb=verb, data={"ticket": ticket, **data}, conversation_id=card.conversation_id, conversation_type="channel",
            from_id=AGENTS[agent], from_name=agent, tenant_id=HOME_TENANT, service_url=self.connector.service_url, reply_to_id=card.activity_id,
        )
        response = await self.post(invoke)
        return response.status, await response.json()

    # --- reading what was sent ---------------------------------------------------------------

    def sent(self, conversation_id: str) -> list[dict]:
        return self.connector.sent_to(conversation_id)

    def cards_in(self, channel: str) -> list[RecordedActivity]:
        """Handoff cards posted as new threads in a queue channel."""
        return [r for r in self.connector.activities if r.method == "POST" and r.conversation_id.startswith(channel + ";messageid=") and r.reply_to_id is None and r.activity.get("attachments")]

    def thread_texts(self, card: RecordedActivity) -> list[str]:
        return [a.get("text", "") for a in self.sent(card.conversation_id) if not a.get("attachments")]

    def updates_of(self, card: RecordedActivity) -> list[dict]:
        return [r.activity for r in self.connector.activities if r.method == "PUT" and r.activity_id == card.activity_id]


def card_of(activity: dict) -> dict:
    """The Adaptive Card content of a message activity."""
    [attachment] = activity["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    return attachment["content"]


async def start_harness(*, settings: Any, connector: BotConnectorStandIn) -> TeamsHarness:
    """The real core and web app (Teams mounted by bot.server), served on 127.0.0.1."""
    core = build_core(settings=settings)
    app = build_web_app(core=core, settings=settings)
    client = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    return TeamsHarness(core=core, client=client, connector=connector)


def install_activity(*, team_channel: str, service_url: str, tenant_id: str = HOME_TENANT) -> dict:
    """The conversationUpdate Teams sends when the app is added to a team (bot in membersAdded)."""
    team = {"id": team_channel, "name": "Customer Support", "aadGroupId": "00000000-0000-4000-8000-0000000000ad"}
    return {
        "type": "conversationUpdate", "id": "f:install-1", "channelId": "msteams", "serviceUrl": service_url,
        "timestamp": "2026-03-02T10:00:00.000Z", "from": {"id": "29:admin", "name": "Admin"},
        "recipient": {"id": "28:baton-bot", "name": "Baton"}, "membersAdded": [{"id": "28:baton-bot"}],
        "conversation": {"isGroup": True, "conversationType": "channel", "tenantId": tenant_id, "id": team_channel},
        "channelData": {"team": team, "eventType": "teamMemberAdded", "tenant": {"id": tenant_id}},
    }
