"""Neutral `Message` -> Adaptive Card 1.5 (Teams) and a plain-text fallback. Pure functions.

Card layout: a small header with the journey's name, the title, the text, facts (FactSet),
form inputs, small print; actions: one-click buttons (`Action.Execute`, verb `hplj.button`,
data `{"prompt_id", "value"}`), the form's submit (`Action.Execute`, verb `hplj.submit`, data
`{"prompt_id", "fields": {field id: kind}}`) and links (`Action.OpenUrl`).

Form inputs are named `f.<field id>` so a journey's field ids can never collide with the
action's own data keys; `parse.py` strips the prefix and uses `fields` to type the values
(dates as YYYY-MM-DD, multi-select as lists).

A closed prompt (answered or superseded) is rendered without inputs and without actions, so a
card refreshed after an answer shows the answer (the engine puts it in the text/facts) and no
stale buttons. Every text is truncated with an ellipsis, and the whole card is kept under
`MAX_CARD_BYTES` (the bot message limit is about 80 KB) by shrinking the limits if needed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from journeys.messages import Button, FormField, Message
from journeys.text import has_typed, plain, segments
from ports.chat import shown_verbatim

CARD_SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
CARD_VERSION = "1.5"
CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
VERB_BUTTON = "hplj.button"
VERB_SUBMIT = "hplj.submit"
INPUT_PREFIX = "f."
MAX_CARD_BYTES = 40_000  # well under Teams' ~80 KB per message, leaving room for the envelope
ELLIPSIS = "…"

_BUTTON_STYLE = {"primary": "positive", "danger": "destructive"}


@dataclass(frozen=True)
class _Limits:
    """Per-item character limits; scaled down when a card would be too large."""

    text: int = 4000
    title: int = 200
    header: int = 120
    fact_title: int = 100
    fact_value: int = 1000
    facts: int = 60
    context: int = 1000
    label: int = 300
    hint: int = 300
    option: int = 200
    options: int = 100
    fields: int = 40
    button: int = 80
    buttons: int = 10
    links: int = 10
    attachment: int = 15000

    def scaled(self, factor: float) -> _Limits:
        def s(n: int, floor: int) -> int:
            return max(floor, int(n * factor))

        return _Limits(
            text=s(self.text, 200),
            title=s(self.title, 60),
            header=s(self.header, 40),
            fact_title=s(self.fact_title, 30),
            fact_value=s(self.fact_value, 60),
            facts=s(self.facts, 10),
            context=s(self.context, 100),
            label=s(self.label, 60),
            hint=s(self.hint, 40),
            option=s(self.option, 30),
            options=self.options,  # every option must stay choosable
            fields=self.fields,
            button=s(self.button, 30),
            buttons=self.buttons,
            links=self.links,
            attachment=s(self.attachment, 500),
        )


def truncate(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, ending with an ellipsis when cut."""
    text = text or ""
    if len(text) <= limit:
        return text
    if limit <= 1:
        return ELLIPSIS[:limit]
    return text[: limit - 1].rstrip() + ELLIPSIS


def card_size(card: dict[str, Any]) -> int:
    return len(json.dumps(card, ensure_ascii=False).encode("utf-8"))


def render_card(msg: Message) -> dict[str, Any]:
    """The Adaptive Card (schema 1.5) for `msg`, always under `MAX_CARD_BYTES`."""
    limits = _Limits()
    for factor in (1.0, 0.5, 0.25, 0.1, 0.05):
        card = _card(msg, limits.scaled(factor), with_inputs=True)
        if card_size(card) <= MAX_CARD_BYTES:
            return card
    # A form too large for one card (never in the bundled journeys): show it without inputs;
    # typed replies are routed to the open prompt, one field at a time.
    tiny = limits.scaled(0.05)
    card = _card(msg, tiny, with_inputs=False)
    if card_size(card) <= MAX_CARD_BYTES:
        return card
    return _card(Message(recipient_id=msg.recipient_id, text=truncate(msg.text, 2000),
                         title=msg.title, journey_title=msg.journey_title, closed=True), tiny, with_inputs=False)


