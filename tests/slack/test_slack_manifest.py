"""manifest.yaml is a valid Slack app manifest and asks for exactly what the code uses."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from adapters.slack.app import EVENTS_PATH

REPO = Path(__file__).resolve().parents[2]
SCHEMA = REPO.parent / "shared" / "schemas" / "slack-app-manifest.schema.1.0.0.json"
ADAPTER = REPO / "adapters" / "slack"
# Web API methods the adapter calls -> the bot scopes they need (None: no scope needed).
METHOD_SCOPES = {
    "chat_postMessage": {"chat:write"}, "chat_update": {"chat:write"}, "chat_postEphemeral": {"chat:write"},
    "chat_getPermalink": set(), "reactions_add": {"reactions:write"}, "reactions_remove": {"reactions:write"},
    "users_info": {"users:read", "users:read.email"}, "conversations_info": {"channels:read", "groups:read"},
    "views_open": set(),
}
# Events the listeners take -> manifest bot events and the scopes those need.
EVENT_SUBSCRIPTIONS = {
    "message": ({"message.channels", "message.groups", "message.im"}, {"channels:history", "groups:history", "im:history"}),
    "app_mention": ({"app_mention"}, {"app_mentions:read"}),
}


@pytest.fixture(scope="module")
def manifest() -> dict:
    return yaml.safe_load((REPO / "manifest.yaml").read_text(encoding="utf-8"))


def adapter_source() -> str:
    return "\n".join(path.read_text(encoding="utf-8") for path in sorted(ADAPTER.glob("*.py")))


def called_methods() -> set[str]:
    source = adapter_source()
    return {name for name in METHOD_SCOPES if re.search(rf"\b{name}\b", source)}


def listened_events() -> set[str]:
    return set(re.findall(r'bolt\.event\("([a-z_]+)"\)', adapter_source()))


def test_manifest_matches_the_official_schema(manifest):
    if not SCHEMA.exists():
        pytest.skip("the shared schemas folder is not available")
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.validate(manifest, schema)
    assert manifest["_metadata"]["major_version"] == 1


def slash_commands() -> set[str]:
    return set(re.findall(r'STATS_COMMAND = "(/[a-z]+)"', adapter_source()))


def test_scopes_are_exactly_what_the_code_uses(manifest):
    methods, events = called_methods(), listened_events()
    assert methods == set(METHOD_SCOPES), "the adapter stopped calling a method: update METHOD_SCOPES and the manifest"
    assert events == set(EVENT_SUBSCRIPTIONS)
    needed = set().union(*(METHOD_SCOPES[m] for m in methods), *(EVENT_SUBSCRIPTIONS[e][1] for e in events))
    if slash_commands():
        needed.add("commands")
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == needed


def test_events_interactivity_and_socket_mode_settings(manifest):
    settings = manifest["settings"]
    wanted = set().union(*(EVENT_SUBSCRIPTIONS[e][0] for e in listened_events()))
    assert set(settings["event_subscriptions"]["bot_events"]) == wanted
    assert settings["event_subscriptions"]["request_url"].endswith(EVENTS_PATH)
    assert settings["interactivity"] == {"is_enabled": True, "request_url": settings["event_subscriptions"]["request_url"]}
    assert settings["socket_mode_enabled"] is False  # docs/slack.md explains the Socket Mode switch
    assert manifest["features"]["app_home"]["messages_tab_enabled"] is True
    assert {c["command"] for c in manifest["features"]["slash_commands"]} == slash_commands()
    assert all(c["url"] == settings["event_subscriptions"]["request_url"] for c in manifest["features"]["slash_commands"])
