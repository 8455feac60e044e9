"""Teams telling the bot it was uninstalled or installed again: an `installationUpdate` activity.

`action` is `add` or `remove` (`add-upgrade` / `remove-upgrade` accompany an app update and change
nothing). In a personal conversation the change is the person's (`from`); in a team it is the
team's (`channelData.team.id`); a group chat's removal concerns no one's 1:1 chat and is ignored.
"""

from __future__ import annotations

from typing import Any

from adapters.teams.parse import PLATFORM, _d, _s, user_id_of
from ports.chat import AccessChange


def installation_change(activity: dict[str, Any]) -> AccessChange | None:
    if activity.get("type") != "installationUpdate":
        return None
    action = _s(activity.get("action"))
    if action not in ("add", "remove"):
        return None
    removed = action == "remove"
    reason = "installation_removed" if removed else "installed"
    kind = _s(_d(activity.get("conversation")).get("conversationType")) or "personal"
    if kind == "personal":
        uid = user_id_of(activity)
        return AccessChange(PLATFORM, "person", uid, reason, removed) if uid else None
    team = _s(_d(_d(activity.get("channelData")).get("team")).get("id"))
    if kind == "channel" and team:
        return AccessChange(PLATFORM, "team", team, reason, removed)
    return None
