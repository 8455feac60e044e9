"""Neutral `Message` -> Slack Block Kit. Pure functions, no I/O.

Every string that reaches Slack goes through `truncate` with the limit Slack enforces for
that slot, so a long user text is shortened with an ellipsis instead of being rejected
(`invalid_blocks`). Limits follow Slack's Block Kit reference (and slack_sdk.models).
"""

from __future__ import annotations

import json
import re
from typing import Any

from journeys.messages import FormField, Message, Option
from journeys.text import plain as plain_words
from journeys.text import segments
from ports.chat import shown_verbatim

# --- Slack limits -------------------------------------------------------------------------
MAX_BLOCKS = 50  # per message
MAX_MODAL_BLOCKS = 100  # per view
MAX_HOME_BLOCKS = 100
SECTION_TEXT = 3000
HEADER_TEXT = 150
FIELD_TEXT = 2000
MAX_FIELDS = 10  # per section
CONTEXT_TEXT = 2000
MAX_CONTEXT_ELEMENTS = 10
BUTTON_TEXT = 75
BUTTON_VALUE = 2000
MAX_ACTION_ELEMENTS = 25  # per actions block
ACTION_ID = 255
BLOCK_ID = 255
URL = 3000
MODAL_TITLE = 24
MODAL_BUTTON = 24
PRIVATE_METADATA = 3000
INPUT_LABEL = 2000
INPUT_HINT = 2000
PLACEHOLDER = 150
OPTION_TEXT = 75
OPTION_VALUE = 150
MAX_OPTIONS = 100
MAX_CHECKBOX_OPTIONS = 10
MESSAGE_TEXT = 3000  # notification/fallback text (Slack truncates top-level text at 40k)
PLAIN_INPUT_MAX = 3000

ELLIPSIS = "…"

# action ids / callback ids the inbound side listens for
BUTTON_ACTION_PREFIX = "hplj:btn:"
FORM_ACTION_ID = "hplj:form"
FORM_CALLBACK_ID = "hplj:form"
INPUT_ACTION_ID = "v"


