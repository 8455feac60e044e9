"""What every local fake shares: an aiohttp app on 127.0.0.1 at a free port, started and stopped
with `async with`."""

from __future__ import annotations

import ssl
from typing import Self

from aiohttp import web


class LocalServer:
    """Base of the fakes: subclasses build their routes in `make_app`."""

    host = "127.0.0.1"
    port = 0
    _runner: web.AppRunner | None = None

    def make_app(self) -> web.Application:  # pragma: no cover - every fake overrides it
        raise NotImplementedError

    def server_ssl(self) -> ssl.SSLContext | None:
        return None

    async def start(self) -> Self:
        self._runner = web.AppRunner(self.make_app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0, ssl_context=self.server_ssl())
        await site.start()
        server = site._server
        assert server is not None and server.sockets  # type: ignore[attr-defined]
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
