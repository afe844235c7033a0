"""Pure conversions: recorded Slack payloads -> Baton's neutral types."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from slack_helpers import payload

from adapters.slack import convert, render
from adapters.slack.options import options_from
from bot.engine import customer_value
from bot.rules import load_rules
from bot.settings import SAMPLE_RULES


def test_channel_message_becomes_a_post_with_plain_text():
    post = convert.post_from(body=payload("message_channel"), bot_user_id="U0BATON")
    assert post is not None
    assert (post.event_id, post.channel, post.ts, post.user) == ("Ev0CHANNEL01", "C0HELP", "1700000000.000100", "U0CUST")
    assert post.root == post.ts and not post.is_reply
    assert post.text == "How do I export my expenses to a spreadsheet for my accountant? <urgent> see the help page (https://ledgerly.example/help)"


def test_a_thread_reply_belongs_to_its_root():
    post = convert.post_from(body=payload("message_thread_reply"), bot_user_id="U0BATON")
    assert post.is_reply and post.root == "1700000000.000100"
    ref = convert.conversation_ref(post=post, permalink="https://x.slack.com/p1")
    assert ref.key == "slack:C0HELP:1700000000.000100"
    assert ref.native["permalink"] == "https://x.slack.com/p1" and ref.native["team"] == "T0HOME"


def test_app_mention_drops_the_bots_own_mention_and_keeps_others_readable():
    post = convert.post_from(body=payload("app_mention"), bot_user_id="U0BATON")
    assert post.text == "is there a zapier integration? cc @dana in #help"


def test_direct_message_keeps_its_channel_type():
    post = convert.post_from(body=payload("message_dm"), bot_user_id="U0BATON")
    assert post.channel_type == "im" and post.channel == "D0CUSTDM"


@pytest.mark.parametrize("name", ["bot_message", "channel_join"])
def test_bots_and_housekeeping_messages_are_ignored(name):
    body = payload(name)
    assert convert.event_kind(body["event"]) == "ignore"
    assert convert.post_from(body=body, bot_user_id="U0BATON") is None


def test_the_bots_own_message_is_ignored():
    body = payload("message_channel")
    body["event"]["user"] = "U0BATON"
    assert convert.post_from(body=body, bot_user_id="U0BATON") is None


def test_external_slack_connect_user_maps_to_their_organisation():
    body = payload("message_external_connect")
    post = convert.post_from(body=body, bot_user_id="U0BATON")
    assert post.ext_shared and post.user_team == "T0GLOBEX"
    person = convert.person_from(user_id=post.user, user_team=post.user_team, home_team="T0HOME", profile={"profile": post.profile})
    assert person.external and person.organisation == "T0GLOBEX" and person.display_name == "grace.finance"
    value = customer_value(rules=load_rules(path=SAMPLE_RULES), person=person)
    assert (value.organisation, value.tier) == ("Globex", "enterprise")


def test_a_workspace_member_is_not_external():
    info = {"id": "U0CUST", "team_id": "T0HOME", "name": "cora", "profile": {"display_name": "Cora", "email": "c@x.example"}}
    person = convert.person_from(user_id="U0CUST", user_team=None, home_team="T0HOME", profile=info)
    assert not person.external and person.organisation is None and person.email == "c@x.example"


def test_edits_and_deletions():
    changed = payload("message_changed")["event"]
    assert convert.event_kind(changed) == "edit"
    edit = convert.edit_from(event=changed, bot_user_id="U0BATON")
    assert (edit.ts, edit.text) == ("1700000000.000100", "How do I export my expenses to CSV for my accountant?")
    unfurl = json.loads(json.dumps(changed))
    unfurl["message"]["text"] = unfurl["previous_message"]["text"]
    assert convert.edit_from(event=unfurl, bot_user_id="U0BATON") is None
    deleted = payload("message_deleted")["event"]
    assert convert.event_kind(deleted) == "delete" and convert.deleted_ts(deleted) == "1700000000.000100"


def test_quick_posts_join_into_one_turn_keyed_by_the_first_event():
    first = convert.post_from(body=payload("message_channel"), bot_user_id="U0BATON")
    second = convert.post_from(body=payload("message_thread_reply"), bot_user_id="U0BATON")
    person = convert.person_from(user_id="U0CUST", user_team=None, home_team="T0HOME", profile=None)
    message = convert.inbound(posts=[first, second], author=person, ref=convert.conversation_ref(post=first))
    assert message.event_id == "Ev0CHANNEL01" and message.message_id == first.ts
    assert message.text.endswith("\nand can I do that every month automatically?")


def test_block_actions_and_view_submission():
    click = convert.click_from(payload("block_actions_claim"))
    assert (click.action, click.value, click.user_id, click.user_team) == ("claim", "T-00000000", "U0DANA", "T0HOME")
    assert (click.channel, click.message_ts) == ("C0SUPPORT1", "1700000000.000900")
    view = payload("view_submission_edit")["view"]
    assert convert.submitted_text(view, block_id=render.EDIT_BLOCK, action_id=render.EDIT_ACTION).startswith("Hi! I have refunded")
    assert convert.metadata(view)["ticket_id"] == "T-00000000"
    assert convert.metadata({"private_metadata": "not json"}) == {}


@pytest.mark.parametrize("text", ["note: check the invoice first", "  // internal", "NOTE: caps", "[internal] x"])
def test_internal_markers(text):
    assert convert.is_internal(text, prefixes=("note:", "//", "[internal]"))


def test_replies_without_a_marker_are_relayed():
    assert not convert.is_internal("Hi Cora, I'm on it. note: we fixed it", prefixes=("note:", "//"))


@pytest.mark.parametrize(
    ("body", "content_type", "problem"),
    [
        ('{"type": "event_callback", "event": {"type": "message"}}', "application/json", None),
        ("{not json", "application/json", "body is not a JSON object"),
        ("[1, 2]", "application/json", "body is not a JSON object"),
        ("payload=%7B%22type%22%3A%22block_shortcut%22%7D", "application/x-www-form-urlencoded", "payload type 'block_shortcut' is not one Baton handles"),
        ('{"type": "event_callback", "event": {"type": "message", "channel": 0}}', "application/json", "event field channel is not a string"),
        ('{"type": "event_callback", "event": {"type": "message"}, "authorizations": {}}', "application/json", "authorizations is not a list of objects"),
        ("ssl_check=1&token=x", "application/x-www-form-urlencoded", None),
        ("foo=bar", "application/x-www-form-urlencoded", "form has no payload"),
        ("payload=%7Bnope", "application/x-www-form-urlencoded", "payload is not a JSON object"),
        ("hello", "text/plain", "unsupported content type text/plain"),
        ('{"token": "x"}', "application/json", "payload has no type"),
        ('{"type": "event_callback", "event": "x"}', "application/json", "event_callback has no event"),
        ("payload=%7B%22type%22%3A%22block_actions%22%2C%22actions%22%3A%5B%5D%7D", "application/x-www-form-urlencoded", "block_actions has no actions"),
        ("payload=%7B%22type%22%3A%22view_submission%22%7D", "application/x-www-form-urlencoded", "view_submission has no view"),
        ('{"actions": [{}], "type": "block_actions"}', "application/json", "an action has no action_id"),
        ('{"view": null, "type": "app_rate_limited"}', "application/json", "view is not an object"),  # found by fuzzing
    ],
)
def test_body_problems(body, content_type, problem):
    assert convert.body_problem(body=body, content_type=content_type) == problem


@pytest.mark.parametrize(
    ("slack", "plain"),
    [
        ("<!channel> look", "@channel look"),
        ("due <!date^1700000000^{date}|Nov 14>", "due Nov 14"),
        ("mail <mailto:a@b.example|a@b.example>", "mail a@b.example"),
        ("<https://x.example>", "https://x.example"),
        ("<!subteam^S123|@support> help", "@support help"),
        ("a &amp;&lt;b&gt;", "a &<b>"),
    ],
)
def test_plain_text(slack, plain):
    assert convert.plain_text(slack, bot_user_id="U0BATON") == plain


@given(st.text())
def test_plain_text_then_escape_never_yields_markup(text):
    assert "<" not in render.escape(convert.plain_text(text)) and ">" not in render.escape(convert.plain_text(text))


def test_options_from_environment_and_settings():
    class WithFields:
        slack_debounce_seconds = 0.25
        slack_post_interval_seconds = None

    assert options_from(settings=object(), environ={}).debounce_seconds == 1.5
    assert options_from(settings=object(), environ={"BATON_SLACK_DEBOUNCE_SECONDS": "0"}).debounce_seconds == 0
    assert options_from(settings=WithFields(), environ={"BATON_SLACK_DEBOUNCE_SECONDS": "9"}).debounce_seconds == 0.25
    with pytest.raises(ValueError, match="BATON_SLACK_POST_INTERVAL_SECONDS"):
        options_from(settings=object(), environ={"BATON_SLACK_POST_INTERVAL_SECONDS": "-1"})
