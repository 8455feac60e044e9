"""Block Kit rendering: round-trips through slack_sdk.models and Slack's limits hold."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from adapters.slack.parse import decode_button_value, decode_modal_metadata
from adapters.slack.render import (
    ELLIPSIS,
    escape_mrkdwn,
    fallback_text,
    render_blocks,
    render_home,
    render_modal,
    truncate,
)
from journeys.messages import Button, FormField, Link, Message, Option
from journeys.text import mention, typed


def roundtrip_blocks(blocks: list[dict]) -> None:
    """Every block parses into slack_sdk's model, validates (recursively, via to_dict) and
    serializes back to exactly what we send."""
    assert 1 <= len(blocks) <= 50
    parsed = Block.parse_all(blocks)
    assert len(parsed) == len(blocks)
    for original, model in zip(blocks, parsed):
        assert model is not None
        model.validate_json()
        assert model.to_dict() == original
    _check_limits(blocks)


def roundtrip_view(view: dict) -> None:
    model = View(**view)
    model.validate_json()
    assert model.to_dict() == view
    assert len(view["blocks"]) <= 100
    _check_limits(view["blocks"])


def _check_limits(blocks: list[dict]) -> None:
    """Limits slack_sdk does not check itself (Slack's Block Kit reference)."""
    for b in blocks:
        if b["type"] == "section":
            if "text" in b:
                assert 1 <= len(b["text"]["text"]) <= 3000
            for f in b.get("fields", []):
                assert len(f["text"]) <= 2000
        if b["type"] == "context":
            for el in b["elements"]:
                assert len(el["text"]) <= 2000
        if b["type"] == "actions":
            ids = [el["action_id"] for el in b["elements"]]
            assert len(ids) == len(set(ids))
            for el in b["elements"]:
                assert len(el["text"]["text"]) <= 75
                assert len(el["value"]) <= 2000
                assert len(el["action_id"]) <= 255
        if b["type"] == "input":
            el = b["element"]
            assert len(b["label"]["text"]) <= 2000
            for o in el.get("options", []):
                assert len(o["text"]["text"]) <= 75
                assert len(o["value"]) <= 150


def sample_message(**kw) -> Message:
    base: dict = {
        "recipient_id": "p1",
        "text": f"Which *moment that matters* is coming up? {mention('U123')} & friends",
        "title": "Plan your next MTM",
        "journey_title": "Active listening",
        "prompt_id": "pr-42",
        "buttons": (Button("Approve", "approve", "primary"), Button("Coach", "coach")),
        "fields": (
            FormField("what", "What is the moment?", "text"),
            FormField("when", "When is it?", "date"),
            FormField("notes", "Anything else?", "long_text", required=False),
            FormField("conf", "How confident are you?", "rating", scale=5),
            FormField(
                "behaviours",
                "Which behaviours?",
                "multi_choice",
                options=(
                    Option("paraphrase", "Paraphrase"),
                    Option("pause", "Pause before replying"),
                ),
            ),
            FormField(
                "kind",
                "Kind",
                "choice",
                options=(Option("safe", "Safe practice"), Option("real", "Real")),
            ),
            FormField(
                "why",
                "Why real?",
                "text",
                show_if_field="kind",
                show_if_values=("real",),
            ),
        ),
        "form_label": "Plan MTM",
        "links": (Link("Guide", "https://example.com/guide"),),
        "context": "Week 2 of 6 · you get this because you are enrolled",
        "facts": (("Due", "Friday"), ("Manager", mention("U999"))),
    }
    base.update(kw)
    return Message(**base)


def test_full_message_renders_valid_block_kit():
    blocks = render_blocks(sample_message())
    roundtrip_blocks(blocks)
    assert blocks[0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "Active listening", "emoji": True},
    }
    assert "*Plan your next MTM*" in blocks[1]["text"]["text"]
    # user text is escaped, mentions survive
    assert "&amp; friends" in blocks[1]["text"]["text"] and "<@U123>" in blocks[1]["text"]["text"]
    actions = [b for b in blocks if b["type"] == "actions"]
    assert len(actions) == 1
    els = actions[0]["elements"]
    assert [e["action_id"] for e in els] == ["hplj:btn:approve", "hplj:btn:coach", "hplj:form"]
    assert els[0]["style"] == "primary" and "style" not in els[1]
    assert decode_button_value(els[0]["value"]) == ("pr-42", "approve")
    assert decode_button_value(els[2]["value"])[0] == "pr-42"
    assert els[2]["text"]["text"] == "Plan MTM"
    fields = next(b for b in blocks if b["type"] == "section" and "fields" in b)["fields"]
    assert fields[0]["text"] == "*Due*\nFriday"
    assert blocks[-1]["type"] == "context"


def test_closed_prompt_has_no_inputs():
    blocks = render_blocks(sample_message(closed=True, text="You answered: *Paraphrase*"))
    roundtrip_blocks(blocks)
    assert not [b for b in blocks if b["type"] == "actions"]
    assert "You answered" in json.dumps(blocks)
    assert "Answered" in blocks[-1]["elements"][0]["text"]


