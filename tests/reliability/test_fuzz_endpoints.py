"""Property-based fuzzing of the real web app (``bot.server.build_web_app``) in process.

Slack (signing secret configured, Web API pointed at the Slack stand-in) and Teams (app id and
password configured, so a Bot Framework JWT is required) are mounted on one aiohttp app served
by aiohttp's TestServer. Hypothesis throws about 10,000 generated requests at it in total:

* random bytes, random JSON and form bodies, unsigned or forged -> 401;
* correctly signed but stale, future or replayed (same signature, old timestamp) -> 401;
* correctly signed garbage -> 400 or 200/404 ignored, and no reply ever posted for it;
* oversize bodies (> client_max_size) -> 413;
* random headers; Teams without a token or with garbage tokens -> 401 (400 for a body that is
  not an activity at all).

Never a 500, never an ERROR logged, and a valid request is still answered afterwards.

The run is derandomized (reproducible). For a deeper run, scale every test's example count:
``BATON_FUZZ_SCALE=10 pytest tests/reliability/test_fuzz_endpoints.py`` (100,000 requests).
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import jwt
import pytest
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.settings import SAMPLE_KNOWLEDGE, SAMPLE_RULES, Settings
from standins.slack_api import SlackStandIn

from .signing import SECRET, sign

SCALE = float(os.environ.get("BATON_FUZZ_SCALE", "1"))
APP_ID = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"
APP_PASSWORD = "fuzz-not-a-real-secret"
HOME = "T0HOME"
CUSTOMER = "U0CUST"
HELP = "C0HELP"
MAX_BODY = 1024 * 1024  # bot.server.build_web_app's client_max_size
JSON_TYPE, FORM_TYPE = "application/json", "application/x-www-form-urlencoded"


def fuzz_settings(examples: int) -> settings:
    """Reproducible, deadline-free Hypothesis settings for ``examples`` x BATON_FUZZ_SCALE runs."""
    return settings(
        max_examples=max(1, int(examples * SCALE)), deadline=None, derandomize=True, database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    )


# --- the app under test ------------------------------------------------------------------------


class ErrorLog(logging.Handler):
    """Collects every ERROR (or worse) record and every record carrying an exception."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.ERROR or record.exc_info:
            self.records.append(record)

    def text(self) -> str:
        return "\n".join(f"{r.name}: {r.getMessage()}\n{logging.Formatter().formatException(r.exc_info) if r.exc_info else ''}" for r in self.records)


