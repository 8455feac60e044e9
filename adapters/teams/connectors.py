"""One Bot Framework connector client per service URL and event loop, not one per turn.

botbuilder's `CloudAdapter` asks its authentication for a new `ConnectorClient` and a new
user-token client on every turn (every proactive send, every inbound request), as its older
`BotFrameworkAdapter` did not. Each builds an msrest configuration whose retry policy alone costs
about 5 ms of CPU (it computes its status list with a quadratic list comprehension), and an
aiohttp session that is never closed, so every send also opened a TCP connection of its own. On
the delivery worker that was most of a send's time, and the send latency is what the Teams
tenant pacing has to allow for (scheduler/ratelimit.py).

`ReusedClients` wraps the SDK's authentication and hands the same clients to every turn with the
same app id, service URL and audience on the same event loop (an aiohttp session belongs to the
loop it was made on). Everything else — request verification, tokens, the clients themselves —
stays the SDK's: the clients are the ones its factory builds, only kept. Credentials live on the
client and refresh their own tokens, so reuse is safe.
"""

from __future__ import annotations

import asyncio
import weakref
from typing import Any

from botframework.connector.auth import (
    AuthenticationConstants,
    BotFrameworkAuthentication,
    ClaimsIdentity,
    ConnectorFactory,
)

_Key = tuple[str | None, str, str | None]


def _app_id(claims: ClaimsIdentity) -> str | None:
    """The bot's app id as the SDK's connector factory reads it (audience first, then appid)."""
    found = claims.get_claim_value(AuthenticationConstants.AUDIENCE_CLAIM)
    if found is None:
        found = claims.get_claim_value(AuthenticationConstants.APP_ID_CLAIM)
    return None if found is None else str(found)


KEPT = 256  # clients kept per loop (service URLs are few; the bound is against odd callers)


class _Kept:
    """The clients made on one event loop."""

    def __init__(self) -> None:
        self.connectors: dict[_Key, Any] = {}
        self.user_tokens: dict[str | None, Any] = {}

    @staticmethod
    def keep(clients: dict[Any, Any], key: Any, client: Any) -> Any:
        client = clients.setdefault(key, client)
        while len(clients) > KEPT:
            del clients[next(iter(clients))]
        return client


class _ReusingFactory(ConnectorFactory):  # type: ignore[misc]
    def __init__(self, inner: ConnectorFactory, app_id: str | None, kept: _Kept) -> None:
        self._inner = inner
        self._app_id = app_id
        self._kept = kept

    async def create(self, service_url: str, audience: str | None = None) -> Any:
        key = (self._app_id, service_url, audience)
        client = self._kept.connectors.get(key)
        if client is None:
            client = await self._inner.create(service_url, audience)
            client = self._kept.keep(self._kept.connectors, key, client)
        return client


class ReusedClients(BotFrameworkAuthentication):  # type: ignore[misc]
    """The SDK's authentication, with its connector and user-token clients kept and reused."""

    def __init__(self, inner: BotFrameworkAuthentication) -> None:
        self._inner = inner
        self._loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Kept] = weakref.WeakKeyDictionary()

    def _kept(self) -> _Kept:
        loop = asyncio.get_running_loop()
        kept = self._loops.get(loop)
        if kept is None:
            kept = self._loops[loop] = _Kept()
        return kept

    def _reusing(self, factory: ConnectorFactory, claims: ClaimsIdentity) -> ConnectorFactory:
        return _ReusingFactory(factory, _app_id(claims), self._kept())

    async def authenticate_request(self, activity: Any, auth_header: str) -> Any:
        result = await self._inner.authenticate_request(activity, auth_header)
        if getattr(result, "connector_factory", None) is not None:
            result.connector_factory = self._reusing(result.connector_factory, result.claims_identity)
        return result

    async def authenticate_streaming_request(self, auth_header: str, channel_id_header: str) -> Any:
        return await self._inner.authenticate_streaming_request(auth_header, channel_id_header)

    def create_connector_factory(self, claims_identity: ClaimsIdentity) -> ConnectorFactory:
        return self._reusing(self._inner.create_connector_factory(claims_identity), claims_identity)

    async def create_user_token_client(self, claims_identity: ClaimsIdentity) -> Any:
        kept = self._kept()
        app_id = _app_id(claims_identity)
        client = kept.user_tokens.get(app_id)
        if client is None:
            client = await self._inner.create_user_token_client(claims_identity)
            client = kept.keep(kept.user_tokens, app_id, client)
        return client

    def create_bot_framework_client(self) -> Any:
        return self._inner.create_bot_framework_client()

    def get_originating_audience(self) -> str:
        return str(self._inner.get_originating_audience())

    async def authenticate_channel_request(self, auth_header: str) -> ClaimsIdentity:
        return await self._inner.authenticate_channel_request(auth_header)


def reuse_clients(adapter: Any) -> None:
    """Make `adapter` (a `CloudAdapter`, maybe built elsewhere) keep its clients; idempotent."""
    auth = adapter.bot_framework_authentication
    if not isinstance(auth, ReusedClients):
        adapter.bot_framework_authentication = ReusedClients(auth)
