"""A local fake of the Bot Framework Connector service (what Teams' `serviceUrl` points at).

It records every call and answers like the real service:

- `POST /v3/conversations` -> `{"id": <conversation id>, "activityId": ...}`
- `POST /v3/conversations/{id}/activities` -> `{"id": <activity id>}`
- `POST /v3/conversations/{id}/activities/{replyToId}` -> `{"id": ...}`; botbuilder's proactive
  `continue_conversation` posts here with an id it made up, so any reply-to id is accepted.
- `PUT /v3/conversations/{id}/activities/{activityId}` -> `{"id": activityId}`
- `GET /v3/conversations/{id}/members/{memberId}` -> the member's roster record
  (`TeamsChannelAccount`: id, name, aadObjectId, email, userPrincipalName, tenantId) for members
  added with `add_member`, found by their Teams id (`29:...`) or AAD object id; else 404
  `MemberNotFoundInConversation`. Lookups are kept in `member_calls`, apart from `sent`.

Faults are injected per call (`fail_next`): an HTTP status with the Bot Framework error body
`{"error": {"code": ..., "message": ...}}` and optional `Retry-After`, or a dropped connection
*after* the call was recorded (the send may have been accepted: in doubt). Optional rate limits
(per conversation per second, and a per-tenant budget) answer 429 like the real service.

Usage::

    async with FakeConnector() as fake:
        url = fake.url            # use as the activity's serviceUrl
        fake.fail_next(403, code="ConversationBlockedByUser")
        ...
        fake.sent                 # recorded calls that were accepted
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes.server import LocalServer


@dataclass
class Fault:
    status: int = 500
    code: str = ""
    message: str = ""
    retry_after: float | None = None
    drop: bool = False  # close the connection after recording, without any answer
    method: str | None = None  # only calls with this method ("POST", "PUT")
    conversation_id: str | None = None  # only calls to this conversation
    times: int = 1
    accept: bool = False  # perform the call first (the activity exists), then fail/drop/stall
    delay: float = 0.0  # with accept: answer this late (the client times out meanwhile)


@dataclass
class Call:
    method: str
    path: str
    conversation_id: str | None
    activity_id: str | None  # reply-to id (POST) or updated id (PUT)
    body: Any
    headers: dict[str, str]
    status: int = 200
    response_id: str | None = None
    fault: Fault | None = None
    after_accept: Fault | None = None  # accepted, then answered with this fault
    at: float = field(default_factory=time.monotonic)  # arrival (monotonic seconds)

    @property
    def kind(self) -> str:
        if self.conversation_id is None:
            return "create_conversation"
        if self.method == "PUT":
            return "update"
        return "reply" if self.activity_id else "send"

    @property
    def attachments(self) -> list[dict[str, Any]]:
        body = self.body if isinstance(self.body, dict) else {}
        return list(body.get("attachments") or [])

    @property
    def card(self) -> dict[str, Any] | None:
        for a in self.attachments:
            if a.get("contentType") == "application/vnd.microsoft.card.adaptive":
                content = a.get("content")
                return content if isinstance(content, dict) else None
        return None

    @property
    def text(self) -> str | None:
        return self.body.get("text") if isinstance(self.body, dict) else None


@dataclass
class _Limits:
    per_conversation_per_second: int | None = None
    tenant_budget: int | None = None  # calls per tenant per window
    tenant_window: float = 1.0
    retry_after: float = 1.0


class FakeConnector(LocalServer):
    def __init__(self, *, host: str = "127.0.0.1") -> None:
        self.host = host
        self.calls: list[Call] = []
        self._faults: list[Fault] = []
        self._ids = itertools.count(1)
        self._limits = _Limits()
        self._conv_times: dict[str, deque[float]] = defaultdict(deque)
        self._tenant_times: dict[str, deque[float]] = defaultdict(deque)
        self.delay: float = 0.0  # seconds to wait before answering (timeouts)
        self.p429 = 0.0  # share of activity calls answered 429 at random (on top of the limits)
        self.random_retry_after: tuple[float, ...] = (1.0,)
        self._rng = random.Random(7)
        self.members: dict[str, dict[str, Any]] = {}  # by Teams id and by AAD object id
        self.member_calls: list[tuple[str, str]] = []  # (conversation id, member id) looked up

    # ---- lifecycle -------------------------------------------------------------------------
    def make_app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v3/conversations", self._create_conversation)
        app.router.add_post("/v3/conversations/{conv}/activities", self._activity)
        app.router.add_post("/v3/conversations/{conv}/activities/{act}", self._activity)
        app.router.add_put("/v3/conversations/{conv}/activities/{act}", self._activity)
        app.router.add_get("/v3/conversations/{conv}/members/{member}", self._member)
        return app

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    # ---- configuration ---------------------------------------------------------------------
    def fail_next(
        self,
        status: int = 500,
        *,
        code: str = "",
        message: str = "",
        retry_after: float | None = None,
        drop: bool = False,
        method: str | None = None,
        conversation_id: str | None = None,
        times: int = 1,
        accept: bool = False,
        delay: float = 0.0,
    ) -> Fault:
        """The next matching call fails. `accept=True`: the activity is created first (it counts in
        `sent`) and only then answered with `status`, dropped (`drop`), or stalled `delay` s."""
        fault = Fault(status, code, message, retry_after, drop, method, conversation_id, times, accept, delay)
        self._faults.append(fault)
        return fault

    def rate_limit(
        self,
        *,
        per_conversation_per_second: int | None = 7,
        tenant_budget: int | None = None,
        tenant_window: float = 1.0,
        retry_after: float = 1.0,
    ) -> None:
        self._limits = _Limits(per_conversation_per_second, tenant_budget, tenant_window, retry_after)

    def random_429(self, share: float, retry_after: tuple[float, ...] = (1.0,), seed: int = 7) -> None:
        """Answer `share` of activity calls 429 with a Retry-After drawn from `retry_after`."""
        self.p429 = share
        self.random_retry_after = retry_after
        self._rng = random.Random(seed)

    def add_member(self, teams_id: str, aad: str, name: str, email: str | None, upn: str | None = None,
                   tenant: str | None = None) -> dict[str, Any]:
        """A person the tenant's roster knows (what Teams answers for a conversation member)."""
        record = {"id": teams_id, "name": name, "aadObjectId": aad, "givenName": name.split()[0],
                  "surname": name.split()[-1], "userPrincipalName": upn or email, "tenantId": tenant,
                  "userRole": "user"}
        if email is not None:
            record["email"] = email
        self.members[teams_id] = self.members[aad] = record
        return record

    def reset(self) -> None:
        self.calls.clear()
        self._faults.clear()

    # ---- views -----------------------------------------------------------------------------
    @property
    def sent(self) -> list[Call]:
        """Accepted calls that created or changed an activity (sends, replies, updates)."""
        return [c for c in self.calls if c.status < 300 and c.fault is None]

    def sent_to(self, conversation_id: str) -> list[Call]:
        return [c for c in self.sent if c.conversation_id == conversation_id]

    # ---- handlers --------------------------------------------------------------------------
    async def _create_conversation(self, request: web.Request) -> web.StreamResponse:
        body = await _json(request)
        call = Call("POST", request.path, None, None, body, dict(request.headers))
        resp = await self._answer(request, call, tenant=_tenant_of(body))
        if resp is not None:
            return resp
        conv = f"a:conv-{next(self._ids)}"
        call.response_id = conv
        self.calls.append(call)
        return web.json_response({"id": conv, "activityId": f"act-{next(self._ids)}"})

    async def _activity(self, request: web.Request) -> web.StreamResponse:
        body = await _json(request)
        conv = request.match_info["conv"]
        act = request.match_info.get("act")
        call = Call(request.method, request.path, conv, act, body, dict(request.headers))
        resp = await self._answer(request, call, tenant=_tenant_of(body))
        if resp is not None:
            return resp
        new_id = act if request.method == "PUT" and act else f"act-{next(self._ids)}"
        call.response_id = new_id
        self.calls.append(call)
        after = call.after_accept
        if after is not None:
            if after.delay:
                await asyncio.sleep(after.delay)
            if after.drop:
                transport = request.transport
                if transport is not None:
                    transport.abort()
                raise asyncio.CancelledError
            if after.status >= 400:
                return _error(after.status, after.code, after.message, after.retry_after)
        return web.json_response({"id": new_id}, status=200 if request.method == "PUT" else 201)

    async def _member(self, request: web.Request) -> web.StreamResponse:
        conv, member = request.match_info["conv"], request.match_info["member"]
        self.member_calls.append((conv, member))
        # only faults aimed at GET (fail_next(..., method="GET")): the send faults stay for the sends
        fault = next((f for f in self._faults if f.method == "GET"), None)
        if fault is not None:
            fault.times -= 1
            if fault.times <= 0:
                self._faults.remove(fault)
            return _error(fault.status, fault.code, fault.message, fault.retry_after)
        record = self.members.get(member)
        if record is None:
            return _error(404, "MemberNotFoundInConversation", "The member is not in this conversation.", None)
        return web.json_response(record)

    async def _answer(self, request: web.Request, call: Call, tenant: str | None) -> web.StreamResponse | None:
        """A fault or rate-limit answer for this call, or None to accept it."""
        if self.delay:
            await asyncio.sleep(self.delay)
        fault = self._take_fault(call)
        if fault is not None and fault.accept and call.conversation_id is not None:
            call.after_accept = fault
            return None
        if fault is not None:
            call.fault = fault
            call.status = 0 if fault.drop else fault.status
            self.calls.append(call)
            if fault.drop:
                transport = request.transport
                if transport is not None:
                    transport.abort()
                raise asyncio.CancelledError  # aiohttp drops the request silently
            return _error(fault.status, fault.code, fault.message, fault.retry_after)
        if self.p429 and call.conversation_id is not None and self._rng.random() < self.p429:
            call.status = 429
            call.fault = Fault(429, "TooManyRequests", retry_after=self._rng.choice(self.random_retry_after))
            self.calls.append(call)
            return _error(429, "TooManyRequests", "random 429", call.fault.retry_after)
        limited = self._rate_limited(call.conversation_id, tenant)
        if limited:
            call.status = 429
            self.calls.append(call)
            return _error(429, "TooManyRequests", limited, self._limits.retry_after)
        return None

    def _take_fault(self, call: Call) -> Fault | None:
        for fault in self._faults:
            if fault.method and fault.method != call.method:
                continue
            if fault.conversation_id and fault.conversation_id != call.conversation_id:
                continue
            fault.times -= 1
            if fault.times <= 0:
                self._faults.remove(fault)
            return fault
        return None

    def _rate_limited(self, conversation_id: str | None, tenant: str | None) -> str | None:
        now = time.monotonic()
        lim = self._limits
        if lim.per_conversation_per_second and conversation_id:
            q = self._conv_times[conversation_id]
            while q and now - q[0] >= 1.0:
                q.popleft()
            if len(q) >= lim.per_conversation_per_second:
                return f"more than {lim.per_conversation_per_second}/s in {conversation_id}"
        if lim.tenant_budget and tenant:
            t = self._tenant_times[tenant]
            while t and now - t[0] >= lim.tenant_window:
                t.popleft()
            if len(t) >= lim.tenant_budget:
                return f"tenant {tenant} over its budget of {lim.tenant_budget}"
        if lim.per_conversation_per_second and conversation_id:
            self._conv_times[conversation_id].append(now)
        if lim.tenant_budget and tenant:
            self._tenant_times[tenant].append(now)
        return None