def test_plain_message_without_title():
    blocks = render_blocks(Message(recipient_id="x", text="hello"))
    roundtrip_blocks(blocks)
    assert blocks == [{"type": "section", "text": {"type": "mrkdwn", "text": "hello", "verbatim": True}}]
    assert fallback_text(Message(recipient_id="x", text="")) == "New message"


def test_duplicate_button_values_get_unique_action_ids():
    msg = sample_message(buttons=(Button("A", "x"), Button("B", "x")), fields=())
    roundtrip_blocks(render_blocks(msg))


def test_modal_inputs():
    view = render_modal(sample_message(), channel="DU1", message_ts="1700000001.000002")
    roundtrip_view(view)
    assert view["callback_id"] == "hplj:form"
    assert decode_modal_metadata(view["private_metadata"]) == ("pr-42", "DU1", "1700000001.000002")
    assert render_modal(sample_message())["private_metadata"] == "pr-42"
    inputs = {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}
    assert inputs["what"]["element"]["type"] == "plain_text_input"
    assert "multiline" not in inputs["what"]["element"]
    assert inputs["notes"]["element"]["multiline"] is True and inputs["notes"]["optional"] is True
    assert inputs["when"]["element"]["type"] == "datepicker"
    assert inputs["conf"]["element"]["type"] == "static_select"
    assert [o["value"] for o in inputs["conf"]["element"]["options"]] == ["1", "2", "3", "4", "5"]
    assert inputs["behaviours"]["element"]["type"] == "checkboxes"
    assert inputs["kind"]["element"]["type"] == "static_select"
    assert inputs["why"]["optional"] is True and "Only if" in inputs["why"]["hint"]["text"]
    assert inputs["what"]["optional"] is False


def test_many_options_use_multi_select():
    opts = tuple(Option(f"o{i}", f"Option {i}") for i in range(150))
    msg = sample_message(fields=(FormField("m", "Pick", "multi_choice", options=opts),))
    view = render_modal(msg)
    roundtrip_view(view)
    el = view["blocks"][-1]["element"]
    assert el["type"] == "multi_static_select" and len(el["options"]) == 100


def test_truncate():
    assert truncate("abc", 3) == "abc"
    assert truncate("abcd", 3) == "ab" + ELLIPSIS
    assert len(truncate("x" * 100, 24)) == 24
    # raw tokens in text are escaped (issue 12): only the bot's own mentions are live
    assert escape_mrkdwn("a<b>&<@U1> <https://x.y|z>") == "a&lt;b&gt;&amp;&lt;@U1&gt; &lt;https://x.y|z&gt;"
    assert escape_mrkdwn(f"hi {mention('U1')} {typed('<!channel>')}") == "hi <@U1> &lt;!channel&gt;"


def test_home_view():
    view = render_home([sample_message()] * 30)
    roundtrip_view(view)


long_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=0, max_size=60
).map(lambda s: s * 120)  # up to ~7000 chars, with &, <, > and emoji in the mix


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=long_text,
    title=long_text,
    label=long_text,
    value=long_text,
    n_buttons=st.integers(0, 30),
    n_facts=st.integers(0, 120),
    n_links=st.integers(0, 5),
    closed=st.booleans(),
)
def test_limits_hold_for_any_text(text, title, label, value, n_buttons, n_facts, n_links, closed):
    msg = Message(
        recipient_id="p",
        text=text,
        title=title,
        journey_title=title[::-1],
        prompt_id="pr-" + value[:40],
        buttons=tuple(Button(label or "x", f"{value}{i}") for i in range(n_buttons)),
        fields=(FormField("f", label or "f", "long_text"),),
        form_label=label,
        links=tuple(Link(label, "https://example.com/" + str(i)) for i in range(n_links)),
        context=text,
        facts=tuple((label, text) for _ in range(n_facts)),
        closed=closed,
        attachment_name="report.csv" if n_links else "",
        attachment_text=text,
    )
    blocks = render_blocks(msg)
    roundtrip_blocks(blocks)
    assert len(fallback_text(msg)) <= 3000
    if not closed:
        # buttons survive even when the body had to be cut to fit 50 blocks
        assert [b for b in blocks if b["type"] == "actions"]


@settings(max_examples=60, deadline=None)
@given(
    label=long_text,
    title=long_text,
    hint=long_text,
    opt=long_text,
    n_fields=st.integers(1, 120),
    kind=st.sampled_from(["text", "long_text", "date", "choice", "multi_choice", "rating"]),
)
def test_modal_limits_hold(label, title, hint, opt, n_fields, kind):
    options = tuple(Option(f"{opt}{i}", opt) for i in range(12))
    msg = Message(
        recipient_id="p",
        text=label,
        title=title,
        prompt_id="p" * 10,
        fields=tuple(
            FormField(f"f{i}", label, kind, options=options, hint=hint, scale=10)
            for i in range(n_fields)
        ),
    )
    roundtrip_view(render_modal(msg, channel="DU1", message_ts="1.2"))
