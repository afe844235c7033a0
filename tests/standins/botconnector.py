"""A local stand-in for the Bot Framework Connector service, as Microsoft Teams runs it.

botbuilder sends every outbound activity (replies, proactive messages, updates,
deletions) to the ``serviceUrl`` carried by the incoming activity or the stored
``ConversationReference``.  Point that URL at :class:`BotConnectorStandIn` and the
bot's traffic stays on 127.0.0.1, where a test can read it back::

    connector = BotConnectorStandIn()
    await connector.start()
    activity = teams_message(text="hi", conversation_id="a:1", from_id="29:u",
                             from_name="Ada", tenant_id="t", service_url=connector.service_url)
    ...  # post `activity` to the bot
    [reply] = await connector.wait_for(count=1)
    await connector.stop()

Notes (see docs in /work/shared/notes/platform-testing.md):

* botbuilder's outbound calls use msrest + requests in a thread pool: set
  ``NO_PROXY=127.0.0.1,localhost`` when a proxy is configured.
* With an empty app id the bot sends no Authorization header; pass
  ``expected_token=`` to make the stand-in insist on ``Bearer <token>``.

The module also builds incoming Teams activities (:func:`teams_message`,
:func:`teams_invoke_action_execute`) shaped like the ones Teams really posts.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable

from aiohttp import web

__all__ = [
    "BotConnectorStandIn",
    "RecordedActivity",
    "RecordedRequest",
    "teams_message",
    "teams_invoke_action_execute",
    "TEAMS_CHANNEL_ID",
]

TEAMS_CHANNEL_ID = "msteams"
_CONVERSATION_TYPES = ("personal", "groupChat", "channel")
_ERROR_CODES = {
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    412: "PreconditionFailed",
    429: "TooManyRequests",
    500: "ServiceError",
    502: "BadGateway",
    503: "ServiceUnavailable",
}
_last_activity_id = 0


@dataclass(frozen=True)
class RecordedActivity:
    """One activity the bot sent, updated or deleted through the connector.

    ``method`` is ``POST`` (send or reply), ``PUT`` (update) or ``DELETE``;
    ``at`` is ``time.monotonic()`` when the stand-in received it; ``activity_id``
    is the id the stand-in assigned (POST) or the id targeted (PUT/DELETE).
    """

    conversation_id: str
    activity: dict
    reply_to_id: str | None
    method: str
    at: float
    activity_id: str | None = None
    authorization: str | None = None

    @property
    def text(self) -> str | None:
        """The activity's ``text``, if any."""
        return self.activity.get("text")

    @property
    def type(self) -> str | None:
        """The activity's ``type`` (``message``, ``typing``, ...)."""
        return self.activity.get("type")


@dataclass(frozen=True)
class RecordedRequest:
    """Any HTTP request the stand-in saw, including rejected and failed ones."""

    method: str
    path: str
    body: Any
    headers: dict[str, str]
    status: int
    at: float


@dataclass
class _Fault:
    """An injected failure for the next request(s)."""

    status: int
    retry_after: float | None
    remaining: int
    method: str | None = None  # only requests with this HTTP method fail (None: any)


@dataclass
class _State:
    """Mutable recording state, kept apart so ``reset()`` is trivial."""

    activities: list[RecordedActivity] = field(default_factory=list)
    requests: list[RecordedRequest] = field(default_factory=list)
    conversations_created: list[dict] = field(default_factory=list)
    faults: list[_Fault] = field(default_factory=list)


