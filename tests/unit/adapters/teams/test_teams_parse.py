"""Parsing Teams activities (fixtures are shaped like what Teams posts) into neutral values."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.teams.parse import (
    NotAnActivity,
    address_of,
    is_card_action,
    parse_card_action,
    parse_message,
    timezone_of,
    users_to_remember,
)
from journeys.admin.commands import parse_command

FIXTURES = Path(__file__).parent / "fixtures"
ANA = "aaaaaaaa-0000-4000-8000-00000000a0a0"
BEN = "bbbbbbbb-0000-4000-8000-00000000b0b0"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    return data


def test_admin_command_with_mentions() -> None:
    parsed = parse_message(load("message_admin_command"))
    assert parsed.command == (
        "enroll active-listening <user:aaaaaaaa-0000-4000-8000-00000000a0a0|Ana Diaz> "
        "<user:bbbbbbbb-0000-4000-8000-00000000b0b0|Ben Okafor> "
        "manager <user:29:1MariaTeamsIdxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx|Maria Rossi> start 2026-12-07"
    )
    assert parsed.user_id == "0c1f2a3b-1111-4a4a-9b9b-000000000001"
    assert parsed.key.endswith(":1764494102123")
    assert parsed.profile.tz == "Europe/Berlin"
    assert parsed.profile.name == "Lena Admin"
    assert [m[1] for m in parsed.mentions] == ["Ana Diaz", "Ben Okafor", "Maria Rossi"]
    # the grammar's neutral user references, which the platform-neutral parser resolves
    cmd = parse_command(parsed.command, date(2026, 12, 1))
    assert [u.value for u in (*cmd.users, cmd.manager)] == [  # type: ignore[union-attr]
        "aaaaaaaa-0000-4000-8000-00000000a0a0", "bbbbbbbb-0000-4000-8000-00000000b0b0",
        "29:1MariaTeamsIdxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"]


def test_plain_text_reply_is_unescaped_and_not_a_command() -> None:
    parsed = parse_message(load("message_plain_reply"))
    assert parsed.command is None
    assert parsed.text == "I'll try paraphrasing in Friday s 1:1 & see"
    assert parsed.user_id == ANA
    assert parsed.profile.tz == "America/New_York"  # from clientInfo when localTimezone is absent


@pytest.mark.parametrize(
    ("text", "command", "plain"),
    [
        ("journey", "help", "journey"),
        ("Journey status", "status", "Journey status"),
        ("/journey report c1 csv", "report c1 csv", "/journey report c1 csv"),
        ("<at>HPLJ Coach</at> help", None, "help"),
        ("journeys are fun", None, "journeys are fun"),
        ("<p>journey&nbsp;journeys</p>", "journeys", "journey journeys"),
        ("journey enroll x <a href=\"mailto:ana@example.com\">ana@example.com</a>", "enroll x ana@example.com", None),
    ],
)
def test_command_word(text: str, command: str | None, plain: str | None) -> None:
    act = load("message_plain_reply")
    act["text"] = text
    act["entities"] = [{"type": "mention", "text": "<at>HPLJ Coach</at>",
                        "mentioned": {"id": act["recipient"]["id"], "name": "HPLJ Coach"}}]
    parsed = parse_message(act)
    assert parsed.command == command
    if plain is not None:
        assert parsed.text == plain


def test_mention_names_cannot_break_the_token() -> None:
    act = load("message_plain_reply")
    act["text"] = "journey pause <at>Evil|x> y</at>"
    act["entities"] = [{"type": "mention", "text": "<at>Evil|x> y</at>",
                        "mentioned": {"id": "29:abc", "name": "Evil|x> y", "aadObjectId": "dddd"}}]
    assert parse_message(act).command == "pause <user:dddd|Evil x y>"


def test_card_button() -> None:
    act = load("invoke_button")
    assert is_card_action(act)
    action = parse_card_action(act)
    assert action.platform == "teams"
    assert action.user_id == "cccccccc-0000-4000-8000-00000000c0c0"
    assert action.key.endswith(":f:6b5a4c3d-aaaa-bbbb-cccc-1234567890ab")
    assert action.prompt_id == "enr-ana:support-request"
    assert action.button == "approve"
    assert action.values == {}
    assert action.profile is not None and action.profile.tz == "Europe/Rome"
    assert action.refresh_in_place  # the invoke answer refreshes the card; the outbox leaves it alone


def test_a_legacy_action_submit_leaves_the_card_to_the_outbox() -> None:
    act = load("invoke_button")
    legacy = {**act, "type": "message"}  # an old client's Action.Submit arrives as a message
    action = parse_card_action(legacy)
    assert action.prompt_id == "enr-ana:support-request" and action.button == "approve"
    assert not action.refresh_in_place  # a message can't be answered with a card: the outbox updates it


def test_card_submit_values() -> None:
    action = parse_card_action(load("invoke_submit"))
    assert action.prompt_id == "enr-ana:mtm-plan-1"
    assert action.button is None
    assert action.values == {
        "situation": "Weekly 1:1 with Sam about the roadmap",
        "date": "2026-12-10",
        "behaviour": "b1",
        "tags": ["x", "y"],
    }
    assert action.profile is not None and action.profile.tz == "Europe/London"


def test_dates_with_time_are_cut_to_the_day() -> None:
    act = load("invoke_submit")
    act["value"]["action"]["data"]["f.date"] = "2026-12-10T00:00:00.000Z"
    assert parse_card_action(act).values["date"] == "2026-12-10"


def test_installation_update_gives_an_address() -> None:
    [(profile, address)] = users_to_remember(load("installation_update_add"))
    assert profile.user_id == ANA and profile.tz == "Europe/Madrid"
    assert address == {
        "channel_id": "msteams",
        "service_url": "https://smba.trafficmanager.net/emea/",
        "tenant_id": TENANT,
        "conversation_id": "a:1xPersonalChatWithAnaxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        "conversation_type": "personal",
        "user_id": "29:1AnaTeamsIdxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        "user_aad_id": ANA,
        "user_name": "",
        "bot_id": "28:5b6c7d8e-2222-4b4b-8c8c-000000000abc",
        "bot_name": "HPLJ Coach",
        "locale": "en-US",
    }


def test_conversation_update_members_added() -> None:
    [(profile, address)] = users_to_remember(load("conversation_update_members_added"))
    assert profile.user_id == BEN and profile.name == "Ben Okafor"
    assert address["tenant_id"] == TENANT  # from channelData when conversation has no tenantId
    assert address["conversation_id"].startswith("a:1xPersonalChatWithBen")


def test_removals_and_channels_are_not_remembered() -> None:
    assert users_to_remember(load("installation_update_remove")) == []
    assert users_to_remember(load("conversation_update_channel")) == []


def test_timezones_are_validated() -> None:
    assert timezone_of({"localTimezone": "Not/AZone"}) is None
    assert timezone_of({"localTimezone": "../../etc/passwd"}) is None
    assert timezone_of({"localTimezone": "Asia/Tokyo"}) == "Asia/Tokyo"


def test_not_a_message() -> None:
    with pytest.raises(NotAnActivity):
        parse_message({"type": "invoke"})
    with pytest.raises(NotAnActivity):
        parse_message({"type": "message", "from": {}})


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(base=st.sampled_from(sorted(p.stem for p in FIXTURES.glob("*.json"))),
       key=st.sampled_from(["text", "from", "entities", "value", "conversation", "recipient", "id",
                            "localTimezone", "membersAdded", "action", "channelData"]),
       junk=json_values)
def test_parsers_never_crash_on_mangled_activities(base: str, key: str, junk: Any) -> None:
    act = load(base)
    act[key] = junk
    for fn in (parse_message, parse_card_action):
        try:
            fn(act)
        except NotAnActivity:
            pass
    users_to_remember(act)
    address_of(act)
