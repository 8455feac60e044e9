"""A local fake of Slack's Web API (and response_url endpoint) for tests.

Speaks Slack's wire format: `POST|GET /api/<method>` with form, query or JSON parameters and an
`Authorization: Bearer <token>` header; answers `{"ok": true, ...}` or `{"ok": false, "error":
...}`. Every call is recorded (`calls`, `calls_to(method)`). Faults are injected per method
(`fail(method, Fault...)`, consumed in order) and optional rate limits answer 429 with
`Retry-After`.

    async with FakeSlackApi() as fake:
        fake.add_user("U1", name="ana", tz="Europe/Berlin", email="ana@example.com")
        client = AsyncWebClient(token="xoxb-test", base_url=fake.api_url)

Also `sign_request(body, secret)` signs a request body exactly as Slack does (v0 HMAC-SHA256
over `v0:{timestamp}:{body}`).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

BOT_USER_ID = "UBOT"
BOT_ID = "BBOT"
TEAM_ID = "T0001"


def sign_request(
    body: str | bytes, secret: str, timestamp: int | str | None = None
) -> dict[str, str]:
    """The `X-Slack-Request-Timestamp` / `X-Slack-Signature` headers Slack would send."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    raw = body.encode() if isinstance(body, str) else body
    base = b"v0:" + ts.encode() + b":" + raw
    sig = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sig}


@dataclass
class Fault:
    """One injected answer for the next call of a method."""

    status: int = 200
    body: dict[str, Any] | str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False  # close the connection without answering
    process: bool = False  # perform the call for real first (accepted, then dropped)
    delay: float = 0.0
    delay_after: float = 0.0  # answer this late after performing the call (a timeout after acceptance)

    @staticmethod
    def timeout_after_accept(seconds: float) -> Fault:
        return Fault(process=True, delay_after=seconds)

    @staticmethod
    def rate_limited(retry_after: int = 3) -> Fault:
        return Fault(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(retry_after)})

    @staticmethod
    def http(status: int) -> Fault:
        return Fault(status, "<html>upstream error</html>")

    @staticmethod
    def error(error: str) -> Fault:
        return Fault(200, {"ok": False, "error": error})

    @staticmethod
    def drop_after_accept() -> Fault:
        return Fault(drop=True, process=True)

    @staticmethod
    def drop_before_accept() -> Fault:
        return Fault(drop=True, process=False)

    @staticmethod
    def slow(seconds: float) -> Fault:
        return Fault(delay=seconds, process=True)


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    headers: dict[str, str]
    status: int = 200
    response: Any = None


@dataclass
class FakeUser:
    id: str
    name: str
    real_name: str = ""
    tz: str = "UTC"
    tz_offset: int = 0
    email: str | None = None
    deleted: bool = False
    is_bot: bool = False
    fields: dict[str, str] = field(default_factory=dict)  # custom profile field id -> value

    def to_json(self) -> dict[str, Any]:
        profile: dict[str, Any] = {
            "real_name": self.real_name or self.name,
            "display_name": self.name,
        }
        if self.email:
            profile["email"] = self.email
        return {
            "id": self.id,
            "team_id": TEAM_ID,
            "name": self.name,
            "real_name": self.real_name or self.name,
            "deleted": self.deleted,
            "is_bot": self.is_bot,
            "tz": self.tz,
            "tz_label": self.tz,
            "tz_offset": self.tz_offset,
            "profile": profile,
        }


def _truthy(value: Any) -> bool:
    return value in (True, 1, "1", "true", "True")