@dataclass
class Target:
    """The running app, its loop, the stand-in and the error log."""

    loop: asyncio.AbstractEventLoop
    client: TestClient
    slack: SlackStandIn
    errors: ErrorLog
    core: Any = field(repr=False, default=None)
    app: Any = field(repr=False, default=None)
    statuses: dict[str, set[int]] = field(default_factory=dict)

    def __repr__(self) -> str:  # Hypothesis prints fixtures in falsifying examples
        return "Target(real web app with Slack and Teams mounted)"

    def run(self, coroutine: Any) -> Any:
        return self.loop.run_until_complete(coroutine)

    def post(self, path: str, *, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
        """POST raw bytes and return (status, body text)."""

        async def send() -> tuple[int, str]:
            async with self.client.post(path, data=body, headers=headers) as response:
                return response.status, await response.text()

        self.errors.records.clear()
        result = self.run(send())
        assert not self.errors.records, f"{path} {headers} {body[:300]!r} -> {result[0]}\n{self.errors.text()}"
        return result

    def drain(self) -> None:
        """Wait until the Slack worker has finished everything it acked."""
        from adapters.slack.app import ADAPTER_KEY

        self.run(self.app[ADAPTER_KEY].drain(timeout=10.0))

    def replies(self) -> int:
        return len(self.slack.calls_to("chat.postMessage")) + len(self.slack.calls_to("chat.postEphemeral"))

    def note(self, kind: str, status: int) -> None:
        self.statuses.setdefault(kind, set()).add(status)


def _settings(*, home: Any, db: Any, slack: SlackStandIn) -> Settings:
    return Settings(
        _env_file=None, home=home, database_url=f"sqlite:///{db}", rules=SAMPLE_RULES, knowledge=SAMPLE_KNOWLEDGE,
        slack_bot_token=slack.bot_token, slack_signing_secret=SECRET, slack_api_url=slack.base_url,
        microsoft_app_id=APP_ID, microsoft_app_password=APP_PASSWORD, teams_local_mode=False, admin_token="test-admin-token",
    )


async def _start_client(app: Any) -> TestClient:
    client = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    return client


@pytest.fixture(scope="module")
def target(shared_home, tmp_path_factory) -> Iterator[Target]:
    """The real core and web app, Slack and Teams mounted, on its own event loop."""
    from bot.app import build_core
    from bot.server import build_web_app

    os.environ["BATON_SLACK_DEBOUNCE_SECONDS"] = "0"
    os.environ["BATON_SLACK_POST_INTERVAL_SECONDS"] = "0"
    loop = asyncio.new_event_loop()
    users = {CUSTOMER: {"name": "cora", "real_name": "Cora Jones", "display_name": "Cora", "email": "cora@smallshop.example"}}
    slack = SlackStandIn(users=users, team_id=HOME)
    loop.run_until_complete(slack.start())
    settings_ = _settings(home=shared_home, db=tmp_path_factory.mktemp("fuzz") / "baton.db", slack=slack)
    core = build_core(settings=settings_)
    app = build_web_app(core=core, settings=settings_)
    client = loop.run_until_complete(_start_client(app))
    errors = ErrorLog()
    logging.getLogger().addHandler(errors)
    try:
        yield Target(loop=loop, client=client, core=core, app=app, slack=slack, errors=errors)
    finally:
        logging.getLogger().removeHandler(errors)
        loop.run_until_complete(client.close())
        loop.run_until_complete(slack.stop())
        loop.close()
        for name in ("BATON_SLACK_DEBOUNCE_SECONDS", "BATON_SLACK_POST_INTERVAL_SECONDS"):
            os.environ.pop(name, None)


@pytest.fixture
def clean(target: Target) -> Iterator[Target]:
    """Per test: no errors logged and no reply posted for anything it sent."""
    before = target.replies()
    target.errors.records.clear()
    yield target
    target.drain()
    if target.errors.records and all(r.name == "aiohttp.server" or r.name.startswith("slack_bolt") for r in target.errors.records):
        target.errors.records.clear()  # already reported by the failing example itself
    assert not target.errors.records, target.errors.text()
    assert target.replies() == before, "a reply was posted for a request that should have been ignored"


# --- strategies ----------------------------------------------------------------------------------

json_leaf = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40)
json_values = st.recursive(json_leaf, lambda kids: st.lists(kids, max_size=5) | st.dictionaries(st.text(max_size=12), kids, max_size=5), max_leaves=20)
slack_keys = st.sampled_from(["type", "event", "actions", "view", "payload", "token", "team_id", "challenge", "event_id", "user", "channel", "text", "ts", "thread_ts", "container", "message", "trigger_id", "api_app_id", "authorizations", "subtype", "bot_id"])
slack_types = st.sampled_from(["event_callback", "url_verification", "block_actions", "view_submission", "view_closed", "shortcut", "message_action", "block_suggestion", "interactive_message", "app_rate_limited", "message", ""]) | st.text(max_size=10)


@st.composite
def slackish(draw: Any) -> dict:
    """Dicts that look like Slack payloads but are broken: real keys, wrong or missing values.

    An event never carries a string ``channel``, so there is nowhere a reply could legitimately go.
    """
    data = draw(st.dictionaries(slack_keys, json_values, max_size=8))
    if draw(st.booleans()):
        data["type"] = draw(slack_types)
    if data.get("type") == "event_callback" and draw(st.booleans()):
        event = draw(st.dictionaries(slack_keys, json_values, max_size=8))
        event["type"] = draw(st.sampled_from(["message", "app_mention", "member_joined_channel", "reaction_added"]) | st.text(max_size=8))
        event["channel"] = draw(st.none() | st.integers() | st.lists(st.text(max_size=4), max_size=2))
        data["event"] = event
    if isinstance(data.get("event"), dict) and isinstance(data["event"].get("channel"), str):
        del data["event"]["channel"]
    return data


def json_bytes(value: Any) -> bytes:
    return json.dumps(value).encode()


