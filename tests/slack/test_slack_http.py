"""Transport: Slack signatures, malformed bodies, url_verification, and Socket Mode."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

from aiohttp.test_utils import TestClient, TestServer
from hypothesis import given
from hypothesis import strategies as st
from slack_helpers import CUSTOMER, HELP, SECRET, form_body, payload, signed_headers

VAT = "Where do I add our VAT number so it shows on invoices?"


async def test_url_verification_is_answered_with_the_challenge(baton):
    body = json.dumps(payload("url_verification"))
    response = await baton.post(body, headers=signed_headers(body))
    assert response.status == 200
    assert (await response.json())["challenge"] == payload("url_verification")["challenge"]


async def test_forged_stale_and_missing_signatures_get_401(baton):
    body = json.dumps(payload("url_verification"))
    forged = signed_headers(body, secret="not-the-secret")
    stale = signed_headers(body, timestamp=int(time.time()) - 6 * 60)
    garbage = signed_headers(body) | {"X-Slack-Request-Timestamp": "yesterday"}
    for headers in (forged, stale, garbage, {"Content-Type": "application/json"}):
        assert (await baton.post(body, headers=headers)).status == 401
    tampered = signed_headers(body)
    assert (await baton.post(body.replace("challenge", "challenges"), headers=tampered)).status == 401


async def test_malformed_bodies_get_400_and_the_app_stays_up(baton):
    form = "application/x-www-form-urlencoded"
    cases = [
        ("{this is not json", "application/json"),
        ("user=U0CUST&text=hello", form),
        ("payload=%7Bnot-json", form),
    ]
    for body, content_type in cases:
        response = await baton.post(body, headers=signed_headers(body, content_type=content_type))
        assert response.status == 400, body
    raw = b'{"type": "event_callback", "text": "\xff\xfe"}'
    headers = signed_headers(raw.decode("latin-1"))
    digest = hmac.new(SECRET.encode(), f"v0:{headers['X-Slack-Request-Timestamp']}:".encode() + raw, hashlib.sha256).hexdigest()
    response = await baton.client.post("/slack/events", data=raw, headers=headers | {"X-Slack-Signature": f"v0={digest}"})
    assert response.status == 400
    question = baton.say(channel=HELP, user=CUSTOMER, text=VAT)
    assert (await baton.event(question)).status == 200
    await baton.slack.wait_for("chat.postMessage", predicate=lambda c: c.args.get("thread_ts") == question["event"]["ts"])


async def test_payloads_bolt_would_crash_on_get_400(baton):
    """Bolt indexes actions[0] and event without checks: such payloads stop at the door."""
    for data in (payload("block_actions_claim") | {"actions": []}, {"type": "view_submission"}):
        body = form_body(data)
        response = await baton.post(body, headers=signed_headers(body, content_type="application/x-www-form-urlencoded"))
        assert response.status == 400
    body = json.dumps({"type": "event_callback", "event_id": "Ev1", "event": None})
    assert (await baton.post(body, headers=signed_headers(body))).status == 400
    assert baton.slack.calls_to("chat.postEphemeral") == []


async def test_socket_mode_receives_events_and_acks_them(make_settings, slack_api, fast_slack):
    from bot.app import build_core
    from bot.server import build_web_app

    settings = make_settings(slack_bot_token=slack_api.bot_token, slack_app_token=slack_api.app_token, slack_api_url=slack_api.base_url, admin_token="test-admin-token")
    core = build_core(settings=settings)
    app = build_web_app(core=core, settings=settings)
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        await slack_api.wait_socket_connected()
        assert (await client.post("/slack/events", data=b"{}")).status in (404, 405)  # no signing secret: no HTTP route
        event = slack_api.message_event(channel=HELP, user=CUSTOMER, text=VAT)
        envelope_id = await slack_api.push_event(event)
        ack = await slack_api.wait_socket_ack(envelope_id)
        assert ack["envelope_id"] == envelope_id
        [answer] = await slack_api.wait_for("chat.postMessage", predicate=lambda c: c.args.get("thread_ts") == event["ts"])
        buttons = answer.args["blocks"][-1]["elements"]
        assert [e["action_id"] for e in buttons] == ["helpful", "not_helpful", "talk_to_person"]
        click = payload("block_actions_claim")
        click["user"] = {"id": CUSTOMER, "username": "cora", "name": "cora", "team_id": slack_api.team_id}
        click["container"] = {"type": "message", "message_ts": slack_api.messages(HELP)[-1]["ts"], "channel_id": HELP, "thread_ts": event["ts"]}
        click["channel"] = {"id": HELP, "name": "help"}
        click["actions"][0] |= {"action_id": "not_helpful", "value": buttons[1]["value"]}
        await slack_api.wait_socket_ack(await slack_api.push_socket_event(click, type="interactive"))
        await slack_api.wait_for("chat.postEphemeral")
        assert [f.kind for f in core.store.feedback()] == ["not_helpful"]
    assert slack_api.calls_to("apps.connections.open")[0].token == slack_api.app_token


async def test_secrets_never_reach_the_logs(baton, caplog):
    caplog.set_level("DEBUG")
    question = baton.say(channel=HELP, user=CUSTOMER, text=VAT)
    await baton.event(question)
    await baton.slack.wait_for("reactions.remove")
    body = "{broken"
    await baton.post(body, headers=signed_headers(body))
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert logged and SECRET not in logged and baton.slack.bot_token not in logged


@given(body=st.text(max_size=500), skew=st.integers(-400, 400).filter(lambda s: abs(abs(s) - 300) > 2))
def test_the_door_agrees_with_slack_sdks_reference_verifier(body, skew):
    from slack_sdk.signature import SignatureVerifier

    from adapters.slack.app import valid_signature

    headers = signed_headers(body, timestamp=int(time.time()) + skew)
    expected = SignatureVerifier(SECRET).is_valid_request(body, headers)
    assert valid_signature(secret=SECRET, body=body.encode(), headers=headers) == expected
    assert not valid_signature(secret=SECRET, body=(body + "x").encode(), headers=headers)
