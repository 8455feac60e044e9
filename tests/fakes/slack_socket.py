"""A local fake of Slack's Socket Mode, on top of the fake Web API (tests/fakes/slack_api.py).

Speaks Socket Mode's wire format as Slack documents it:

- `POST /api/apps.connections.open` with the app-level token (`xapp-...`, never the bot token:
  `not_allowed_token_type`) answers `{"ok": true, "url": "ws://127.0.0.1:<port>/link/?ticket=..."}`;
- on that WebSocket the fake first sends `{"type": "hello", "num_connections": 1, "debug_info":
  {...}, "connection_info": {"app_id": ...}}`, then, on `deliver(...)`, envelopes
  `{"envelope_id": ..., "type": "events_api" | "slash_commands" | "interactive", "payload": {...},
  "accepts_response_payload": bool}` (events redelivered with `retry_attempt` and `retry_reason`);
- the app acknowledges each envelope by sending `{"envelope_id": ..., "payload"?: {...}}` back
  (`acks`, `wait_ack`);
- `refresh()` sends `{"type": "disconnect", "reason": "refresh_requested", "debug_info": {...}}`
  (the app is expected to open a new connection); `drop()` closes the socket from Slack's side.

    async with FakeSocketModeSlack() as fake:
        handler = await start_socket_mode(service, app_token=fake.app_token, token=fake.token,
                                          api_url=fake.api_url)
        env = await fake.deliver("slash_commands", slash_command_form(...))
        await fake.wait_ack(env)
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from typing import Any

from aiohttp import WSMsgType, web

from tests.fakes.slack_api import Call, FakeSlackApi

APP_ID = "A0001"


class FakeSocketModeSlack(FakeSlackApi):
    def __init__(self, token: str = "xoxb-test", app_token: str = "xapp-1-A0001-test", **kw: Any) -> None:
        super().__init__(token, **kw)
        self.app_token = app_token
        self.opens = 0  # accepted apps.connections.open calls
        self.sockets: list[web.WebSocketResponse] = []  # every connection the app opened, oldest first
        self.acks: dict[str, list[dict[str, Any]]] = {}  # envelope id -> the acks the app sent for it
        self.unknown: list[Any] = []  # anything the app sent that is not an ack
        self._tickets: set[str] = set()
        self._envelopes = itertools.count(1)
        self.app.router.add_get("/link/", self._link)

    # --- the Web API method that hands out the WebSocket URL -------------------------------------
    async def _api(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["method"] != "apps.connections.open":
            return await super()._api(request)
        call = Call("apps.connections.open", await self._params(request), dict(request.headers))
        self.calls.append(call)
        auth = request.headers.get("Authorization", "")
        token = auth[len("Bearer "):] if auth.startswith("Bearer ") else ""
        if token == self.token:
            return self._reply(call, {"ok": False, "error": "not_allowed_token_type"})
        if token != self.app_token:
            return self._reply(call, {"ok": False, "error": "invalid_auth"})
        self.opens += 1
        ticket = f"t{self.opens}"
        self._tickets.add(ticket)
        return self._reply(call, {"ok": True, "url": f"ws://127.0.0.1:{self.port}/link/?ticket={ticket}"})

    # --- the WebSocket ---------------------------------------------------------------------------
    async def _link(self, request: web.Request) -> web.StreamResponse:
        ticket = request.query.get("ticket", "")
        if ticket not in self._tickets:
            return web.Response(status=401, text="invalid ticket")
        self._tickets.discard(ticket)  # a URL is good for one connection, as Slack's are
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.sockets.append(ws)
        await ws.send_json({"type": "hello", "num_connections": 1,
                            "debug_info": {"host": "applink-fake", "build_number": 1,
                                           "approximate_connection_time": 18060},
                            "connection_info": {"app_id": APP_ID}})
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                continue
            try:
                data = json.loads(msg.data)
            except ValueError:
                self.unknown.append(msg.data)
                continue
            if isinstance(data, dict) and isinstance(data.get("envelope_id"), str):
                self.acks.setdefault(data["envelope_id"], []).append(data)
            else:
                self.unknown.append(data)
        return ws

    @property
    def live(self) -> web.WebSocketResponse | None:
        """The newest connection, while it is open."""
        if self.sockets and not self.sockets[-1].closed:
            return self.sockets[-1]
        return None

    async def wait_connected(self, count: int = 1, timeout: float = 10.0) -> web.WebSocketResponse:
        """Wait until the app has opened `count` connections in all and the newest is open."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.sockets) >= count and self.live is not None:
                return self.live
            await asyncio.sleep(0.01)
        raise AssertionError(f"{len(self.sockets)} Socket Mode connections, wanted {count}")

    async def deliver(self, kind: str, payload: dict[str, Any], *, envelope_id: str | None = None,
                      retry_attempt: int | None = None, retry_reason: str | None = None) -> str:
        """Send one envelope on the live connection; returns its envelope id."""
        ws = self.live
        if ws is None:
            raise AssertionError("no live Socket Mode connection")
        envelope_id = envelope_id or f"env-{next(self._envelopes):04d}"
        accepts = kind == "slash_commands" or (kind == "interactive" and payload.get("type") == "view_submission")
        envelope: dict[str, Any] = {"envelope_id": envelope_id, "type": kind, "payload": payload,
                                    "accepts_response_payload": accepts}
        if kind == "events_api":
            envelope["retry_attempt"] = retry_attempt or 0
            envelope["retry_reason"] = retry_reason or ""
        await ws.send_str(json.dumps(envelope))
        return envelope_id

    async def wait_ack(self, envelope_id: str, timeout: float = 10.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if envelope_id in self.acks:
                return self.acks[envelope_id][0]
            await asyncio.sleep(0.01)
        raise AssertionError(f"envelope {envelope_id} was never acknowledged")

    async def refresh(self) -> None:
        """Ask the app to reconnect, as Slack does before it retires a connection."""
        ws = self.live
        assert ws is not None, "no live Socket Mode connection"
        await ws.send_json({"type": "disconnect", "reason": "refresh_requested",
                            "debug_info": {"host": "applink-fake"}})

    async def drop(self) -> None:
        """Close the live connection from Slack's side, without notice."""
        ws = self.live
        assert ws is not None, "no live Socket Mode connection"
        await ws.close()

    async def stop(self) -> None:
        for ws in self.sockets:
            if not ws.closed:
                await ws.close()
        await super().stop()