json_bodies = json_values.map(json_bytes) | slackish().map(json_bytes)
form_bodies = (
    slackish().map(lambda d: urlencode({"payload": json.dumps(d)}).encode())
    | json_values.map(lambda v: urlencode({"payload": json.dumps(v)}).encode())
    | st.dictionaries(st.text(max_size=10), st.text(max_size=30), max_size=5).map(lambda d: urlencode(d).encode())
    | st.text(max_size=80).map(lambda t: ("payload=" + t).encode("utf-8", "surrogatepass"))
)
any_bodies = st.binary(max_size=2048) | json_bodies | form_bodies
content_types = st.sampled_from([JSON_TYPE, FORM_TYPE, "text/plain", "", "application/json; charset=utf-8", "multipart/form-data; boundary=x", "application/octet-stream"])
header_names = st.sampled_from(["X-Slack-Signature", "X-Slack-Request-Timestamp", "X-Slack-Retry-Num", "X-Slack-Retry-Reason", "Content-Type", "Authorization", "Content-Encoding", "Transfer-Encoding", "Accept", "X-Forwarded-For"]) | st.from_regex(r"\AX-[A-Za-z0-9-]{1,20}\Z")
header_values = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=60)


# --- Slack: unsigned, forged, stale, replayed ------------------------------------------------------


@fuzz_settings(1500)
@given(body=any_bodies, content_type=content_types, with_timestamp=st.booleans())
def test_unsigned_slack_requests_get_401(clean, body, content_type, with_timestamp):
    headers = {"Content-Type": content_type} | ({"X-Slack-Request-Timestamp": str(int(time.time()))} if with_timestamp else {})
    status, _ = clean.post("/slack/events", body=body, headers=headers)
    assert status == 401


@fuzz_settings(1500)
@given(body=any_bodies, content_type=content_types, secret=st.text(min_size=1, max_size=40).filter(lambda s: s != SECRET), signature=st.none() | header_values)
def test_forged_slack_signatures_get_401(clean, body, content_type, secret, signature):
    headers = sign(body, secret=secret, content_type=content_type)
    if signature is not None:
        headers["X-Slack-Signature"] = signature
    status, _ = clean.post("/slack/events", body=body, headers=headers)
    assert status == 401


@fuzz_settings(1000)
@given(body=any_bodies, content_type=content_types, age=st.integers(min_value=330, max_value=10**9) | st.integers(min_value=-(10**9), max_value=-330))
def test_stale_or_future_correctly_signed_requests_get_401(clean, body, content_type, age):
    """More than 5 minutes off (with a 30 s margin: on a loaded machine a request can take
    seconds to arrive, which moves a 301 s-future timestamp back inside the window)."""
    headers = sign(body, timestamp=int(time.time()) - age, content_type=content_type)
    status, _ = clean.post("/slack/events", body=body, headers=headers)
    assert status == 401


@fuzz_settings(500)
@given(body=json_bodies | form_bodies, minutes=st.integers(min_value=6, max_value=60 * 24 * 30))
def test_replayed_request_with_its_original_old_signature_gets_401(clean, body, minutes):
    """An attacker replays a captured request verbatim: the same signature and old timestamp."""
    captured = sign(body, timestamp=int(time.time()) - minutes * 60, content_type=JSON_TYPE)
    for _ in range(2):
        status, _ = clean.post("/slack/events", body=body, headers=captured)
        assert status == 401


# --- Slack: correctly signed garbage -------------------------------------------------------------


@fuzz_settings(1500)
@given(body=st.binary(max_size=2048) | json_bodies, content_type=content_types)
def test_signed_garbage_is_rejected_or_ignored_never_answered(clean, body, content_type):
    status, _ = clean.post("/slack/events", body=body, headers=sign(body, content_type=content_type))
    clean.note("signed-garbage", status)
    assert status in (200, 400, 404), status


@fuzz_settings(1500)
@given(body=form_bodies)
def test_signed_forms_with_or_without_payload_are_rejected_or_ignored(clean, body):
    status, _ = clean.post("/slack/events", body=body, headers=sign(body, content_type=FORM_TYPE))
    clean.note("signed-form", status)
    assert status in (200, 400, 404), status


@fuzz_settings(800)
@given(body=any_bodies, headers=st.dictionaries(header_names, header_values, max_size=6), signed=st.booleans())
def test_random_headers_never_break_the_door(clean, body, headers, signed):
    final = dict(headers)
    if signed:
        final |= {k: v for k, v in sign(body, content_type=headers.get("Content-Type", JSON_TYPE)).items() if k != "Content-Type"}
    final.pop("Transfer-Encoding", None)  # aiohttp's client owns framing
    final.pop("Content-Encoding", None) if signed else None
    status, _ = clean.post("/slack/events", body=body, headers=final)
    clean.note("random-headers", status)
    assert status < 500, status
    if not signed:
        assert status in (400, 401), status


