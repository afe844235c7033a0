"""A queue can live on either platform: Teams customers handled from Slack, and the reverse.

The rules pin the queues (``platform: slack`` / ``platform: teams``); the core routes cards by
the queue's platform and replies by the customer's. Both adapters are mounted by bot.server on
one web app, each talking to its own stand-in.
"""

from __future__ import annotations

import pytest

from standins.slack_api import SlackStandIn
from teams import slack_side
from teams.harness import BILLING_CHANNEL, CUSTOMER_CHAT, HOME_TENANT, card_of, start_harness

RISKY = "I was charged twice this month and I want my money back"


@pytest.fixture
async def slack_api():
    async with SlackStandIn(users=dict(slack_side.USERS), team_id=slack_side.HOME_TEAM) as standin:
        yield standin


@pytest.fixture
def both(make_settings, slack_api, tmp_path, monkeypatch):
    """Settings with Slack (signed HTTP events) and Teams (local mode) both mounted."""
    monkeypatch.setenv("BATON_SLACK_DEBOUNCE_SECONDS", "0")
    monkeypatch.setenv("BATON_SLACK_POST_INTERVAL_SECONDS", "0")

    def build(platform: str):
        return make_settings(
            rules=slack_side.rules_on(platform, folder=tmp_path), teams_local_mode=True, microsoft_app_tenant_id=HOME_TENANT, admin_token="test-admin-token",
            slack_bot_token=slack_api.bot_token, slack_signing_secret=slack_side.SECRET, slack_api_url=slack_api.base_url,
        )

    return build


async def _settle(harness) -> None:
    from adapters.slack.app import ADAPTER_KEY

    await harness.client.app[ADAPTER_KEY].drain(timeout=5)


async def test_teams_customer_is_answered_from_the_slack_queue(both, connector, slack_api):
    teams = await start_harness(settings=both("slack"), connector=connector)
    try:
        await teams.say(RISKY)
        assert "a member of our team" in teams.sent(CUSTOMER_CHAT)[-1]["text"]
        ticket = teams.core.store.tickets()[0]
        refs = ticket.card_refs
        assert refs["platform"] == "slack" and refs["channel"] == "C0BILLING1"
        assert teams.cards_in(BILLING_CHANNEL) == []

        for action in ("claim", "send_suggested"):
            await slack_side.click(teams.client, slack_api, action=action, ticket_id=ticket.id, user=slack_side.DANA, channel=refs["channel"], message_ts=refs["message_id"])
            await _settle(teams)
        assert teams.core.store.ticket(ticket_id=ticket.id).claimed_by == slack_side.DANA
        assert teams.sent(CUSTOMER_CHAT)[-1]["text"].startswith("**Dana** (support team): ")

        await teams.say("How long will the refund take?")
        await slack_api.wait_for("chat.postMessage", predicate=lambda c: c.args.get("thread_ts") == refs["message_id"] and "How long will the refund take?" in c.args.get("text", ""))

        await slack_side.send_event(teams.client, slack_api, channel=refs["channel"], user=slack_side.DANA, text="About five working days.", thread_ts=refs["message_id"])
        await _settle(teams)
        assert teams.sent(CUSTOMER_CHAT)[-1]["text"] == "**Dana** (support team): About five working days."
    finally:
        await teams.client.close()


async def test_slack_customer_is_answered_from_the_teams_queue(both, connector, slack_api, assert_valid_card):
    teams = await start_harness(settings=both("teams"), connector=connector)
    try:
        await teams.set_queue(queue="billing", channel=BILLING_CHANNEL)
        question = await slack_side.send_event(teams.client, slack_api, channel=slack_side.HELP, user=slack_side.CORA, text=RISKY)
        await _settle(teams)
        in_thread = [c for c in slack_api.calls_to("chat.postMessage") if c.args.get("thread_ts") == question["ts"]]
        assert in_thread and "a member of our team" in in_thread[-1].args["text"]
        [card] = teams.cards_in(BILLING_CHANNEL)
        assert_valid_card(card_of(card.activity))
        assert "Cora" in str(card_of(card.activity)) and RISKY in str(card_of(card.activity))

        status, _ = await teams.click("claim", card=card, agent="Dana")
        assert status == 200
        await teams.say_raw(teams.in_card_thread("We are reversing the duplicate charge now.", card=card, agent="Dana"))
        relayed = [c.args.get("text", "") for c in slack_api.calls_to("chat.postMessage") if c.args.get("thread_ts") == question["ts"]]
        assert any("We are reversing the duplicate charge now." in t and "Dana" in t for t in relayed)
    finally:
        await teams.client.close()