def _card(msg: Message, lim: _Limits, *, with_inputs: bool) -> dict[str, Any]:
    body: list[dict[str, Any]] = []
    if msg.journey_title:
        body.append(_text(truncate(plain(msg.journey_title), lim.header), size="small", weight="bolder",
                          color="accent", isSubtle=True))
    if msg.title:
        body.append(_text(truncate(msg.title, lim.title), size="medium", weight="bolder",
                          spacing="small"))
    if msg.text:
        body.append(_text(truncate(msg.text, lim.text)))
    if msg.facts:
        body.extend(_facts(msg.facts, lim))
    if msg.attachment_text:
        if msg.attachment_name:
            body.append(_text(truncate(msg.attachment_name, lim.title), weight="bolder", separator=True))
        # a file's content is never Markdown: one TextRun shows it as it is
        body.append(_rich([("typed", truncate(plain(msg.attachment_text), lim.attachment))],
                          fontType="monospace", size="small"))

    actions: list[dict[str, Any]] = []
    open_form = not msg.closed and bool(msg.fields)
    show_inputs = open_form and with_inputs and not _buttons_cover_form(msg)
    if show_inputs:
        fields = msg.fields[: lim.fields]
        by_id = {f.id: f for f in msg.fields}
        for f in fields:
            body.extend(_input(f, by_id, lim))
    elif open_form and not with_inputs:
        body.append(_text("This form is too large to show here: reply by typing, one answer at a time.",
                          isSubtle=True, size="small"))

    if not msg.closed:
        for b in msg.buttons[: lim.buttons]:
            actions.append(_button(msg, b, lim, has_inputs=show_inputs))
        if show_inputs:
            actions.append(_submit(msg, lim))
        for link in msg.links[: lim.links]:
            url = _safe_url(link.url)
            if url:
                actions.append({"type": "Action.OpenUrl", "title": truncate(link.label or url, lim.button),
                                "url": url})
    else:
        links = [f"[{_md_label(truncate(plain(link.label) or url, lim.button))}]({url})"
                 for link in msg.links[: lim.links] if (url := _safe_url(link.url))]
        if links:  # the bot's own links: the one place a card carries Markdown link syntax
            body.append({"type": "TextBlock", "text": " · ".join(links), "wrap": True, "size": "small"})

    if msg.context:
        body.append(_text(truncate(msg.context, lim.context), size="small", isSubtle=True, separator=True))
    if not body:
        body.append(_text(" "))

    card: dict[str, Any] = {
        "$schema": CARD_SCHEMA,
        "type": "AdaptiveCard",
        "version": CARD_VERSION,
        "fallbackText": truncate(render_text(msg), lim.text),
        "body": body,
    }
    if actions:
        card["actions"] = actions
    return card


_BLOCK_PROPS = ("spacing", "separator", "horizontalAlignment")
_DEFANG = (("](", "]\u200b("), ("]:", "]\u200b:"), ("<", "<\u200b"), ("://", ":\u200b//"))


def defang(text: str) -> str:
    """Markdown the bot did not mean: no `[x](url)` or reference link, no `<autolink>` or HTML tag,
    no bare URL Teams would turn into a link (a zero-width space breaks each)."""
    for before, after in _DEFANG:
        text = text.replace(before, after)
    return text


def _text(text: str, **props: Any) -> dict[str, Any]:
    """A TextBlock for the bot's own words; text holding typed spans becomes a RichTextBlock of
    TextRuns, which Adaptive Cards never read as Markdown."""
    if has_typed(text):
        return _rich(segments(text), **props)
    return {"type": "TextBlock", "text": defang(text), "wrap": True, **props}


def _rich(parts: Sequence[tuple[str, str]], **props: Any) -> dict[str, Any]:
    block = {k: v for k, v in props.items() if k in _BLOCK_PROPS}
    run = {k: v for k, v in props.items() if k not in _BLOCK_PROPS}
    inlines = [{"type": "TextRun", "text": _run_text(kind, value), **run} for kind, value in parts]
    return {"type": "RichTextBlock", "inlines": inlines or [{"type": "TextRun", "text": " "}], **block}


def _run_text(kind: str, value: str) -> str:
    if kind == "mention":
        return f"@{value}"
    # the bot's own `*bold*` marks (Slack-flavoured) would show as stars in a TextRun
    return value.replace("*", "") if kind == "bot" else value


def _facts(pairs: tuple[tuple[str, str], ...], lim: _Limits) -> list[dict[str, Any]]:
    """A FactSet (Teams reads its titles and values as Markdown), or one RichTextBlock per fact
    when a value is typed text."""
    shown = [(truncate(str(k), lim.fact_title), truncate(str(v), lim.fact_value)) for k, v in pairs[: lim.facts]]
    if len(pairs) > lim.facts:
        shown.append((ELLIPSIS, f"{len(pairs) - lim.facts} more"))
    if not any(has_typed(k) or has_typed(v) for k, v in shown):
        return [{"type": "FactSet", "facts": [{"title": defang(k), "value": defang(v)} for k, v in shown]}]
    out = []
    for k, v in shown:
        block = _rich(segments(v) or [("bot", "-")], spacing="none")
        if k.strip():
            block["inlines"].insert(0, {"type": "TextRun", "text": plain(k) + ": ", "weight": "bolder"})
        out.append(block)
    return out


def _md_label(label: str) -> str:
    return label.replace("[", "(").replace("]", ")")


