"""Slack telling the bot it lost its access: `app_uninstalled`, `tokens_revoked` (events API).

The two often arrive together and in either order, and Slack may redeliver either: both map to
the same `AccessChange` (the workspace), which the bot records once (bot/services/access.py). A
`tokens_revoked` that names only user tokens is not about the bot (it holds none) and is ignored.
"""

from __future__ import annotations

from typing import Any

from adapters.slack.parse import PLATFORM
from ports.chat import AccessChange

EVENTS = ("app_uninstalled", "tokens_revoked")


def _team_of(body: dict[str, Any]) -> str:
    team = body.get("team_id")
    if isinstance(team, str) and team:
        return team
    for auth in body.get("authorizations") or []:
        if isinstance(auth, dict) and isinstance(auth.get("team_id"), str):
            return str(auth["team_id"])
    return "workspace"


def access_change(body: dict[str, Any]) -> AccessChange | None:
    """The access change an event envelope announces, or None."""
    event = body.get("event")
    if not isinstance(event, dict):
        return None
    kind = event.get("type")
    if kind == "app_uninstalled":
        return AccessChange(PLATFORM, "workspace", _team_of(body), "app_uninstalled")
    if kind == "tokens_revoked":
        tokens = event.get("tokens")
        bot = tokens.get("bot") if isinstance(tokens, dict) else None
        if isinstance(bot, list) and bot:
            return AccessChange(PLATFORM, "workspace", _team_of(body), "tokens_revoked")
    return None
