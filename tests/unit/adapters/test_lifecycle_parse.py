"""The platforms' uninstall notices, parsed (adapters/slack/lifecycle.py, adapters/teams/lifecycle.py)."""

from __future__ import annotations

from typing import Any

from adapters.slack.lifecycle import access_change
from adapters.teams.lifecycle import installation_change
from ports.chat import AccessChange
from tests.fakes.slack_api import TEAM_ID, event_envelope


def test_slack_uninstall_and_bot_token_revocation_are_the_workspace() -> None:
    uninstalled = access_change(event_envelope({"type": "app_uninstalled"}))
    revoked = access_change(event_envelope({"type": "tokens_revoked", "tokens": {"oauth": [], "bot": ["UBOT"]}}))
    assert uninstalled == AccessChange("slack", "workspace", TEAM_ID, "app_uninstalled")
    assert revoked == AccessChange("slack", "workspace", TEAM_ID, "tokens_revoked")


def test_slack_user_token_revocation_and_other_events_are_not_about_the_bot() -> None:
    assert access_change(event_envelope({"type": "tokens_revoked", "tokens": {"oauth": ["U1"]}})) is None
    assert access_change(event_envelope({"type": "tokens_revoked", "tokens": None})) is None
    assert access_change(event_envelope({"type": "message", "text": "hi"})) is None
    assert access_change({"type": "event_callback"}) is None


def _install(action: str, conversation_type: str = "personal", **extra: Any) -> dict[str, Any]:
    return {"type": "installationUpdate", "action": action,
            "from": {"id": "29:abc", "aadObjectId": "aad-1"},
            "conversation": {"conversationType": conversation_type, "id": "a:1"}, **extra}


def test_teams_personal_remove_and_add_are_the_person() -> None:
    assert installation_change(_install("remove")) == AccessChange("teams", "person", "aad-1",
                                                                   "installation_removed", True)
    assert installation_change(_install("add")) == AccessChange("teams", "person", "aad-1", "installed", False)


def test_teams_upgrades_group_chats_and_other_activities_change_nothing() -> None:
    assert installation_change(_install("remove-upgrade")) is None
    assert installation_change(_install("add-upgrade")) is None
    assert installation_change(_install("remove", "groupChat")) is None
    assert installation_change({**_install("remove"), "type": "message"}) is None


def test_teams_team_remove_is_the_team() -> None:
    act = _install("remove", "channel", channelData={"team": {"id": "19:team@thread.tacv2"}})
    assert installation_change(act) == AccessChange("teams", "team", "19:team@thread.tacv2",
                                                    "installation_removed", True)