def _safe_url(url: str) -> str | None:
    """Only absolute http(s) URLs become links (no javascript:, data:, relative paths)."""
    url = (url or "").strip()
    if len(url) > 2000 or any(c.isspace() for c in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return url


def _buttons_cover_form(msg: Message) -> bool:
    """A single choice offered as buttons is not shown a second time as an input."""
    if len(msg.fields) != 1 or not msg.buttons:
        return False
    f = msg.fields[0]
    return f.kind in ("choice", "rating") and {o.value for o in f.options} == {b.value for b in msg.buttons}


def _button(msg: Message, b: Button, lim: _Limits, *, has_inputs: bool) -> dict[str, Any]:
    data: dict[str, Any] = {"value": b.value}
    if (b.prompt_id or msg.prompt_id) is not None:
        data["prompt_id"] = b.prompt_id or msg.prompt_id
    action: dict[str, Any] = {
        "type": "Action.Execute",
        "title": truncate(plain(b.label), lim.button) or b.value or "OK",
        "verb": VERB_BUTTON,
        "data": data,
    }
    style = _BUTTON_STYLE.get(b.style)
    if style:
        action["style"] = style
    if has_inputs:
        action["associatedInputs"] = "None"
    return action


def _submit(msg: Message, lim: _Limits) -> dict[str, Any]:
    data: dict[str, Any] = {"fields": {f.id: f.kind for f in msg.fields[: lim.fields]}}
    if msg.prompt_id is not None:
        data["prompt_id"] = msg.prompt_id
    return {
        "type": "Action.Execute",
        "title": truncate(msg.form_label or "Submit", lim.button),
        "verb": VERB_SUBMIT,
        "style": "positive",
        "data": data,
    }


def _input(f: FormField, by_id: dict[str, FormField], lim: _Limits) -> list[dict[str, Any]]:
    label = truncate(plain(f.label), lim.label) or f.id
    conditional = f.show_if_field is not None
    el: dict[str, Any] = {"id": INPUT_PREFIX + f.id, "label": label}
    if f.required and not conditional:
        el["isRequired"] = True
        el["errorMessage"] = truncate(f"Please answer: {label}", lim.label)
    if f.kind in ("text", "long_text"):
        el = {"type": "Input.Text", **el, "maxLength": 3000 if f.kind == "long_text" else 500}
        if f.kind == "long_text":
            el["isMultiline"] = True
    elif f.kind == "date":
        el = {"type": "Input.Date", **el}
    else:
        choices = [{"title": truncate(o.label, lim.option) or o.value, "value": o.value}
                   for o in f.options[: lim.options]]
        el = {"type": "Input.ChoiceSet", **el, "choices": choices, "wrap": True}
        if f.kind == "multi_choice":
            el["isMultiSelect"] = True
            el["style"] = "expanded"
        else:
            el["style"] = "compact"
            el["placeholder"] = "Choose…"
    out = [el]
    notes = []
    if f.hint:
        notes.append(f.hint)
    if conditional:
        other = by_id.get(f.show_if_field or "")
        shown = f.show_if_values
        if other is not None:
            labels = {o.value: o.label for o in other.options}
            shown = tuple(labels.get(v, v) for v in shown)
            notes.append(f"Only if “{truncate(other.label, 80)}” is {' or '.join(shown)}.")
        else:
            notes.append(f"Only if {f.show_if_field} is {' or '.join(shown)}.")
    if not f.required and not conditional:
        notes.append("Optional.")
    if notes:
        out.append(_text(truncate(" ".join(notes), lim.hint), size="small", isSubtle=True, spacing="none"))
    return out


def fits(msg: Message) -> bool:
    """Whether the card shows the attachment whole (cards have a size limit; longer text is cut)."""
    return shown_verbatim(render_card(msg), msg.attachment_text)


def render_text(msg: Message) -> str:
    """Plain-text rendering: the card's `fallbackText`, notification summaries, invoke messages."""
    lines: list[str] = []
    head = " — ".join(x for x in (msg.journey_title, msg.title) if x)
    if head:
        lines.append(head)
    if msg.text:
        lines.append(msg.text)
    for k, v in msg.facts:
        lines.append(f"- {k}: {v}")
    if not msg.closed:
        if msg.buttons:
            lines.append("Reply with: " + " / ".join(b.label for b in msg.buttons))
        elif msg.fields:
            lines.append("Reply by typing your answers.")
    for link in msg.links:
        lines.append(f"{link.label}: {link.url}" if link.label else link.url)
    if msg.context:
        lines.append(msg.context)
    # never empty (Teams refuses an empty message): lines of control characters alone clean to ""
    return plain("\n".join(lines)) or " "


def reply_text(msg: Message) -> tuple[str, str]:
    """A text-only reply and its `textFormat`: plain when it holds typed text, else Markdown with
    anything that could become a link or HTML defanged."""
    text = render_text(msg)
    if any(has_typed(x) for x in (msg.text, msg.title, msg.context, msg.journey_title)):
        return text, "plain"
    return defang(text), "markdown"


def summary(msg: Message, limit: int = 120) -> str:
    """A one-line notification preview (the activity's `summary`)."""
    first = plain(next((line for line in (msg.title, msg.text, msg.journey_title) if line and line.strip()), ""))
    return truncate(" ".join(first.split()), limit)
