"""Slack request bodies (as bolt hands them to listeners) -> neutral inbound actions. Pure.

Idempotency keys (same user action => same key, so the engine's unique constraint catches
Slack's retries and redeliveries):

- events (`message.im`):       ``slack:ev:<event_id>``
- block_actions (a click):     ``slack:act:<container message_ts or view id>:<action_id>:<action_ts>``
  (Slack does not retry interactivity; a double click has a new action_ts and reaches the
  engine as a second answer, which it refuses)
- view_submission (a modal):   ``slack:view:<view id>:<view hash>``
- slash commands:              ``slack:cmd:<trigger_id>``

A message typed in a prompt's thread carries ``values["_thread_ts"]`` (the prompt message's
ts) and ``values["_channel"]``; the app resolves that to the prompt id before calling the
handler when it can.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from typing import Any

from adapters.slack.render import BUTTON_ACTION_PREFIX, FORM_ACTION_ID, FORM_CALLBACK_ID
from journeys.admin.commands import user_token
from ports.chat import InboundAction

PLATFORM = "slack"
THREAD_KEY = "_thread_ts"
CHANNEL_KEY = "_channel"


@dataclass(frozen=True)
class SlashCommand:
    user_id: str
    text: str
    key: str
    command: str
    channel_id: str | None = None
    response_url: str | None = None
    trigger_id: str | None = None


@dataclass(frozen=True)
class OpenForm:
    """The `hplj:form` button: open the prompt's form as a modal."""

    user_id: str
    prompt_id: str
    trigger_id: str
    channel: str | None = None
    message_ts: str | None = None


@dataclass(frozen=True)
class ButtonClick:
    action: InboundAction
    channel: str | None = None
    message_ts: str | None = None


@dataclass(frozen=True)
class FormSubmission:
    action: InboundAction
    channel: str | None = None  # where the prompt message lives, when the modal knows
    message_ts: str | None = None


@dataclass(frozen=True)
class TypedText:
    action: InboundAction
    channel: str
    ts: str
    thread_ts: str | None = None


