"""Slack's form bodies decode exactly as the standard library decodes them (adapters/slack/form.py
uses yarl's compiled decoder, which is not part of yarl's documented API)."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, urlencode

from hypothesis import given
from hypothesis import strategies as st

from adapters.slack.form import form_fields
from tests.fakes.slack_api import block_actions_payload, slash_command_form

PIECES = st.sampled_from(["%", "+", "&", "=", "a", "Z", "0", "9", "é", "😀", "%C3", "%A9", "%F0", "%9F", "%ZZ",
                          "%2", "%25", "%2B", "%26", "%3D", "%00", "%ED%A0%80", " ", ";"])


@given(st.lists(PIECES, max_size=30).map("".join))
def test_any_text_decodes_as_parse_qsl_decodes_it(text: str) -> None:
    assert form_fields(text) == dict(parse_qsl(text, keep_blank_values=True))


def test_a_click_and_a_command_decode_to_what_was_sent() -> None:
    payload = block_actions_payload(user_id="U1", action_id="hplj:btn:done", value=json.dumps({"p": "pr-1"}),
                                    label="Ana's “done” & 50% + more")
    assert json.loads(form_fields(urlencode({"payload": json.dumps(payload)}))["payload"]) == payload
    form = slash_command_form(user_id="U1", text="status for <@U2|bé> & 100%")
    assert form_fields(urlencode(form)) == form