@fuzz_settings(40)
@given(extra=st.integers(min_value=1, max_value=64 * 1024), signed=st.booleans(), path=st.sampled_from(["/slack/events", "/api/messages"]))
def test_oversize_bodies_get_413(clean, extra, signed, path):
    body = b"{" + b" " * (MAX_BODY + extra) + b"}"
    headers = (sign(body, content_type=JSON_TYPE) if signed else {"Content-Type": JSON_TYPE}) | {"Authorization": "Bearer x"}
    status, _ = clean.post(path, body=body, headers=headers)
    assert status == 413


# --- Teams -------------------------------------------------------------------------------------


def _activity(draw: Any) -> dict:
    activity = {
        "type": draw(st.sampled_from(["message", "invoke", "conversationUpdate", "messageReaction", "event"]) | st.text(max_size=8)),
        "id": draw(st.text(max_size=12)), "channelId": draw(st.sampled_from(["msteams", "emulator", ""]) | st.text(max_size=8)),
        "serviceUrl": "http://127.0.0.1:9/", "from": {"id": draw(st.text(max_size=12)), "name": "x"},
        "conversation": {"id": draw(st.text(max_size=12))}, "recipient": {"id": f"28:{APP_ID}"}, "text": draw(st.text(max_size=40)),
    }
    extra = draw(st.dictionaries(st.sampled_from(["value", "entities", "attachments", "channelData", "replyToId", "name"]), json_values, max_size=3))
    return activity | extra


activities = st.composite(_activity)()
teams_bodies = activities.map(json_bytes) | json_bodies | st.binary(max_size=1024)
garbage_tokens = (
    header_values
    | header_values.map(lambda v: f"Bearer {v}")
    | st.builds(lambda iss, key, aud: "Bearer " + jwt.encode({"iss": iss, "aud": aud, "exp": int(time.time()) + 600, "serviceurl": "http://127.0.0.1:9/"}, key, algorithm="HS256"),
                st.sampled_from(["https://evil.example", "", "https://sts.windows.net/x/"]) | st.text(max_size=20), st.text(min_size=32, max_size=40), st.sampled_from([APP_ID, "other"]))
)


@fuzz_settings(1200)
@given(body=teams_bodies, content_type=content_types)
def test_teams_without_a_token_gets_401(clean, body, content_type):
    status, _ = clean.post("/api/messages", body=body, headers={"Content-Type": content_type})
    assert status == 401


@fuzz_settings(1000)
@given(activity=activities, token=garbage_tokens)
def test_teams_with_a_garbage_token_gets_401(clean, activity, token):
    status, _ = clean.post("/api/messages", body=json_bytes(activity), headers={"Content-Type": JSON_TYPE, "Authorization": token})
    clean.note("teams-garbage-token", status)
    assert status == 401, status  # unauthenticated is 401 whatever the body looks like


@fuzz_settings(500)
@given(body=json_bodies | st.binary(max_size=1024), token=garbage_tokens)
def test_teams_garbage_body_and_token_is_refused(clean, body, token):
    status, _ = clean.post("/api/messages", body=body, headers={"Content-Type": JSON_TYPE, "Authorization": token})
    assert status in (400, 401), status


# --- and afterwards it still works -----------------------------------------------------------------


def test_after_the_fuzzing_a_valid_signed_message_is_still_answered(target):
    """Runs last in this module: the app survived everything above and answers a real question."""
    target.errors.records.clear()
    event = target.slack.message_event(channel=HELP, user=CUSTOMER, text="How do I add my company logo to invoices?")
    event |= {"team": HOME, "user_team": HOME, "source_team": HOME}
    body = json_bytes(target.slack.event_callback(copy.deepcopy(event)))
    before = len(target.slack.calls_to("chat.postMessage"))
    status, _ = target.post("/slack/events", body=body, headers=sign(body, content_type=JSON_TYPE))
    assert status == 200
    target.drain()
    replies = target.slack.calls_to("chat.postMessage")[before:]
    assert len(replies) == 1 and "logo" in json.dumps(replies[0].args).lower()
    assert not target.errors.records, target.errors.text()