def truncate(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, ending in an ellipsis when it was cut."""
    if limit <= 0:
        return ""
    if len(text) <= limit:
        return text
    if limit == 1:
        return ELLIPSIS
    return text[: limit - 1] + ELLIPSIS


_PARTIAL_ENTITY = re.compile(r"&[a-z]{0,4}$")
_SLACK_ID = re.compile(r"[UWB][A-Z0-9]{1,40}")


def escape_mrkdwn(text: str) -> str:
    """Escape &, < and > everywhere, as Slack requires: no link, mention or broadcast can come
    from the text itself. The bot's own mentions (`journeys.text.mention`) become `<@U…>`."""
    out: list[str] = []
    for kind, value in segments(text):
        if kind == "mention":
            out.append(f"<@{value}>" if _SLACK_ID.fullmatch(value) else _escape(f"@{value}"))
        else:
            out.append(_escape(value))
    return "".join(out)


def md(text: str) -> dict[str, Any]:
    """A mrkdwn text object Slack shows as written: `verbatim` stops it from turning bare URLs,
    #channels and @names into links or mentions (only `<…>` tokens the bot wrote are live)."""
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def mrkdwn(text: str, limit: int) -> str:
    """Escaped mrkdwn cut to `limit`, never ending in half an `&amp;` entity."""
    escaped = escape_mrkdwn(text)
    if len(escaped) <= limit:
        return escaped
    cut = escaped[: limit - 1]
    cut = _PARTIAL_ENTITY.sub("", cut)
    # do not leave half a <@U..> / <http..|..> token open
    last_open = cut.rfind("<")
    if last_open > cut.rfind(">"):
        cut = cut[:last_open]
    return cut + ELLIPSIS


def plain(text: str, limit: int, *, fallback: str = " ") -> dict[str, Any]:
    value = truncate(plain_words(text).strip() or fallback, limit)
    return {"type": "plain_text", "text": value, "emoji": True}


def _link_label(label: str) -> str:
    # `|` and `>` end a link label in mrkdwn
    return plain_words(label).replace("|", "¦").replace(">", "›").replace("<", "‹")


def button_value(prompt_id: str | None, value: str) -> str:
    """Compact JSON carried in a button: prompt id and the button's value, within 2000 chars."""
    data = {"p": prompt_id, "v": value}
    encoded = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    if len(encoded) <= BUTTON_VALUE:
        return encoded
    overflow = len(encoded) - BUTTON_VALUE
    data["v"] = value[: max(0, len(value) - overflow - 8)]
    encoded = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    while len(encoded) > BUTTON_VALUE and data["v"]:
        data["v"] = data["v"][:-16]
        encoded = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    return encoded


def _button(label: str, action_id: str, value: str, style: str = "default") -> dict[str, Any]:
    el: dict[str, Any] = {
        "type": "button",
        "text": plain(label, BUTTON_TEXT, fallback="OK"),
        "action_id": action_id[:ACTION_ID],
        "value": value[:BUTTON_VALUE],
    }
    if style in ("primary", "danger"):
        el["style"] = style
    return el


def _action_buttons(msg: Message) -> list[dict[str, Any]]:
    elements: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i, b in enumerate(msg.buttons):
        action_id = (BUTTON_ACTION_PREFIX + b.value)[:ACTION_ID]
        if action_id in seen:  # action ids must be unique within a block
            suffix = f":{i}"
            action_id = action_id[: ACTION_ID - len(suffix)] + suffix
        seen.add(action_id)
        elements.append(_button(b.label, action_id, button_value(b.prompt_id or msg.prompt_id, b.value), b.style))
    if msg.fields:
        elements.append(
            _button(
                msg.form_label or "Answer",
                FORM_ACTION_ID,
                button_value(msg.prompt_id, ""),
                "primary",
            )
        )
    return elements


def _chunks(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def render_blocks(msg: Message) -> list[dict[str, Any]]:
    """Block Kit blocks for a chat message (at most 50, every text within Slack's limits)."""
    head: list[dict[str, Any]] = []
    body: list[dict[str, Any]] = []
    tail: list[dict[str, Any]] = []

    heading = msg.journey_title or msg.title
    if heading.strip():
        head.append({"type": "header", "text": plain(heading, HEADER_TEXT)})

    text_parts: list[str] = []
    if msg.title and msg.journey_title and msg.title.strip():
        text_parts.append(f"*{mrkdwn(msg.title, 500)}*")
    if msg.text.strip():
        text_parts.append(escape_mrkdwn(msg.text))
    if text_parts:
        joined = "\n".join(text_parts)
        body.append({"type": "section", "text": md(_cut_mrkdwn(joined))})

    if msg.links:
        lines = []
        for link in msg.links:
            url = link.url.strip()
            label = _link_label(link.label.strip() or url)
            if url and len(url) <= URL and not any(c in url for c in "<>| "):
                lines.append(f"• <{url}|{escape_mrkdwn(label)}>")
            else:
                lines.append(f"• {escape_mrkdwn(label)}")
        body.append(
            {"type": "section", "text": md(_cut_mrkdwn("\n".join(lines)))}
        )

    if msg.facts:
        fields = [
            md(
                _cut_mrkdwn(
                    f"*{mrkdwn(label, 200)}*\n{escape_mrkdwn(value) or '-'}"
                    if label.strip()
                    else escape_mrkdwn(value) or "-",
                    FIELD_TEXT,
                )
            )
            for label, value in msg.facts
        ]
        for chunk in _chunks(fields, MAX_FIELDS):
            body.append({"type": "section", "fields": chunk})

    if msg.attachment_name and msg.attachment_text:
        # shown inline, cut, only when the file could not be uploaded (adapters/slack/files.py)
        name = escape_mrkdwn(msg.attachment_name)
        fence = "```"
        room = SECTION_TEXT - len(name) - 2 * len(fence) - 4
        content = _cut_mrkdwn(_escape(plain_words(msg.attachment_text).replace("```", "'''")), room)
        body.append({"type": "section", "text": md(f"*{name}*\n{fence}{content}{fence}")})

    if not msg.closed:
        for chunk in _chunks(_action_buttons(msg), MAX_ACTION_ELEMENTS):
            tail.append({"type": "actions", "elements": chunk})

    context_bits: list[str] = []
    if msg.closed:
        context_bits.append(":white_check_mark: Answered")
    if msg.context.strip():
        context_bits.append(msg.context)
    if context_bits:
        tail.append(
            {
                "type": "context",
                "elements": [
                    md(mrkdwn(bit, CONTEXT_TEXT)) for bit in context_bits
                ],
            }
        )

    room = MAX_BLOCKS - len(head) - len(tail)
    if len(body) > room:
        body = body[: room - 1] + [
            {"type": "context", "elements": [md("… (more not shown)")]}
        ]
    blocks = head + body + tail
    if not blocks:
        blocks = [{"type": "section", "text": md(" ")}]
    return blocks[:MAX_BLOCKS]


def _cut_mrkdwn(escaped: str, limit: int = SECTION_TEXT) -> str:
    """Cut already-escaped mrkdwn to `limit` characters (keeping entities/tokens whole)."""
    if len(escaped) <= limit:
        return escaped
    cut = _PARTIAL_ENTITY.sub("", escaped[: limit - 1])
    last_open = cut.rfind("<")
    if last_open > cut.rfind(">"):
        cut = cut[:last_open]
    return cut + ELLIPSIS


def fits(msg: Message) -> bool:
    """Whether Slack shows the attachment whole: no files:write scope, so it is inline, cut to the
    block limits, and Slack would read `&`, `<` and `>` in it as markup."""
    text = msg.attachment_text
    return not any(c in text for c in "&<>") and shown_verbatim(render_blocks(msg), text)


def fallback_text(msg: Message) -> str:
    """Plain notification text (push notifications, screen readers, clients without blocks)."""
    parts = [p.strip() for p in (msg.journey_title or msg.title, msg.text) if p and p.strip()]
    text = ": ".join(parts) if parts else (msg.context.strip() or "New message")
    return mrkdwn(text, MESSAGE_TEXT)


# --- modal -----------------------------------------------------------------------------------


def _option(o: Option) -> dict[str, Any]:
    return {"text": plain(o.label or o.value, OPTION_TEXT), "value": o.value[:OPTION_VALUE] or "-"}


def _field_options(f: FormField) -> list[Option]:
    if f.options:
        return list(f.options)
    if f.kind == "rating":
        scale = f.scale if f.scale and f.scale > 0 else 5
        return [Option(value=str(i), label=str(i)) for i in range(1, min(scale, MAX_OPTIONS) + 1)]
    return []


def _dedupe_options(options: list[Option]) -> list[Option]:
    seen: set[str] = set()
    out = []
    for o in options:
        key = o.value[:OPTION_VALUE] or "-"
        if key not in seen:
            seen.add(key)
            out.append(o)
    return out


def _input_element(f: FormField) -> dict[str, Any]:
    options = _dedupe_options(_field_options(f))[:MAX_OPTIONS]
    if f.kind == "date":
        return {"type": "datepicker", "action_id": INPUT_ACTION_ID}
    if f.kind in ("choice", "rating") and options:
        return {
            "type": "static_select",
            "action_id": INPUT_ACTION_ID,
            "placeholder": plain("Choose…", PLACEHOLDER),
            "options": [_option(o) for o in options],
        }
    if f.kind == "multi_choice" and options:
        if len(options) <= MAX_CHECKBOX_OPTIONS:
            return {
                "type": "checkboxes",
                "action_id": INPUT_ACTION_ID,
                "options": [_option(o) for o in options],
            }
        return {
            "type": "multi_static_select",
            "action_id": INPUT_ACTION_ID,
            "placeholder": plain("Choose…", PLACEHOLDER),
            "options": [_option(o) for o in options],
        }
    el: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": INPUT_ACTION_ID,
        "max_length": PLAIN_INPUT_MAX,
    }
    if f.kind == "long_text":
        el["multiline"] = True
    return el


def modal_metadata(
    prompt_id: str, channel: str | None = None, message_ts: str | None = None
) -> str:
    """`private_metadata` of the form modal: the prompt id, plus where the prompt message lives."""
    if not channel or not message_ts:
        return prompt_id[:PRIVATE_METADATA]
    encoded = json.dumps({"p": prompt_id, "c": channel, "ts": message_ts}, separators=(",", ":"))
    return encoded if len(encoded) <= PRIVATE_METADATA else prompt_id[:PRIVATE_METADATA]


def render_modal(
    msg: Message, *, channel: str | None = None, message_ts: str | None = None
) -> dict[str, Any]:
    """A modal view (callback_id `hplj:form`) with one input per form field.

    `private_metadata` is the prompt id; when the originating message is given it is a small
    JSON object `{"p": prompt_id, "c": channel, "ts": ts}` so the message can be updated.
    Slack modals have no conditional inputs, so a field shown only for some answers is optional
    and says when it applies.
    """
    blocks: list[dict[str, Any]] = []
    if msg.text.strip():
        blocks.append(
            {"type": "section", "text": md(mrkdwn(msg.text, SECTION_TEXT))}
        )
    labels = {f.id: f.label for f in msg.fields}
    seen_ids: set[str] = set()
    for f in msg.fields:
        block_id = f.id[:BLOCK_ID] or "field"
        if block_id in seen_ids:
            continue
        seen_ids.add(block_id)
        hint = f.hint
        optional = not f.required
        if f.show_if_field:
            optional = True
            cond = f"Only if “{labels.get(f.show_if_field, f.show_if_field)}” is " + " or ".join(
                f.show_if_values
            )
            hint = f"{hint} ({cond})" if hint else cond
        block: dict[str, Any] = {
            "type": "input",
            "block_id": block_id,
            "label": plain(f.label, INPUT_LABEL, fallback=f.id or "Answer"),
            "element": _input_element(f),
            "optional": optional,
        }
        if hint.strip():
            block["hint"] = plain(hint, INPUT_HINT)
        blocks.append(block)
    if len(blocks) > MAX_MODAL_BLOCKS:
        blocks = blocks[:MAX_MODAL_BLOCKS]
    if not blocks:
        blocks = [{"type": "section", "text": md("Nothing to fill in.")}]
    title = msg.title or msg.journey_title or "Your answer"
    return {
        "type": "modal",
        "callback_id": FORM_CALLBACK_ID,
        "private_metadata": modal_metadata(msg.prompt_id or "", channel, message_ts),
        "title": plain(title, MODAL_TITLE, fallback="Your answer"),
        "submit": plain("Submit", MODAL_BUTTON),
        "close": plain("Cancel", MODAL_BUTTON),
        "blocks": blocks,
    }


HOME_HEADER = "Your learning journeys"


def render_home(messages: list[Message], *, intro: str | None = None) -> dict[str, Any]:
    """The App Home tab: a short intro and each message's blocks (no more than 100 blocks). A
    message headed like the tab itself (the status) does not repeat the header."""
    header = {"type": "header", "text": plain(HOME_HEADER, HEADER_TEXT)}
    blocks: list[dict[str, Any]] = [
        header,
        {
            "type": "section",
            "text": md(
                mrkdwn(
                    intro
                    or "Prompts, reminders and forms arrive in the *Messages* tab. Type `help`, "
                    "`status`, `snooze` or `pause` there at any time.",
                    SECTION_TEXT,
                )
            ),
        },
    ]
    for m in messages:
        part = [b for b in render_blocks(m) if b != header]
        if len(blocks) + 1 + len(part) > MAX_HOME_BLOCKS:
            break
        blocks.append({"type": "divider"})
        blocks.extend(part)
    return {"type": "home", "blocks": blocks}


__all__ = [
    "button_value",
    "escape_mrkdwn",
    "fallback_text",
    "modal_metadata",
    "render_blocks",
    "render_home",
    "render_modal",
    "truncate",
]
