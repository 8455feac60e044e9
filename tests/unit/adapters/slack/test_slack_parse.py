"""Parsing Slack payloads (shapes as Slack sends them) into neutral inbound actions."""

from __future__ import annotations

from datetime import date

import pytest

from adapters.slack.parse import (
    ButtonClick,
    OpenForm,
    normalize_command_text,
    parse_block_action,
    parse_message_event,
    parse_slash_command,
    parse_state_values,
    parse_view_submission,
)
from adapters.slack.render import button_value, modal_metadata
from journeys.admin.commands import Enroll, UserRef, parse_command
from tests.fakes.slack_api import (
    block_actions_payload,
    message_im_event,
    slash_command_form,
    view_submission_payload,
)


def test_button_click():
    body = block_actions_payload(
        user_id="UMGR", action_id="hplj:btn:approve", value=button_value("pr-7", "approve")
    )
    [item] = parse_block_action(body)
    assert isinstance(item, ButtonClick)
    a = item.action
    assert (a.platform, a.user_id, a.prompt_id, a.button) == ("slack", "UMGR", "pr-7", "approve")
    assert a.key == "slack:act:1700000001.000002:hplj:btn:approve:1700000100.123456"
    assert (item.channel, item.message_ts) == ("DU1", "1700000001.000002")
    # the same click delivered twice has the same key; a second click has another
    assert parse_block_action(body)[0].action.key == a.key
    other = block_actions_payload(
        user_id="UMGR",
        action_id="hplj:btn:approve",
        value=button_value("pr-7", "approve"),
        action_ts="1700000101.000001",
    )
    assert parse_block_action(other)[0].action.key != a.key


def test_form_button():
    body = block_actions_payload(
        user_id="U1", action_id="hplj:form", value=button_value("pr-9", "")
    )
    [item] = parse_block_action(body)
    assert item == OpenForm("U1", "pr-9", body["trigger_id"], "DU1", "1700000001.000002")


def test_foreign_or_broken_actions_ignored():
    assert (
        parse_block_action(block_actions_payload(user_id="U1", action_id="other", value="x")) == []
    )
    assert (
        parse_block_action(
            block_actions_payload(user_id="U1", action_id="hplj:btn:x", value="{bad")
        )
        == []
    )
    assert (
        parse_block_action({"type": "block_actions", "actions": "nope", "user": {"id": "U1"}}) == []
    )
    assert parse_block_action({"type": "view_submission"}) == []


STATE = {
    "what": {"v": {"type": "plain_text_input", "value": "Team meeting with Bo"}},
    "when": {"v": {"type": "datepicker", "selected_date": "2025-03-14"}},
    "notes": {"v": {"type": "plain_text_input", "value": None}},
    "conf": {
        "v": {
            "type": "static_select",
            "selected_option": {"text": {"type": "plain_text", "text": "4"}, "value": "4"},
        }
    },
    "behaviours": {
        "v": {
            "type": "checkboxes",
            "selected_options": [
                {"text": {"type": "plain_text", "text": "Paraphrase"}, "value": "paraphrase"},
                {"text": {"type": "plain_text", "text": "Pause"}, "value": "pause"},
            ],
        }
    },
    "many": {"v": {"type": "multi_static_select", "selected_options": []}},
    "kind": {"v": {"type": "static_select", "selected_option": None}},
}


def test_view_submission_values():
    body = view_submission_payload(
        user_id="U1",
        private_metadata=modal_metadata("pr-9", "DU1", "1700000001.000002"),
        values=STATE,
    )
    sub = parse_view_submission(body)
    assert sub is not None
    assert sub.action.prompt_id == "pr-9"
    assert sub.action.key == "slack:view:V00001:1700000200.abcdEFGH"
    assert sub.action.values == {
        "what": "Team meeting with Bo",
        "when": "2025-03-14",
        "conf": "4",
        "behaviours": ["paraphrase", "pause"],
    }
    assert (sub.channel, sub.message_ts) == ("DU1", "1700000001.000002")
    plain = view_submission_payload(user_id="U1", private_metadata="pr-9", values={})
    assert parse_view_submission(plain).action.prompt_id == "pr-9"
    other = view_submission_payload(
        user_id="U1", private_metadata="pr-9", values={}, callback_id="x"
    )
    assert parse_view_submission(other) is None
    assert parse_state_values("junk") == {}


def test_message_im():
    typed = parse_message_event(
        message_im_event(user_id="U1", text="I listened &amp; paraphrased &lt;3")
    )
    assert typed is not None
    assert typed.action.text == "I listened & paraphrased <3"
    assert typed.action.key == "slack:ev:Ev0001"
    assert typed.action.prompt_id is None and typed.action.values == {}


def test_threaded_reply_carries_thread_ts():
    typed = parse_message_event(
        message_im_event(user_id="U1", text="it went well", thread_ts="1700000001.000002")
    )
    assert typed.thread_ts == "1700000001.000002"
    assert typed.action.values == {"_thread_ts": "1700000001.000002", "_channel": "DU1"}


def test_ignored_messages():
    bot = message_im_event(user_id="UBOT", text="prompt", bot_id="BBOT")
    edited = message_im_event(user_id="U1", text="x", subtype="message_changed")
    channel = message_im_event(user_id="U1", text="x", channel_type="channel", channel="C1")
    empty = message_im_event(user_id="U1", text="  ")
    for body in (bot, edited, channel, empty, {"type": "event_callback", "event": "x"}, {}):
        assert parse_message_event(body) is None


def test_slash_command():
    form = slash_command_form(
        user_id="UADMIN",
        text="enroll active-listening <@U1|ana> <mailto:bo@example.com|bo@example.com> manager <@U9|mo>",
    )
    cmd = parse_slash_command(form)
    # Slack's syntax becomes the grammar's neutral terms: user references and plain addresses
    assert cmd.text == "enroll active-listening <user:U1|ana> bo@example.com manager <user:U9|mo>"
    assert parse_command(cmd.text, date(2026, 12, 1)) == Enroll(
        "active-listening", (UserRef("mention", "U1", "ana"), UserRef("email", "bo@example.com")),
        UserRef("mention", "U9", "mo"))
    assert cmd.key == "slack:cmd:" + form["trigger_id"]
    assert cmd.user_id == "UADMIN" and cmd.response_url == form["response_url"]
    assert parse_slash_command({"command": "/journey"}) is None


@pytest.mark.parametrize(("typed", "neutral"), [
    ("<@U123ABC>", "<user:U123ABC>"),
    ("<@U123ABC|Ana Smith>", "<user:U123ABC|Ana Smith>"),
    ("<mailto:Cy@Example.COM>", "Cy@Example.COM"),
    ("<#C123|general>", "#general"),
    ("<https://example.com|site>", "https://example.com"),
    ("&lt;@U1&gt; &amp; co", "<@U1> & co"),  # typed, not a mention: stays text
])
def test_slash_command_text_turns_slack_syntax_into_the_grammars_terms(typed: str, neutral: str):
    assert normalize_command_text(typed) == neutral
