"""Help as its reader can use it: the platform's syntax, and admin commands only for admins."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from journeys.admin.help_surface import ADMIN_PREFIX, participant_help, reader_help
from journeys.conversation import handle_text
from journeys.messages import Reply
from journeys.person_view import PersonView
from journeys.state import Person
from tests.unit.journeys.test_conversation import view_for

ADMIN_ONLY = ("enroll", "forget", "export", "unenroll", "dashboard", "admins", "audit", "report")
OTHER = {"slack": "Teams", "teams": "Slack"}
NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)


@pytest.mark.parametrize("platform", ["slack", "teams", "console"])
def test_admins_get_the_admin_commands_in_their_platform_syntax(platform: str) -> None:
    text, title = reader_help(platform, admin=True)
    assert title == "Journey admin commands"
    for word in ADMIN_ONLY:
        assert f"`{ADMIN_PREFIX[platform]}{word}" in text, word
    if platform in OTHER:
        assert OTHER[platform] not in text
    if platform != "slack":
        assert "/journey" not in text
    detail, _ = reader_help(platform, admin=True, topic="enroll")
    assert f"Example: `{ADMIN_PREFIX[platform]}enroll active-listening" in detail


@pytest.mark.parametrize("platform", ["slack", "teams", "console"])
def test_everyone_else_gets_what_they_may_type(platform: str) -> None:
    text, title = reader_help(platform, admin=False)
    assert title == "What you can do" and text == participant_help(platform)
    for word in ("status", "snooze", "pause", "resume", "stop", "help"):
        assert f"`{word}`" in text
    for word in ADMIN_ONLY:
        assert f"`{word}" not in text and f"journey {word}" not in text, word
    if platform in OTHER:
        assert OTHER[platform] not in text
    refused, _ = reader_help(platform, admin=False, topic="forget")
    assert refused.startswith("`forget` is for journey admins.") and "erase" not in refused


@pytest.mark.parametrize(("platform", "how", "not_shown"), [
    ("slack", "(in its thread)", "Teams"), ("teams", "(with Reply)", "Slack")])
def test_typed_help_says_how_to_reply_on_the_readers_platform(journey, platform: str, how: str,
                                                               not_shown: str) -> None:
    view: PersonView = replace(view_for(journey), platform=platform)
    [reply] = handle_text(view, Reply("ana", "k", text="help"), NOW).replies
    assert how in reply.text and not_shown not in reply.text


def test_a_person_without_a_known_platform_is_told_both_ways() -> None:
    view = PersonView(Person("zoe", "Zoe", "UTC"), {}, [], [])
    [reply] = handle_text(view, Reply("zoe", "k", text="help"), NOW).replies
    assert "in its thread on Slack, with Reply on Teams" in reply.text
