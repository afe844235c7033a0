"""The weekly review's verdict buttons and the `/baton stats` slash command."""

from __future__ import annotations

from urllib.parse import urlencode

from adapters.slack.app import REVIEW_ACTION
from slack_helpers import HOME, signed_headers

from bot.outbox import OutboxRouter
from bot.types import Action, Conversation


async def stats(baton, *, text: str, team: str = HOME):
    body = urlencode({"command": "/baton", "text": text, "team_id": team, "user_id": "U0DANA", "channel_id": "C0SUPPORT1", "trigger_id": "1.2.3", "response_url": "https://hooks.slack.invalid/x"})
    return await baton.post(body, headers=signed_headers(body, content_type="application/x-www-form-urlencoded"))


async def test_stats_command_answers_with_the_kpis(baton):
    response = await stats(baton, text="stats 7d")
    assert response.status == 200
    text = await response.text()
    assert "escalation precision" in text.lower() or "Escalation precision" in text


async def test_stats_command_refuses_other_workspaces_and_explains_usage(baton):
    refused = await (await stats(baton, text="stats", team="T0GLOBEX")).text()
    assert "stats" not in refused.lower() or "refus" in refused.lower() or "only" in refused.lower()
    usage = await (await stats(baton, text="")).text()
    assert "Usage" in usage


async def test_review_verdict_is_recorded(baton):
    core = baton.core
    row = core.store.upsert_conversation(ref=__import__("bot.types", fromlist=["ConversationRef"]).ConversationRef(platform="slack", channel="C0CUST", thread="1.1"), author=None)
    decision = core.engine.decide(Conversation(text="How do I connect Slack?"))
    assert decision.action == Action.ANSWER
    saved = core.store.save_decision(conversation_id=row.id, message_id=None, decision=decision, input_text="How do I connect Slack?")
    action = f"review_should_escalate:{saved.id}"
    assert REVIEW_ACTION.match(action)
    response = await baton.action(baton.click(action=action, value=action, user="U0DANA", channel="C0REVIEW", message_ts="1700000000.000100"))
    assert response.status == 200
    await baton.slack.wait_for("chat.postEphemeral")
    assert [f.kind for f in core.store.feedback()] == ["review_should_escalate"]