class BotConnectorStandIn:
    """A Bot Framework Connector (``/v3/conversations/...``) served on 127.0.0.1.

    Use as ``async with BotConnectorStandIn() as connector:`` or call
    :meth:`start` / :meth:`stop`.
    """

    def __init__(self, *, expected_token: str | None = None, host: str = "127.0.0.1") -> None:
        """Create a stopped stand-in.

        :param expected_token: when set, every request must carry
            ``Authorization: Bearer <expected_token>`` or gets 401.
        :param host: loopback address to bind.
        """
        self.expected_token = expected_token
        self._host = host
        self._state = _State()
        self._members: dict[str, list[dict]] = {}
        self.missing_conversations: set[str] = set()  # channel ids Teams does not know: 404 ConversationNotFound
        self._runner: web.AppRunner | None = None
        self._changed: asyncio.Event | None = None
        self.service_url = ""

    # ----------------------------------------------------------------- lifecycle
    async def start(self) -> None:
        """Bind a free port and start serving."""
        self._changed = asyncio.Event()
        self._runner = web.AppRunner(self._build_app(), shutdown_timeout=1.0, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.service_url = f"http://{self._host}:{port}/"

    async def stop(self) -> None:
        """Stop serving; recorded activities stay readable."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> "BotConnectorStandIn":
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # ----------------------------------------------------------------- reading
    @property
    def activities(self) -> list[RecordedActivity]:
        """Everything sent, updated or deleted, in arrival order."""
        return self._state.activities

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every HTTP request, including rejected (401) and failed (injected) ones."""
        return self._state.requests

    @property
    def conversations_created(self) -> list[dict]:
        """The ``ConversationParameters`` bodies of ``POST /v3/conversations``."""
        return self._state.conversations_created

    def sent_to(self, conversation_id: str) -> list[dict]:
        """Activities POSTed (sent or replied) to ``conversation_id``, oldest first."""
        return [
            rec.activity
            for rec in self._state.activities
            if rec.method == "POST" and rec.conversation_id == conversation_id
        ]

    async def wait_for(
        self,
        *,
        count: int = 1,
        timeout: float = 5.0,
        predicate: Callable[[RecordedActivity], bool] | None = None,
    ) -> list[RecordedActivity]:
        """Wait until at least ``count`` recorded activities match ``predicate``.

        Returns all matching activities.  Raises ``TimeoutError`` describing what
        was recorded when the deadline passes.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            matching = [rec for rec in self._state.activities if predicate is None or predicate(rec)]
            if len(matching) >= count:
                return matching
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(self._describe_shortfall(count, len(matching), timeout))
            await self._wait_for_change(remaining)

    async def _wait_for_change(self, timeout: float) -> None:
        """Sleep until something is recorded or ``timeout`` passes."""
        assert self._changed is not None, "BotConnectorStandIn.start() was not called"
        self._changed.clear()
        try:
            await asyncio.wait_for(self._changed.wait(), timeout)
        except TimeoutError:
            pass

    def _describe_shortfall(self, wanted: int, got: int, timeout: float) -> str:
        """A readable timeout message listing what did arrive."""
        seen = [
            f"{rec.method} {rec.conversation_id} type={rec.type} text={rec.text!r}"
            for rec in self._state.activities
        ]
        return (
            f"BotConnectorStandIn: wanted {wanted} matching activities within {timeout}s, "
            f"got {got}. Recorded: {seen or 'nothing'}; "
            f"requests: {[(r.method, r.path, r.status) for r in self._state.requests]}"
        )

    # ----------------------------------------------------------------- configuring
    def fail_next(self, *, status: int = 500, retry_after: float | None = None, times: int = 1, method: str | None = None) -> None:
        """Answer the next ``times`` requests (with ``method``: only those) with ``status``
        (and ``Retry-After``).

        Failed requests are listed in :attr:`requests` but not in :attr:`activities`.
        """
        if times < 1:
            raise ValueError("times must be >= 1")
        self._state.faults.append(_Fault(status=status, retry_after=retry_after, remaining=times, method=method))

    def clear_faults(self) -> None:
        """Forget injected failures that were not used up."""
        self._state.faults.clear()

    def add_member(
        self,
        conversation_id: str,
        *,
        id: str,  # noqa: A002 - the schema's field name
        name: str,
        aad_object_id: str | None = None,
        email: str | None = None,
        user_principal_name: str | None = None,
        tenant_id: str | None = None,
        user_role: str = "user",
    ) -> dict:
        """Register a member returned by the ``/members`` endpoints (Teams' TeamsChannelAccount shape)."""
        member = {"id": id, "name": name, "userRole": user_role}
        optional = {
            "aadObjectId": aad_object_id,
            "objectId": aad_object_id,
            "email": email,
            "userPrincipalName": user_principal_name,
            "tenantId": tenant_id,
        }
        member.update({key: value for key, value in optional.items() if value is not None})
        self._members.setdefault(conversation_id, []).append(member)
        return member

    def reset(self) -> None:
        """Forget recorded traffic and pending faults (members are kept)."""
        self._state = _State()

    # ----------------------------------------------------------------- server
    def _build_app(self) -> web.Application:
        """The aiohttp application with the connector routes."""
        app = web.Application(middlewares=[self._gate])
        conv = "/v3/conversations/{conversation_id}"
        app.router.add_post("/v3/conversations", self._create_conversation)
        app.router.add_post(f"{conv}/activities", self._send_activity)
        app.router.add_post(f"{conv}/activities/{{activity_id}}", self._send_activity)
        app.router.add_put(f"{conv}/activities/{{activity_id}}", self._update_activity)
        app.router.add_delete(f"{conv}/activities/{{activity_id}}", self._delete_activity)
        app.router.add_get(f"{conv}/members", self._get_members)
        app.router.add_get(f"{conv}/pagedmembers", self._get_paged_members)
        app.router.add_get(f"{conv}/members/{{member_id}}", self._get_member)
        return app

    @web.middleware
    async def _gate(self, request: web.Request, handler: Callable) -> web.StreamResponse:
        """Record the request, then apply auth checks and injected faults."""
        body = await _read_json(request)
        response = self._check_auth(request) or self._not_found(request, body) or self._take_fault(request.method)
        try:
            if response is None:
                response = await handler(request)
        except web.HTTPException as exc:  # unknown route or method: record, then let aiohttp answer
            self._record_request(request, body=body, status=exc.status)
            raise
        self._record_request(request, body=body, status=response.status)
        return response

    def _record_request(self, request: web.Request, *, body: Any, status: int) -> None:
        """Append to :attr:`requests`."""
        self._state.requests.append(
            RecordedRequest(
                method=request.method,
                path=request.path,
                body=body,
                headers=dict(request.headers),
                status=status,
                at=time.monotonic(),
            )
        )

    def _check_auth(self, request: web.Request) -> web.Response | None:
        """401 unless the expected bearer token is present (when one is configured)."""
        if self.expected_token is None:
            return None
        if request.headers.get("Authorization") == f"Bearer {self.expected_token}":
            return None
        return web.json_response({"message": "Authorization has been denied for this request."}, status=401)

    def _not_found(self, request: web.Request, body: Any) -> web.Response | None:
        """Teams' 404 for a conversation or channel that does not exist (a placeholder id)."""
        conversation = request.match_info.get("conversation_id", "").split(";")[0]
        channel = ((body or {}).get("channelData") or {}).get("channel", {}).get("id", "") if isinstance(body, dict) else ""
        if {conversation, channel} & self.missing_conversations:
            return _error(404, "Conversation not found.", code="ConversationNotFound")
        return None

    def _take_fault(self, method: str) -> web.Response | None:
        """Consume one injected fault, if any is pending for this method."""
        fault = next((f for f in self._state.faults if f.method in (None, method)), None)
        if fault is None:
            return None
        fault.remaining -= 1
        if fault.remaining <= 0:
            self._state.faults.remove(fault)
        headers = {} if fault.retry_after is None else {"Retry-After": _format_seconds(fault.retry_after)}
        return _error(fault.status, "Injected failure from BotConnectorStandIn", headers=headers)

    def _record(self, request: web.Request, *, activity: dict, activity_id: str | None) -> None:
        """Append a RecordedActivity and wake waiters."""
        conversation_id = request.match_info["conversation_id"]
        reply_to_id = request.match_info.get("activity_id") if request.method == "POST" else None
        self._state.activities.append(
            RecordedActivity(
                conversation_id=conversation_id,
                activity=activity,
                reply_to_id=reply_to_id or activity.get("replyToId"),
                method=request.method,
                at=time.monotonic(),
                activity_id=activity_id,
                authorization=request.headers.get("Authorization"),
            )
        )
        self._notify()

    def _notify(self) -> None:
        """Wake anything blocked in :meth:`wait_for`."""
        if self._changed is not None:
            self._changed.set()

    async def _create_conversation(self, request: web.Request) -> web.Response:
        """``POST /v3/conversations``: returns a ConversationResourceResponse."""
        params = await _read_json(request)
        if not isinstance(params, dict):
            return _error(400, "ConversationParameters body is required", code="BadArgument")
        self._state.conversations_created.append(params)
        activity = params.get("activity")
        activity_id = _new_activity_id() if activity else None
        conversation_id = _new_conversation_id(params, activity_id)
        if activity:
            self._state.activities.append(
                RecordedActivity(
                    conversation_id=conversation_id,
                    activity=activity,
                    reply_to_id=None,
                    method="POST",
                    at=time.monotonic(),
                    activity_id=activity_id,
                    authorization=request.headers.get("Authorization"),
                )
            )
            self._notify()
        body = {"id": conversation_id, "activityId": activity_id, "serviceUrl": self.service_url}
        return web.json_response(body, status=201)

    async def _send_activity(self, request: web.Request) -> web.Response:
        """``POST .../activities[/{activityId}]``: send or reply; returns ``{"id"}``."""
        activity = await _read_json(request)
        if not isinstance(activity, dict) or not activity.get("type"):
            return _error(400, "An activity with a type is required", code="BadArgument")
        activity_id = _new_activity_id()
        self._record(request, activity=activity, activity_id=activity_id)
        return web.json_response({"id": activity_id}, status=201)

    async def _update_activity(self, request: web.Request) -> web.Response:
        """``PUT .../activities/{activityId}``: update; returns ``{"id"}``."""
        activity = await _read_json(request)
        if not isinstance(activity, dict):
            return _error(400, "An activity is required", code="BadArgument")
        activity_id = request.match_info["activity_id"]
        self._record(request, activity=activity, activity_id=activity_id)
        return web.json_response({"id": activity_id})

    async def _delete_activity(self, request: web.Request) -> web.Response:
        """``DELETE .../activities/{activityId}``."""
        activity_id = request.match_info["activity_id"]
        self._record(request, activity={"id": activity_id}, activity_id=activity_id)
        return web.Response(status=200)

    async def _get_members(self, request: web.Request) -> web.Response:
        """``GET .../members``: the members registered with :meth:`add_member`."""
        return web.json_response(self._members.get(request.match_info["conversation_id"], []))

    async def _get_paged_members(self, request: web.Request) -> web.Response:
        """``GET .../pagedmembers``: one page holding every registered member."""
        members = self._members.get(request.match_info["conversation_id"], [])
        return web.json_response({"members": members, "continuationToken": None})

    async def _get_member(self, request: web.Request) -> web.Response:
        """``GET .../members/{memberId}``: one member, or Teams' 404."""
        member_id = request.match_info["member_id"]
        for member in self._members.get(request.match_info["conversation_id"], []):
            if member_id in (member["id"], member.get("aadObjectId")):
                return web.json_response(member)
        return _error(404, "The member was not found in the conversation.", code="MemberNotFoundInConversation")


# --------------------------------------------------------------------- helpers
async def _read_json(request: web.Request) -> Any:
    """The request's JSON body, ``None`` when absent or not JSON."""
    if not request.body_exists:  # (can_read_body turns False once the body was read)
        return None
    try:
        return await request.json()
    except ValueError:
        return None


def _error(status: int, message: str, *, code: str | None = None, headers: dict | None = None) -> web.Response:
    """A Bot Framework ``ErrorResponse`` body."""
    body = {"error": {"code": code or _ERROR_CODES.get(status, "ServiceError"), "message": message}}
    return web.json_response(body, status=status, headers=headers)


def _format_seconds(value: float) -> str:
    """``Retry-After`` text: an integer when the value is whole."""
    return str(int(value)) if float(value).is_integer() else str(value)


def _new_activity_id() -> str:
    """A Teams-looking message id: milliseconds since the epoch, strictly increasing."""
    global _last_activity_id
    _last_activity_id = max(_last_activity_id + 1, int(time.time() * 1000))
    return str(_last_activity_id)


def _new_conversation_id(params: dict, activity_id: str | None) -> str:
    """A Teams-looking id: a thread in a channel, or a new 1:1 / group chat."""
    channel = (params.get("channelData") or {}).get("channel") or {}
    if channel.get("id") and activity_id:
        return f"{channel['id']};messageid={activity_id}"
    if params.get("isGroup"):
        return f"19:{uuid.uuid4().hex}@thread.v2"
    return f"a:1{uuid.uuid4().hex}"


# --------------------------------------------------------------------- incoming activities
def _now_iso() -> str:
    """UTC timestamp in the format Teams uses (milliseconds, ``Z``)."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _teams_conversation(*, conversation_id: str, conversation_type: str, tenant_id: str) -> dict:
    """The ``conversation`` object of an incoming Teams activity."""
    if conversation_type not in _CONVERSATION_TYPES:
        raise ValueError(f"conversation_type must be one of {_CONVERSATION_TYPES}, not {conversation_type!r}")
    conversation = {"conversationType": conversation_type, "tenantId": tenant_id, "id": conversation_id}
    if conversation_type != "personal":
        conversation["isGroup"] = True
    return conversation


def _teams_channel_data(
    *, conversation_id: str, conversation_type: str, tenant_id: str, channel_id: str | None, team_id: str | None
) -> dict:
    """``channelData``: the tenant, plus team and channel for channel conversations."""
    data: dict[str, Any] = {"tenant": {"id": tenant_id}}
    if conversation_type == "channel" or channel_id or team_id:
        channel_id = channel_id or conversation_id.split(";", 1)[0]
        team_id = team_id or channel_id  # a team's General channel shares the team's id
        data.update(
            {
                "teamsChannelId": channel_id,
                "teamsTeamId": team_id,
                "channel": {"id": channel_id},
                "team": {"id": team_id},
            }
        )
    return data


def _teams_activity(
    *,
    activity_type: str,
    conversation_id: str,
    conversation_type: str,
    from_id: str,
    from_name: str,
    aad_object_id: str | None,
    tenant_id: str,
    service_url: str,
    reply_to_id: str | None,
    bot_id: str,
    bot_name: str,
    channel_id: str | None,
    team_id: str | None,
    activity_id: str | None,
    locale: str,
) -> dict:
    """Fields every incoming Teams activity carries."""
    sender = {"id": from_id, "name": from_name}
    if aad_object_id:
        sender["aadObjectId"] = aad_object_id
    now = _now_iso()
    activity = {
        "type": activity_type,
        "id": activity_id or _new_activity_id(),
        "timestamp": now,
        "localTimestamp": now.replace("Z", "+00:00"),
        "channelId": TEAMS_CHANNEL_ID,
        "serviceUrl": service_url,
        "from": sender,
        "conversation": _teams_conversation(
            conversation_id=conversation_id, conversation_type=conversation_type, tenant_id=tenant_id
        ),
        "recipient": {"id": bot_id, "name": bot_name},
        "entities": [{"type": "clientInfo", "locale": locale, "country": "US", "platform": "Web", "timezone": "UTC"}],
        "channelData": _teams_channel_data(
            conversation_id=conversation_id,
            conversation_type=conversation_type,
            tenant_id=tenant_id,
            channel_id=channel_id,
            team_id=team_id,
        ),
        "locale": locale,
        "localTimezone": "UTC",
    }
    if reply_to_id:
        activity["replyToId"] = reply_to_id
    return activity


def teams_message(
    *,
    text: str,
    conversation_id: str,
    conversation_type: str = "personal",
    from_id: str,
    from_name: str,
    aad_object_id: str | None = None,
    tenant_id: str,
    service_url: str,
    reply_to_id: str | None = None,
    mention_bot: bool = False,
    bot_id: str = "28:baton-bot",
    bot_name: str = "Baton",
    channel_id: str | None = None,
    team_id: str | None = None,
    activity_id: str | None = None,
    value: dict | None = None,
    locale: str = "en-US",
) -> dict:
    """An incoming Teams ``message`` activity as a Bot Framework JSON dict.

    ``conversation_type`` is ``personal``, ``groupChat`` or ``channel``.  For a
    channel, ``channel_id`` defaults to ``conversation_id`` without its
    ``;messageid=`` suffix and ``team_id`` to ``channel_id``; for a reply in a
    channel thread pass ``conversation_id="19:...;messageid=<root>"`` and
    ``reply_to_id=<root>``.  ``mention_bot`` prefixes ``<at>Baton</at>`` to the
    text and adds the mention entity plus the ``text/html`` attachment Teams
    sends with it.  ``value`` carries an ``Action.Submit`` payload (Teams then
    sends no text when ``text`` is empty).
    """
    activity = _teams_activity(
        activity_type="message",
        conversation_id=conversation_id,
        conversation_type=conversation_type,
        from_id=from_id,
        from_name=from_name,
        aad_object_id=aad_object_id,
        tenant_id=tenant_id,
        service_url=service_url,
        reply_to_id=reply_to_id,
        bot_id=bot_id,
        bot_name=bot_name,
        channel_id=channel_id,
        team_id=team_id,
        activity_id=activity_id,
        locale=locale,
    )
    activity["textFormat"] = "plain"
    if mention_bot:
        mention = f"<at>{bot_name}</at>"
        text = f"{mention} {text}".rstrip()
        activity["entities"].insert(0, {"type": "mention", "text": mention, "mentioned": {"id": bot_id, "name": bot_name}})
        activity["attachments"] = [{"contentType": "text/html", "content": f"<p>{text}</p>"}]
    if text or value is None:
        activity["text"] = text
    if value is not None:
        activity["value"] = value
    return activity


def teams_invoke_action_execute(
    *,
    verb: str,
    data: dict,
    conversation_id: str,
    conversation_type: str = "personal",
    from_id: str,
    from_name: str,
    aad_object_id: str | None = None,
    tenant_id: str,
    service_url: str,
    reply_to_id: str | None = None,
    bot_id: str = "28:baton-bot",
    bot_name: str = "Baton",
    channel_id: str | None = None,
    team_id: str | None = None,
    activity_id: str | None = None,
    action_id: str | None = None,
    locale: str = "en-US",
) -> dict:
    """An incoming ``adaptiveCard/action`` invoke (a Universal Action ``Action.Execute``).

    ``reply_to_id`` is the id of the message carrying the card that was clicked.
    """
    activity = _teams_activity(
        activity_type="invoke",
        conversation_id=conversation_id,
        conversation_type=conversation_type,
        from_id=from_id,
        from_name=from_name,
        aad_object_id=aad_object_id,
        tenant_id=tenant_id,
        service_url=service_url,
        reply_to_id=reply_to_id,
        bot_id=bot_id,
        bot_name=bot_name,
        channel_id=channel_id,
        team_id=team_id,
        activity_id=activity_id,
        locale=locale,
    )
    action = {"type": "Action.Execute", "verb": verb, "data": data}
    if action_id:
        action["id"] = action_id
    activity["name"] = "adaptiveCard/action"
    activity["value"] = {"action": action, "trigger": "manual"}
    return activity
