"""Slack over Socket Mode (SLACK_APP_TOKEN): the same listeners as `/slack/events`, over a WebSocket
the bot opens itself, for installations without a public URL.

slack-bolt's own `AsyncSocketModeHandler` on slack_sdk's aiohttp client does the protocol:
`apps.connections.open` with the app-level token, one envelope at a time through the bolt app,
the ack (`envelope_id`, with the listener's response payload when the envelope accepts one) as soon
as the listener returns, and a new connection when Slack asks for one (`disconnect`) or the socket
closes. Listeners ack first and do their work afterwards (`SlackInbound`), so a slow handler never
delays an ack, and a redelivered envelope (`retry_attempt`) is done once: the bot's inbound table
deduplicates it exactly as it does an HTTP retry.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

from adapters.slack.app import DEFAULT_COMMAND, SlackInbound
from ports.chat import BotHandler


class SocketMode:
    """One Socket Mode connection of the bot: `await connect()`, then `await close()` on shutdown."""

    def __init__(self, handler: BotHandler, *, app_token: str, token: str, api_url: str | None = None,
                 command: str = DEFAULT_COMMAND, ping_interval: float = 10) -> None:
        if not app_token.startswith("xapp-"):
            raise ValueError("SLACK_APP_TOKEN must be an app-level token (xapp-...) with connections:write")
        self.inbound = SlackInbound(handler, token=token, signing_secret=None, api_url=api_url,
                                    command=command, socket_mode=True)
        self.handler = AsyncSocketModeHandler(self.inbound.bolt, app_token, ping_interval=ping_interval)

    @property
    def client(self) -> Any:
        """slack_sdk's Socket Mode client (its connection state, for health checks and tests)."""
        return self.handler.client

    async def connect(self) -> None:
        await self.handler.connect_async()  # type: ignore[no-untyped-call]

    async def close(self) -> None:
        """Stop taking envelopes, finish the work already acked, close the sessions."""
        await self.handler.close_async()  # type: ignore[no-untyped-call]
        await self.inbound.close()

    close_async = close  # the name bolt's handler uses, so callers may treat both alike


async def start_socket_mode(
    handler: BotHandler,
    *,
    app_token: str,
    token: str,
    api_url: str | None = None,
    command: str = DEFAULT_COMMAND,
) -> Any:
    """Connect over Socket Mode (SLACK_APP_TOKEN); returns the connection (`close_async()`)."""

    socket = SocketMode(handler, app_token=app_token, token=token, api_url=api_url, command=command)
    await socket.connect()
    return socket