def _d(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _s(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def decode_button_value(value: Any) -> tuple[str | None, str | None]:
    """(prompt_id, value) from a button's `value` (compact JSON; a bare string is the value)."""
    if not isinstance(value, str):
        return None, None
    try:
        data = json.loads(value)
    except ValueError:
        return None, value
    if isinstance(data, dict):
        p, v = data.get("p"), data.get("v")
        return (p if isinstance(p, str) else None), (v if isinstance(v, str) else None)
    return None, value


def decode_modal_metadata(meta: Any) -> tuple[str | None, str | None, str | None]:
    """(prompt_id, channel, message_ts) from a modal's private_metadata."""
    if not isinstance(meta, str) or not meta:
        return None, None, None
    if meta.startswith("{"):
        try:
            data = json.loads(meta)
        except ValueError:
            return None, None, None
        if isinstance(data, dict):
            return _s(data.get("p")), _s(data.get("c")), _s(data.get("ts"))
        return None, None, None
    return meta, None, None


def _message_origin(body: dict[str, Any]) -> tuple[str | None, str | None]:
    container = _d(body.get("container"))
    channel = _s(container.get("channel_id")) or _s(_d(body.get("channel")).get("id"))
    ts = _s(container.get("message_ts")) or _s(_d(body.get("message")).get("ts"))
    return channel, ts


def parse_block_action(body: dict[str, Any]) -> list[ButtonClick | OpenForm]:
    """The hplj actions in a `block_actions` payload (normally exactly one)."""
    if body.get("type") != "block_actions":
        return []
    user_id = _s(_d(body.get("user")).get("id"))
    if not user_id:
        return []
    channel, message_ts = _message_origin(body)
    container = _d(body.get("container"))
    anchor = message_ts or _s(container.get("view_id")) or _s(_d(body.get("view")).get("id")) or "-"
    out: list[ButtonClick | OpenForm] = []
    actions = body.get("actions")
    for act in actions if isinstance(actions, list) else []:
        act = _d(act)
        action_id = _s(act.get("action_id")) or ""
        prompt_id, value = decode_button_value(act.get("value"))
        if action_id == FORM_ACTION_ID:
            trigger_id = _s(body.get("trigger_id"))
            if prompt_id and trigger_id:
                out.append(OpenForm(user_id, prompt_id, trigger_id, channel, message_ts))
        elif action_id.startswith(BUTTON_ACTION_PREFIX):
            if not prompt_id or value is None:
                continue
            action_ts = _s(act.get("action_ts")) or "-"
            key = f"slack:act:{anchor}:{action_id}:{action_ts}"
            action = InboundAction(
                platform=PLATFORM, user_id=user_id, key=key, prompt_id=prompt_id, button=value
            )
            out.append(ButtonClick(action, channel, message_ts))
    return out


def parse_state_values(state: Any) -> dict[str, str | list[str]]:
    """Modal `view.state.values` -> {block_id (= field id): str | list[str]}.

    Empty optional inputs are left out; dates are YYYY-MM-DD as Slack sends them.
    """
    values: dict[str, str | list[str]] = {}
    blocks = _d(_d(state).get("values"))
    for block_id, actions in blocks.items():
        if not isinstance(block_id, str):
            continue
        for raw in _d(actions).values():
            el = _d(raw)
            kind = el.get("type")
            value: str | list[str] | None = None
            if kind in ("plain_text_input", "email_text_input", "url_text_input", "number_input"):
                value = _s(el.get("value"))
            elif kind == "datepicker":
                value = _s(el.get("selected_date"))
            elif kind == "timepicker":
                value = _s(el.get("selected_time"))
            elif kind in ("static_select", "radio_buttons", "external_select"):
                value = _s(_d(el.get("selected_option")).get("value"))
            elif kind in ("checkboxes", "multi_static_select", "multi_external_select"):
                opts = el.get("selected_options")
                value = [
                    v
                    for v in (
                        _s(_d(o).get("value")) for o in (opts if isinstance(opts, list) else [])
                    )
                    if v
                ]
            elif kind == "users_select":
                value = _s(el.get("selected_user"))
            if value is not None and value != []:
                values[block_id] = value
    return values


def parse_view_submission(body: dict[str, Any]) -> FormSubmission | None:
    if body.get("type") != "view_submission":
        return None
    view = _d(body.get("view"))
    if view.get("callback_id") != FORM_CALLBACK_ID:
        return None
    user_id = _s(_d(body.get("user")).get("id"))
    prompt_id, channel, message_ts = decode_modal_metadata(view.get("private_metadata"))
    if not user_id or not prompt_id:
        return None
    view_id = _s(view.get("id")) or "-"
    view_hash = _s(view.get("hash")) or "-"
    action = InboundAction(
        platform=PLATFORM,
        user_id=user_id,
        key=f"slack:view:{view_id}:{view_hash}",
        prompt_id=prompt_id,
        values=dict(parse_state_values(view.get("state"))),
    )
    return FormSubmission(action, channel, message_ts)


def unescape_text(text: str) -> str:
    """Slack escapes &, < and > in message text; give the engine what the person typed."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def parse_message_event(body: dict[str, Any]) -> TypedText | None:
    """A person's DM to the bot (`message.im`), or None for anything to ignore.

    Ignored: bot messages (own or other bots), any subtype (edits, deletions, joins, file
    shares without text...), non-DM channels, empty text.
    """
    if body.get("type") != "event_callback":
        return None
    event = _d(body.get("event"))
    if event.get("type") != "message":
        return None
    if event.get("subtype") is not None or event.get("bot_id") or event.get("bot_profile"):
        return None
    if event.get("channel_type") not in ("im", None):
        return None
    user_id = _s(event.get("user"))
    channel = _s(event.get("channel"))
    ts = _s(event.get("ts"))
    text = event.get("text")
    if not user_id or not channel or not ts or not isinstance(text, str) or not text.strip():
        return None
    if event.get("channel_type") is None and not channel.startswith("D"):
        return None
    event_id = _s(body.get("event_id")) or f"{channel}:{ts}"
    thread_ts = _s(event.get("thread_ts"))
    if thread_ts == ts:
        thread_ts = None  # the thread's parent itself
    values: dict[str, Any] = {}
    if thread_ts:
        values = {THREAD_KEY: thread_ts, CHANNEL_KEY: channel}
    action = InboundAction(
        platform=PLATFORM,
        user_id=user_id,
        key=f"slack:ev:{event_id}",
        text=unescape_text(text.strip()),
        values=values,
        reply_to=thread_ts or None,
    )
    return TypedText(action, channel, ts, thread_ts)


def parse_slash_command(body: dict[str, Any]) -> SlashCommand | None:
    """A slash command form (`command=/journey&text=...`)."""
    command = _s(body.get("command"))
    user_id = _s(body.get("user_id"))
    trigger_id = _s(body.get("trigger_id"))
    if not command or not user_id or not trigger_id:  # Slack always sends all three
        return None
    raw_text = body.get("text")
    text = raw_text if isinstance(raw_text, str) else ""
    key = f"slack:cmd:{trigger_id}"
    return SlashCommand(
        user_id=user_id,
        text=normalize_command_text(text),
        key=key,
        command=command,
        channel_id=_s(body.get("channel_id")),
        response_url=_s(body.get("response_url")),
        trigger_id=trigger_id,
    )


def with_prompt(action: InboundAction, prompt_id: str | None) -> InboundAction:
    """The same action routed to `prompt_id` (a threaded reply resolved to its prompt)."""
    if not prompt_id:
        return action
    return replace(action, prompt_id=prompt_id, values=dict(action.values))


_MAILTO = re.compile(r"<mailto:([^|>\s]+)(?:\|[^>]*)?>")
_URL = re.compile(r"<((?:https?):[^|>\s]+)(?:\|[^>]*)?>")
_MENTION = re.compile(r"<@([^\s<>|]+)(?:\|([^<>]*))?>")
_CHANNEL = re.compile(r"<#([^\s<>|]+)(?:\|([^<>]*))?>")


def normalize_command_text(text: str) -> str:
    """Slash command text as the admin meant it, in the grammar's neutral terms: Slack's escaping
    (`should_escape`) turns e-mail addresses into `<mailto:a@b.c|a@b.c>` and links into
    `<https://..|..>` (keep the address / URL); user mentions `<@U123|name>` become the grammar's
    user reference (`user_token`), channels `<#C123|general>` `#general`; &amp; &lt; &gt; are
    unescaped last, so a typed `&lt;@U1&gt;` stays text."""
    text = _MAILTO.sub(lambda m: m.group(1), text)
    text = _URL.sub(lambda m: m.group(1), text)
    text = _MENTION.sub(lambda m: user_token(m.group(1), m.group(2)), text)
    text = _CHANNEL.sub(lambda m: "#" + (m.group(2) or m.group(1)), text)
    return unescape_text(text).strip()