class FakeSlackApi:
    def __init__(
        self,
        token: str = "xoxb-test",
        *,
        per_channel_per_sec: float | None = None,
        workspace_per_minute: int | None = None,
        workspace_burst: int | None = None,
        workspace_tolerance: float = 0.1,
    ) -> None:
        """`workspace_per_minute` alone: a sliding 60 s window. With `workspace_burst`: a smooth
        budget (token bucket: per_minute/60 per second, up to `workspace_burst` back to back; a
        request up to `workspace_tolerance` s early is let through, as network jitter)."""
        self.token = token
        self.calls: list[Call] = []
        self.responses: list[dict[str, Any]] = []  # posts to response_url
        self._response_targets: dict[str, tuple[str, str]] = {}  # response_url token -> (channel, ts)
        self.users: dict[str, FakeUser] = {}
        self.channels: dict[str, str] = {}  # DM channel id -> user id
        self.archived: set[str] = set()
        self.messages: dict[str, list[dict[str, Any]]] = defaultdict(list)  # oldest first
        self.ephemeral: list[dict[str, Any]] = []
        self.views_opened: list[dict[str, Any]] = []
        self.views_published: list[dict[str, Any]] = []
        # files.getUploadURLExternal -> POST <upload_url> -> files.completeUploadExternal
        self.uploads: dict[str, dict[str, Any]] = {}  # file id -> {filename, length, data}
        self.files: list[dict[str, Any]] = []  # shared files: {id, title, filename, data, channel, comment}
        self._file_ids = itertools.count(1)
        self.faults: dict[str, deque[Fault]] = defaultdict(deque)
        self.per_channel_per_sec = per_channel_per_sec
        self.workspace_per_minute = workspace_per_minute
        self._last_post: dict[str, float] = {}
        self._window: deque[float] = deque()
        self.workspace_burst = workspace_burst
        self.workspace_tolerance = workspace_tolerance
        self._tat = float("-inf")
        self._ts = itertools.count(1)
        self._view_ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.app = web.Application()
        self.app.router.add_route("*", "/api/{method}", self._api)
        self.app.router.add_post("/response/{token}", self._response_url)
        self.app.router.add_post("/upload/{file_id}", self._upload)

    # --- lifecycle ---------------------------------------------------------------------
    async def start(self) -> FakeSlackApi:
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeSlackApi:  # noqa: PYI034
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/"

    def response_url(self, name: str = "r1", *, message: tuple[str, str] | None = None) -> str:
        """A response_url; `message` (channel, ts) is the message it belongs to (a block action's),
        so a `replace_original` post through it counts as an update of that message."""
        if message is not None:
            self._response_targets[name] = message
        return f"{self.base_url}/response/{name}"

    def updates_per_message(self) -> dict[tuple[str, str], int]:
        """(channel, ts) -> how many times the message was changed: accepted `chat.update` calls
        plus `replace_original` posts to a response_url that belongs to it."""
        counts: dict[tuple[str, str], int] = {}
        for c in self.calls_to("chat.update"):
            if isinstance(c.response, dict) and c.response.get("ok"):
                key = (str(c.params.get("channel")), str(c.params.get("ts")))
                counts[key] = counts.get(key, 0) + 1
        for r in self.responses:
            target = self._response_targets.get(r.get("url_token", ""))
            if target is not None and _truthy(r.get("replace_original")):
                counts[target] = counts.get(target, 0) + 1
        return counts

    # --- setup & inspection --------------------------------------------------------------
    def add_user(self, user_id: str, name: str | None = None, **kw: Any) -> FakeUser:
        user = FakeUser(id=user_id, name=name or user_id.lower(), **kw)
        self.users[user_id] = user
        return user

    def fail(self, method: str, *faults: Fault) -> None:
        self.faults[method].extend(faults)

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def posted(self, channel: str | None = None) -> list[dict[str, Any]]:
        if channel is not None:
            return list(self.messages.get(channel, []))
        return [m for msgs in self.messages.values() for m in msgs]

    def posts_by_delivery_id(self) -> dict[str, int]:
        """delivery id (the bot's message metadata) -> how many messages carrying it were posted."""
        counts: dict[str, int] = {}
        for m in self.posted():
            did = ((m.get("metadata") or {}).get("event_payload") or {}).get("delivery_id")
            if did:
                counts[did] = counts.get(did, 0) + 1
        return counts

    async def wait_for(self, method: str, count: int = 1, timeout: float = 5.0) -> list[Call]:
        """Wait until `method` has been called `count` times (work done after an ack)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            calls = self.calls_to(method)
            if len(calls) >= count:
                return calls
            await asyncio.sleep(0.01)
        raise AssertionError(f"{method} called {len(self.calls_to(method))} times, wanted {count}")

    async def wait_for_response_url(
        self, count: int = 1, timeout: float = 5.0
    ) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.responses) >= count:
                return self.responses
            await asyncio.sleep(0.01)
        raise AssertionError(f"response_url got {len(self.responses)} posts, wanted {count}")

    # --- HTTP --------------------------------------------------------------------------------
    async def _params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        raw = await request.text()
        if raw:
            if request.content_type == "application/json":
                data = json.loads(raw)
                if isinstance(data, dict):
                    params.update(data)
            else:
                params.update(dict(parse_qsl(raw, keep_blank_values=True)))
        # form-encoded clients send nested objects as JSON strings
        for key in ("blocks", "metadata", "view", "attachments"):
            if isinstance(params.get(key), str):
                try:
                    params[key] = json.loads(params[key])
                except ValueError:
                    pass
        return params

    async def _api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        params = await self._params(request)
        headers = dict(request.headers)
        call = Call(method, params, headers)
        self.calls.append(call)

        auth = request.headers.get("Authorization", "")
        token = auth[len("Bearer ") :] if auth.startswith("Bearer ") else params.get("token")
        if not token:
            return self._reply(call, {"ok": False, "error": "not_authed"})
        if token != self.token:
            return self._reply(call, {"ok": False, "error": "invalid_auth"})

        fault = self.faults[method].popleft() if self.faults.get(method) else None
        if fault is not None:
            if fault.delay:
                await asyncio.sleep(fault.delay)
            if fault.drop:
                if fault.process:
                    self._handle(method, params)
                call.status = 0
                transport = request.transport
                if transport is not None:
                    transport.abort()
                raise asyncio.CancelledError  # nothing more is written
            if not fault.process:
                call.status = fault.status
                call.response = fault.body
                if isinstance(fault.body, dict):
                    return web.json_response(fault.body, status=fault.status, headers=fault.headers)
                return web.Response(
                    text=fault.body or "",
                    status=fault.status,
                    headers=fault.headers,
                    content_type="text/html",
                )

        limited = self._rate_limit(method, params)
        if limited is not None:
            call.status = 429
            call.response = {"ok": False, "error": "ratelimited"}
            return web.json_response(
                call.response, status=429, headers={"Retry-After": str(limited)}
            )

        body = self._handle(method, params)
        if fault is not None and fault.delay_after:
            await asyncio.sleep(fault.delay_after)  # the client has given up by now
        return self._reply(call, body)

    def _reply(self, call: Call, body: dict[str, Any]) -> web.Response:
        call.status = 200
        call.response = body
        return web.json_response(body)

    def _rate_limit(self, method: str, params: dict[str, Any]) -> int | None:
        if method != "chat.postMessage":
            return None
        now = time.monotonic()
        if self.workspace_per_minute is not None and self.workspace_burst is not None:
            interval = 60.0 / self.workspace_per_minute
            allowed_at = max(self._tat, now) - (self.workspace_burst - 1) * interval - self.workspace_tolerance
            if now < allowed_at:
                return max(1, int(allowed_at - now + 0.999))
        elif self.workspace_per_minute is not None:
            while self._window and now - self._window[0] >= 60:
                self._window.popleft()
            if len(self._window) >= self.workspace_per_minute:
                return max(1, int(60 - (now - self._window[0])) + 1)
        channel = str(params.get("channel", ""))
        if self.per_channel_per_sec is not None:
            last = self._last_post.get(channel)
            if last is not None and now - last < 1.0 / self.per_channel_per_sec:
                return 1
        self._last_post[channel] = now
        if self.workspace_per_minute is not None and self.workspace_burst is not None:
            self._tat = max(self._tat, now) + 60.0 / self.workspace_per_minute
        elif self.workspace_per_minute is not None:
            self._window.append(now)
        return None

    async def _response_url(self, request: web.Request) -> web.Response:
        raw = await request.text()
        try:
            body = json.loads(raw)
        except ValueError:
            body = {"raw": raw}
        self.responses.append(
            {"url_token": request.match_info["token"], **(body if isinstance(body, dict) else {})}
        )
        return web.Response(text="ok")

    # --- methods -----------------------------------------------------------------------------
    async def _upload(self, request: web.Request) -> web.Response:
        """Step 2 of Slack's file upload: the bytes, POSTed to the URL step 1 handed out (no token:
        the URL itself is the credential, as on files.slack.com)."""
        upload = self.uploads.get(request.match_info["file_id"])
        if upload is None or upload["data"] is not None:
            return web.Response(status=404, text="unknown or used upload url")
        data = await request.read()
        if len(data) != upload["length"]:
            return web.Response(status=400, text=f"expected {upload['length']} bytes, got {len(data)}")
        upload["data"] = data
        return web.Response(text=f"OK - {len(data)}")

    def _next_ts(self) -> str:
        return f"{1700000000 + next(self._ts)}.{next(self._ts):06d}"

    def _user(self, user_id: Any) -> FakeUser | None:
        return self.users.get(user_id) if isinstance(user_id, str) else None

    def _handle(self, method: str, p: dict[str, Any]) -> dict[str, Any]:
        handler = getattr(self, "_m_" + method.replace(".", "_"), None)
        if handler is None:
            return {"ok": False, "error": "unknown_method"}
        return handler(p)

    def _m_auth_test(self, p: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://fake.slack.com/",
            "team": "Fake",
            "user": "hplj",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
        }

    def _m_files_getUploadURLExternal(self, p: dict[str, Any]) -> dict[str, Any]:
        filename, length = p.get("filename"), p.get("length")
        if not filename or length is None or not str(length).isdigit():
            return {"ok": False, "error": "invalid_arguments"}
        file_id = f"F{next(self._file_ids):07d}"
        self.uploads[file_id] = {"filename": filename, "length": int(length), "data": None}
        return {"ok": True, "upload_url": f"{self.base_url}/upload/{file_id}", "file_id": file_id}

    def _m_files_completeUploadExternal(self, p: dict[str, Any]) -> dict[str, Any]:
        try:
            files = json.loads(p.get("files") or "")
        except ValueError:
            return {"ok": False, "error": "invalid_arguments"}
        channel = p.get("channel_id")
        if channel is not None and self._channel_error(channel):
            return {"ok": False, "error": str(self._channel_error(channel))}
        done = []
        for f in files if isinstance(files, list) else []:
            upload = self.uploads.get(str(f.get("id")))
            if upload is None or upload["data"] is None:
                return {"ok": False, "error": "file_not_found"}
            done.append({"id": f["id"], "title": f.get("title") or upload["filename"], "name": upload["filename"]})
        if not done:
            return {"ok": False, "error": "invalid_arguments"}
        for f in done:
            upload = self.uploads[f["id"]]
            self.files.append({"id": f["id"], "title": f["title"], "filename": upload["filename"],
                               "data": upload["data"], "channel": channel, "comment": p.get("initial_comment")})
        if channel is not None:
            self.messages[channel].append({"type": "message", "user": BOT_USER_ID, "bot_id": BOT_ID,
                                           "ts": self._next_ts(), "text": p.get("initial_comment") or "",
                                           "files": done})
        return {"ok": True, "files": done}

    def _m_conversations_open(self, p: dict[str, Any]) -> dict[str, Any]:
        users = p.get("users")
        if isinstance(users, list):
            users = ",".join(users)
        user = self._user(users)
        if user is None:
            return {"ok": False, "error": "user_not_found"}
        if user.deleted:
            return {"ok": False, "error": "user_disabled"}
        channel = "D" + user.id
        self.channels[channel] = user.id
        return {"ok": True, "channel": {"id": channel}}

    def _channel_error(self, channel: Any) -> str | None:
        if not isinstance(channel, str) or not channel:
            return "channel_not_found"
        if channel in self.archived:
            return "is_archived"
        if channel.startswith("D") and channel not in self.channels:
            return "channel_not_found"
        if channel.startswith("D"):
            user = self.users.get(self.channels[channel])
            if user is not None and user.deleted:
                return "account_inactive"
        return None

    def _m_chat_postMessage(self, p: dict[str, Any]) -> dict[str, Any]:
        channel = p.get("channel")
        err = self._channel_error(channel)
        if err:
            return {"ok": False, "error": err}
        if not p.get("text") and not p.get("blocks"):
            return {"ok": False, "error": "no_text"}
        ts = self._next_ts()
        msg: dict[str, Any] = {
            "type": "message",
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "ts": ts,
            "text": p.get("text", ""),
            "blocks": p.get("blocks") or [],
        }
        if p.get("thread_ts"):
            msg["thread_ts"] = p["thread_ts"]
        if isinstance(p.get("metadata"), dict):
            msg["metadata"] = p["metadata"]
        self.messages[channel].append(msg)
        return {"ok": True, "channel": channel, "ts": ts, "message": msg}

    def _m_chat_update(self, p: dict[str, Any]) -> dict[str, Any]:
        channel, ts = p.get("channel"), p.get("ts")
        for msg in self.messages.get(channel, []) if isinstance(channel, str) else []:
            if msg["ts"] == ts:
                msg["text"] = p.get("text", msg["text"])
                if "blocks" in p:
                    msg["blocks"] = p["blocks"]
                msg["edited"] = True
                return {"ok": True, "channel": channel, "ts": ts, "text": msg["text"]}
        return {"ok": False, "error": "message_not_found"}

    def _m_chat_postEphemeral(self, p: dict[str, Any]) -> dict[str, Any]:
        if not p.get("channel") or not self._user(p.get("user")):
            return {"ok": False, "error": "user_not_in_channel"}
        self.ephemeral.append(p)
        return {"ok": True, "message_ts": self._next_ts()}

    def _m_views_open(self, p: dict[str, Any]) -> dict[str, Any]:
        if not p.get("trigger_id"):
            return {"ok": False, "error": "invalid_trigger_id"}
        view = p.get("view")
        if not isinstance(view, dict):
            return {"ok": False, "error": "invalid_arguments"}
        view = {**view, "id": f"V{next(self._view_ids):05d}", "hash": f"h{next(self._view_ids)}"}
        self.views_opened.append({"trigger_id": p["trigger_id"], "view": view})
        return {"ok": True, "view": view}

    def _m_views_publish(self, p: dict[str, Any]) -> dict[str, Any]:
        if not self._user(p.get("user_id")):
            return {"ok": False, "error": "user_not_found"}
        self.views_published.append(p)
        return {"ok": True, "view": p.get("view")}

    def _m_users_info(self, p: dict[str, Any]) -> dict[str, Any]:
        user = self._user(p.get("user"))
        if user is None:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "user": user.to_json()}

    def _m_users_profile_get(self, p: dict[str, Any]) -> dict[str, Any]:
        user = self._user(p.get("user"))
        if user is None:
            return {"ok": False, "error": "user_not_found"}
        profile = user.to_json()["profile"]
        profile["fields"] = {fid: {"value": value, "alt": ""} for fid, value in user.fields.items()}
        return {"ok": True, "profile": profile}

    def _m_users_lookupByEmail(self, p: dict[str, Any]) -> dict[str, Any]:
        email = str(p.get("email", "")).lower()
        for user in self.users.values():
            if user.email and user.email.lower() == email:
                return {"ok": True, "user": user.to_json()}
        return {"ok": False, "error": "users_not_found"}

    def _m_conversations_history(self, p: dict[str, Any]) -> dict[str, Any]:
        channel = p.get("channel")
        err = self._channel_error(channel)
        if err:
            return {"ok": False, "error": err}
        msgs = list(reversed(self.messages.get(channel, [])))  # newest first
        latest = p.get("latest")
        if latest:
            inclusive = _truthy(p.get("inclusive"))
            msgs = [
                m
                for m in msgs
                if float(m["ts"]) < float(latest) or (inclusive and m["ts"] == latest)
            ]
        start = int(p.get("cursor") or 0)
        limit = int(p.get("limit") or 100)
        page = msgs[start : start + limit]
        with_meta = _truthy(p.get("include_all_metadata"))
        out = []
        for m in page:
            m = dict(m)
            if not with_meta:
                m.pop("metadata", None)
            out.append(m)
        more = start + limit < len(msgs)
        return {
            "ok": True,
            "messages": out,
            "has_more": more,
            "response_metadata": {"next_cursor": str(start + limit) if more else ""},
        }


# --- inbound payloads as Slack sends them ---------------------------------------------------
# Shapes follow Slack's documented/recorded payloads (trimmed of fields the bot never reads).


def block_actions_payload(
    *,
    user_id: str,
    action_id: str,
    value: str,
    channel: str = "DU1",
    message_ts: str = "1700000001.000002",
    action_ts: str = "1700000100.123456",
    trigger_id: str = "13345224609.738474920.8088930838d88f008e0",
    response_url: str = "https://hooks.slack.com/actions/T0001/1/abc",
    label: str = "Approve",
) -> dict[str, Any]:
    return {
        "type": "block_actions",
        "user": {
            "id": user_id,
            "username": user_id.lower(),
            "name": user_id.lower(),
            "team_id": TEAM_ID,
        },
        "api_app_id": "A0001",
        "token": "legacy-verification-token",
        "container": {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel,
            "is_ephemeral": False,
        },
        "trigger_id": trigger_id,
        "team": {"id": TEAM_ID, "domain": "fake"},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel, "name": "directmessage"},
        "message": {
            "type": "message",
            "user": BOT_USER_ID,
            "ts": message_ts,
            "bot_id": BOT_ID,
            "text": "prompt",
            "blocks": [],
        },
        "state": {"values": {}},
        "response_url": response_url,
        "actions": [
            {
                "action_id": action_id,
                "block_id": "b1",
                "text": {"type": "plain_text", "text": label, "emoji": True},
                "value": value,
                "type": "button",
                "action_ts": action_ts,
            }
        ],
    }


def view_submission_payload(
    *,
    user_id: str,
    private_metadata: str,
    values: dict[str, dict[str, Any]],
    view_id: str = "V00001",
    view_hash: str = "1700000200.abcdEFGH",
    callback_id: str = "hplj:form",
) -> dict[str, Any]:
    return {
        "type": "view_submission",
        "team": {"id": TEAM_ID, "domain": "fake"},
        "user": {
            "id": user_id,
            "username": user_id.lower(),
            "name": user_id.lower(),
            "team_id": TEAM_ID,
        },
        "api_app_id": "A0001",
        "token": "legacy-verification-token",
        "trigger_id": "12345.98765.abcd2358fdea",
        "view": {
            "id": view_id,
            "team_id": TEAM_ID,
            "type": "modal",
            "blocks": [],
            "private_metadata": private_metadata,
            "callback_id": callback_id,
            "state": {"values": values},
            "hash": view_hash,
            "title": {"type": "plain_text", "text": "Plan an MTM", "emoji": True},
            "close": {"type": "plain_text", "text": "Cancel", "emoji": True},
            "submit": {"type": "plain_text", "text": "Submit", "emoji": True},
            "previous_view_id": None,
            "root_view_id": view_id,
            "app_id": "A0001",
            "bot_id": BOT_ID,
        },
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }


def event_envelope(event: dict[str, Any], *, event_id: str = "Ev0001") -> dict[str, Any]:
    return {
        "token": "legacy-verification-token",
        "team_id": TEAM_ID,
        "api_app_id": "A0001",
        "event": event,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": 1700000300,
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": TEAM_ID,
                "user_id": BOT_USER_ID,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": "4-eyJldCI6Im1lc3NhZ2UifQ",
    }


def message_im_event(
    *,
    user_id: str,
    text: str,
    channel: str = "DU1",
    ts: str = "1700000400.000100",
    thread_ts: str | None = None,
    event_id: str = "Ev0001",
    **extra: Any,
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "client_msg_id": "5f4a3f2e-1111-2222-3333-444455556666",
        "type": "message",
        "text": text,
        "user": user_id,
        "ts": ts,
        "team": TEAM_ID,
        "blocks": [],
        "channel": channel,
        "event_ts": ts,
        "channel_type": "im",
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
        event["parent_user_id"] = BOT_USER_ID
    event.update(extra)
    return event_envelope(event, event_id=event_id)


def slash_command_form(
    *,
    user_id: str,
    text: str,
    command: str = "/journey",
    response_url: str = "https://hooks.slack.com/commands/T0001/1/xyz",
    trigger_id: str = "13345224609.738474920.8088930838d88f008e0",
    channel_id: str = "C0001",
) -> dict[str, str]:
    return {
        "token": "legacy-verification-token",
        "team_id": TEAM_ID,
        "team_domain": "fake",
        "channel_id": channel_id,
        "channel_name": "general",
        "user_id": user_id,
        "user_name": user_id.lower(),
        "command": command,
        "text": text,
        "api_app_id": "A0001",
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id,
    }
