"""POST /slack/events over real HTTP: signatures, acks, and what reaches the BotHandler."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.slack.app import mount_slack
from adapters.slack.client import SlackChat
from adapters.slack.render import button_value
from journeys.messages import Button, FormField, Message, Option
from ports.chat import HandlerResult
from tests.fakes.slack_api import (
    block_actions_payload,
    message_im_event,
    slash_command_form,
    view_submission_payload,
)

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"  # the same as conftest's (conftest is not importable)
TOKEN = "xoxb-test"


def stale_ts() -> int:
    return int(time.time()) - 5 * 60 - 5


PROMPT = Message(
    recipient_id="p-ana",
    text="Which moment that matters is coming up?",
    title="Plan an MTM",
    journey_title="Active listening",
    prompt_id="pr-1",
    buttons=(Button("Skip", "skip"),),
    fields=(
        FormField("what", "What is the moment?", "text"),
        FormField("when", "When?", "date"),
        FormField(
            "kind", "Kind", "choice", options=(Option("safe", "Safe"), Option("real", "Real"))
        ),
    ),
    form_label="Plan MTM",
)
SUPPORT = Message(
    recipient_id="p-mo",
    text="Ana planned an MTM: team meeting on Friday.",
    journey_title="Active listening",
    prompt_id="sr-1",
    buttons=(Button("Approve", "approve", "primary"), Button("Coach", "coach")),
    audience="manager",
)


async def test_refuses_to_build_without_signing_secret():
    with pytest.raises(ValueError, match="SLACK_SIGNING_SECRET"):
        mount_slack(web.Application(), object(), signing_secret="", token=TOKEN)  # type: ignore[arg-type]


async def test_slash_command_reaches_handler_and_replies_ephemerally(slack):
    slack.handler.command_result = HandlerResult(
        replies=(Message(recipient_id="", text="Enrolled 2 people in active-listening."),)
    )
    form = slash_command_form(
        user_id="UADMIN",
        text="enroll active-listening <@U1|ana> <mailto:bo@example.com|bo@example.com> manager <@UMGR|mo>",
        response_url=slack.fake.response_url("cmd1"),
    )
    resp = await slack.post_form(form)
    assert resp.status == 200
    [posted] = await slack.fake.wait_for_response_url(1)
    assert slack.handler.commands == [
        (
            "slack",
            "UADMIN",
            "enroll active-listening <user:U1|ana> bo@example.com manager <user:UMGR|mo>",
            "slack:cmd:" + form["trigger_id"],
        )
    ]
    assert posted["url_token"] == "cmd1"
    assert posted["response_type"] == "ephemeral"
    assert "Enrolled 2 people" in posted["text"]
    assert posted["blocks"][0]["type"] == "section"


async def test_a_command_whose_text_says_payload_is_still_answered(slack):
    """Bolt's own body parser reads any form body containing the word "payload" as an empty
    interactive payload (the command was dropped); the endpoint parses once and hands bolt that."""
    slack.handler.command_result = HandlerResult(replies=(Message(recipient_id="", text="Here is the help."),))
    form = slash_command_form(user_id="UADMIN", text="help payload", response_url=slack.fake.response_url("cmd2"))
    resp = await slack.post_form(form)
    assert resp.status == 200
    [posted] = await slack.fake.wait_for_response_url(1)
    assert [c[2] for c in slack.handler.commands] == ["help payload"]
    assert "Here is the help." in posted["text"]


@pytest.mark.parametrize("case", ["forged", "stale", "missing", "garbage_ts"])
async def test_bad_signatures_get_401_and_change_nothing(slack, case):
    form = slash_command_form(
        user_id="UADMIN", text="forget U1", response_url=slack.fake.response_url()
    )
    if case == "forged":
        resp = await slack.post_form(
            form,
            sign=False,
            headers={
                "X-Slack-Request-Timestamp": str(int(time.time())),
                "X-Slack-Signature": "v0=" + "0" * 64,
            },
        )
    elif case == "stale":
        resp = await slack.post_form(form, timestamp=stale_ts())
    elif case == "missing":
        resp = await slack.post_form(form, sign=False)
    else:
        resp = await slack.post_form(
            form,
            sign=False,
            headers={"X-Slack-Request-Timestamp": "yesterday", "X-Slack-Signature": "v0=abc"},
        )
    assert resp.status == 401
    await asyncio.sleep(0.05)
    await slack.inbound.drain()
    assert slack.handler.commands == [] and slack.handler.actions == []
    assert slack.fake.responses == [] and slack.fake.calls == []


async def test_body_signed_with_other_secret_is_refused(slack):
    from tests.fakes.slack_api import sign_request

    body = json.dumps(message_im_event(user_id="U1", text="hi"))
    resp = await slack.post_raw(
        body,
        content_type="application/json",
        sign=False,
        headers=sign_request(body, "not-" + SECRET),
    )
    assert resp.status == 401
    assert slack.handler.actions == []


async def test_url_verification(slack):
    body = json.dumps(
        {
            "token": "t",
            "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
            "type": "url_verification",
        }
    )
    resp = await slack.post_raw(body, content_type="application/json")
    assert resp.status == 200


async def test_a_button_click_reaches_the_handler_and_the_adapter_leaves_the_message_to_the_outbox(slack):
    """One owner per message update: the outbox updates the clicked message (rate-limited), so the
    adapter never calls chat.update itself, whatever the handler answers."""
    chat = SlackChat(TOKEN, api_url=slack.fake.api_url)
    channel = await chat.open_dm("UMGR")
    ref = await chat.send(channel, SUPPORT, "dl-1")
    answered = Message(
        **{**SUPPORT.__dict__, "closed": True, "text": SUPPORT.text + "\n*You approved.*"}
    )
    slack.handler.action_result = HandlerResult(updated=answered)
    payload = block_actions_payload(
        user_id="UMGR",
        action_id="hplj:btn:approve",
        value=button_value("sr-1", "approve"),
        channel=channel,
        message_ts=ref.message_id,
        response_url=slack.fake.response_url("act", message=(channel, ref.message_id)),
    )
    resp = await slack.post_payload(payload)
    assert resp.status == 200
    await slack.inbound.drain()
    [action] = slack.handler.actions
    assert (action.user_id, action.prompt_id, action.button) == ("UMGR", "sr-1", "approve")
    assert action.refresh_in_place is False  # the outbox owns this message's update
    assert slack.fake.updates_per_message() == {}
    assert "edited" not in slack.fake.posted(channel)[0]


async def test_refusal_goes_back_ephemerally(slack):
    slack.handler.action_result = HandlerResult(
        replies=(Message(recipient_id="", text="This button is for your manager, not for you."),)
    )
    payload = block_actions_payload(
        user_id="U1",
        action_id="hplj:btn:approve",
        value=button_value("sr-1", "approve"),
        channel="DU1",
    )
    assert (await slack.post_payload(payload)).status == 200
    [eph] = await slack.fake.wait_for("chat.postEphemeral")
    assert eph.params["user"] == "U1" and eph.params["channel"] == "DU1"
    assert "not for you" in eph.params["text"]
    assert slack.fake.calls_to("chat.update") == []


async def test_ack_is_fast_and_slow_work_still_completes(slack):
    slack.handler.delay = 2.0
    slack.handler.action_result = HandlerResult(replies=(Message(recipient_id="", text="done"),))
    payload = block_actions_payload(
        user_id="U1", action_id="hplj:btn:skip", value=button_value("pr-1", "skip"), channel="DU1"
    )
    t0 = time.monotonic()
    resp = await slack.post_payload(payload)
    elapsed = time.monotonic() - t0
    assert resp.status == 200
    assert elapsed < 1.0, elapsed  # acked long before the 2 s handler finishes
    await slack.fake.wait_for("chat.postEphemeral", timeout=5)


async def test_form_button_opens_modal_and_submission_is_parsed(slack):
    chat = SlackChat(TOKEN, api_url=slack.fake.api_url)
    channel = await chat.open_dm("U1")
    ref = await chat.send(channel, PROMPT, "dl-2")
    slack.handler.prompts["pr-1"] = PROMPT
    click = block_actions_payload(
        user_id="U1",
        action_id="hplj:form",
        value=button_value("pr-1", ""),
        channel=channel,
        message_ts=ref.message_id,
        trigger_id="trig-1",
    )
    assert (await slack.post_payload(click)).status == 200
    [opened] = await slack.fake.wait_for("views.open")
    view = opened.params["view"]
    assert opened.params["trigger_id"] == "trig-1"
    assert view["callback_id"] == "hplj:form" and view["type"] == "modal"
    assert [b["block_id"] for b in view["blocks"] if b["type"] == "input"] == [
        "what",
        "when",
        "kind",
    ]
    assert slack.handler.actions == []  # opening a form answers nothing

    closed = Message(
        **{**PROMPT.__dict__, "closed": True, "text": "MTM planned: team meeting, 2025-03-14"}
    )
    slack.handler.action_result = HandlerResult(updated=closed)
    submit = view_submission_payload(
        user_id="U1",
        private_metadata=view["private_metadata"],
        values={
            "what": {"v": {"type": "plain_text_input", "value": "team meeting"}},
            "when": {"v": {"type": "datepicker", "selected_date": "2025-03-14"}},
            "kind": {
                "v": {
                    "type": "static_select",
                    "selected_option": {
                        "text": {"type": "plain_text", "text": "Real"},
                        "value": "real",
                    },
                }
            },
        },
    )
    resp = await slack.post_payload(submit)
    assert resp.status == 200
    await slack.inbound.drain()
    [action] = slack.handler.actions
    assert action.prompt_id == "pr-1" and action.user_id == "U1"
    assert action.values == {"what": "team meeting", "when": "2025-03-14", "kind": "real"}
    assert action.key == "slack:view:V00001:1700000200.abcdEFGH"
    assert slack.fake.calls_to("chat.update") == []  # the outbox updates the prompt's message


async def test_form_for_closed_prompt_says_so(slack):
    slack.handler.prompts["pr-1"] = Message(**{**PROMPT.__dict__, "closed": True})
    click = block_actions_payload(
        user_id="U1", action_id="hplj:form", value=button_value("pr-1", "")
    )
    await slack.post_payload(click)
    [eph] = await slack.fake.wait_for("chat.postEphemeral")
    assert "no longer open" in eph.params["text"]
    assert slack.fake.calls_to("views.open") == []


async def test_dm_text_becomes_a_text_action(slack):
    slack.handler.action_result = HandlerResult(
        replies=(Message(recipient_id="", text="Thanks, noted."),)
    )
    resp = await slack.post_event(
        message_im_event(user_id="U1", text="I paraphrased twice &amp; it worked")
    )
    assert resp.status == 200
    await slack.fake.wait_for("chat.postMessage")
    [action] = slack.handler.actions
    assert action.text == "I paraphrased twice & it worked"
    assert action.key == "slack:ev:Ev0001" and action.prompt_id is None


async def test_thread_reply_routes_to_its_prompt(slack):
    chat = SlackChat(TOKEN, api_url=slack.fake.api_url)
    channel = await chat.open_dm("U1")
    ref = await chat.send(channel, PROMPT, "dl-3")
    await chat.send(channel, SUPPORT, "dl-4")  # a newer message in the same DM
    slack.handler.action_result = HandlerResult(
        updated=Message(**{**PROMPT.__dict__, "closed": True})
    )
    event = message_im_event(
        user_id="U1",
        text="team meeting friday",
        channel=channel,
        thread_ts=ref.message_id,
        event_id="Ev0002",
    )
    assert (await slack.post_event(event)).status == 200
    await slack.inbound.drain()
    [action] = slack.handler.actions
    assert action.prompt_id == "pr-1"
    assert action.values["_thread_ts"] == ref.message_id
    assert slack.fake.calls_to("chat.update") == []  # the outbox updates the prompt's message


async def test_retried_event_has_the_same_key(slack):
    event = message_im_event(user_id="U1", text="hello", event_id="Ev0042")
    await slack.post_event(event)
    await slack.post_event(
        event, headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    )
    await slack.inbound.drain()
    for _ in range(100):
        if len(slack.handler.actions) == 2:
            break
        await asyncio.sleep(0.01)
    keys = {a.key for a in slack.handler.actions}
    assert keys == {"slack:ev:Ev0042"}  # the engine's unique constraint drops the second


@pytest.mark.parametrize(
    "extra",
    [
        {"bot_id": "BBOT", "user": "UBOT"},
        {"subtype": "message_changed"},
        {"subtype": "bot_message", "bot_id": "B2"},
        {"channel_type": "channel", "channel": "C1"},
    ],
)
async def test_bot_and_edited_messages_are_ignored(slack, extra):
    event = message_im_event(user_id="U1", text="prompt text", **extra)
    resp = await slack.post_event(event)
    assert resp.status == 200
    await asyncio.sleep(0.05)
    await slack.inbound.drain()
    assert slack.handler.actions == []


async def test_app_home_opened_publishes_a_view(slack):
    event = {
        "type": "app_home_opened",
        "user": "U1",
        "channel": "DU1",
        "tab": "home",
        "event_ts": "1700000500.000100",
    }
    from tests.fakes.slack_api import event_envelope

    slack.handler.home = [Message("U1", "Nothing is waiting for you this week.", title="Your journeys")]
    assert (await slack.post_event(event_envelope(event, event_id="Ev9"))).status == 200
    [pub] = await slack.fake.wait_for("views.publish")
    assert pub.params["user_id"] == "U1" and pub.params["view"]["type"] == "home"
    assert slack.handler.homes == ["U1"]  # the BotHandler's declared home view was asked
    assert "Nothing is waiting for you this week." in json.dumps(pub.params["view"])


async def test_malformed_payload_is_400_not_500(slack):
    for body in ("payload=%7Bnot-json", "payload=%5B1%2C2%5D", "payload=", "{", "[]", "x=1"):
        resp = await slack.post_raw(
            body.encode("latin-1"), content_type="application/x-www-form-urlencoded"
        )
        assert resp.status == 400, body
    # not UTF-8: the signature cannot be checked the way Slack computes it
    resp = await slack.post_raw(b"\xff\xfe", content_type="application/x-www-form-urlencoded")
    assert resp.status == 401
    assert slack.handler.actions == [] and slack.handler.commands == []


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=20,
)
slack_keys = st.sampled_from(
    [
        "type",
        "user",
        "team",
        "channel",
        "enterprise",
        "event",
        "actions",
        "view",
        "container",
        "message",
        "authorizations",
        "trigger_id",
        "response_url",
        "command",
        "user_id",
        "text",
        "callback_id",
        "state",
        "event_id",
        "team_id",
        "is_ext_shared_channel",
        "api_app_id",
    ]
)
slackish = st.dictionaries(
    slack_keys,
    json_values
    | st.sampled_from(
        ["block_actions", "view_submission", "event_callback", "url_verification", "message"]
    ),
    max_size=8,
)

bodies = st.one_of(
    st.binary(max_size=300).map(lambda b: (b, "application/x-www-form-urlencoded")),
    st.text(max_size=200).map(
        lambda t: (("payload=" + t).encode(), "application/x-www-form-urlencoded")
    ),
    slackish.map(
        lambda d: (("payload=" + json.dumps(d)).encode(), "application/x-www-form-urlencoded")
    ),
    slackish.map(lambda d: (json.dumps(d).encode(), "application/json")),
    slackish.map(
        lambda d: (
            json.dumps({**d, "type": "event_callback", "event": d}).encode(),
            "application/json",
        )
    ),
    st.dictionaries(st.text(max_size=10), st.text(max_size=30), max_size=6).map(
        lambda d: (
            "&".join(f"{k}={v}" for k, v in d.items()).encode(),
            "application/x-www-form-urlencoded",
        )
    ),
)


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=bodies, signed=st.booleans())
async def test_fuzzed_bodies_never_get_a_500(slack, body, signed):
    raw, content_type = body
    resp = await slack.post_raw(raw, content_type=content_type, sign=signed)
    assert resp.status < 500, (resp.status, raw)
    if not signed:
        assert resp.status == 401


async def test_socket_mode_needs_no_signing_secret(fake):
    from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler  # noqa: F401

    from adapters.slack.app import SlackInbound

    inbound = SlackInbound(
        object(),  # type: ignore[arg-type]
        token=TOKEN,
        signing_secret=None,
        api_url=fake.api_url,
        socket_mode=True,
    )
    assert inbound.verifier is None and inbound.client.retry_handlers == []