async def _json(request: web.Request) -> Any:
    raw = await request.read()
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return raw.decode("utf-8", "replace")


def _tenant_of(body: Any) -> str | None:
    if not isinstance(body, dict):
        return None
    tenant = ((body.get("channelData") or {}).get("tenant") or {}).get("id")
    if tenant:
        return str(tenant)
    for holder in (body.get("conversation") or {}, body):
        if isinstance(holder, dict):
            for key in ("tenantId", "tenantID"):  # botbuilder serializes `tenantID`
                if holder.get(key):
                    return str(holder[key])
    return None


def _error(status: int, code: str, message: str, retry_after: float | None) -> web.Response:
    headers = {}
    if retry_after is not None:
        headers["Retry-After"] = str(int(retry_after)) if float(retry_after).is_integer() else str(retry_after)
    body = {"error": {"code": code or _default_code(status), "message": message or f"fake connector {status}"}}
    return web.json_response(body, status=status, headers=headers)


def _default_code(status: int) -> str:
    return {
        403: "Forbidden",
        404: "ConversationNotFound",
        412: "PreconditionFailed",
        429: "TooManyRequests",
        502: "BadGateway",
        503: "ServiceUnavailable",
        504: "GatewayTimeout",
    }.get(status, "ServiceError")


__all__ = ["Call", "FakeConnector", "Fault"]
