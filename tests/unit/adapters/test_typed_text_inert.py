"""Text a person typed is rendered inert on every platform (issue 12, item 1 and its property).

Through the engine (a participant's MTM situation reaching the manager's support request) and
straight through the three renderers with any string hypothesis can think of: Slack gets no
link, mention or broadcast token and no auto-parsing; Teams gets no Markdown link, autolink or
tag; the console gets no control character. The bot's own mention stays live.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from adapters.console.render import render_text as console_text
from adapters.slack.render import fallback_text, render_blocks, render_modal
from adapters.teams.render import render_card, reply_text
from journeys import engine, rendering
from journeys.definition import Journey
from journeys.loader import default_library_path, load_library
from journeys.messages import Message, Reply
from journeys.text import mention, typed
from tests.json_walk import walk
from tests.unit.journeys.test_engine import enrollment, open_plan, plan_values

EVIL = ("Weekly 1:1 <https://evil.example/phish|https://slack.com/approve> <!channel> <@UADMIN> "
        "[approve](https://evil.example) <https://evil.example> <b>bold</b> @here https://evil.example/bare")
BOT_MENTION = "<@UBOT1>"


def assert_slack_inert(blocks: list[dict[str, Any]], fallback: str = "") -> None:
    for obj in walk(blocks):
        if obj.get("type") == "mrkdwn":
            assert obj.get("verbatim") is True, obj  # Slack would auto-link bare URLs and @names
            live = obj["text"].replace(BOT_MENTION, "")
            assert "<" not in live and ">" not in live, obj  # no <link|label>, <!channel>, <@U…>
    assert "<" not in fallback.replace(BOT_MENTION, "")


_MD_LINK = re.compile(r"\]\(|\]:|<[A-Za-z!/]|[a-z]://")


def assert_teams_inert(card: dict[str, Any]) -> None:
    """Markdown is read in TextBlocks and facts: none of them may carry link or tag syntax (typed
    text lives in TextRuns, which are never Markdown)."""
    for obj in walk(card):
        texts = []
        if obj.get("type") == "TextBlock":
            texts.append(obj["text"])
        if "title" in obj and "value" in obj:  # a fact
            texts += [obj["title"], obj["value"]]
        for t in texts:
            assert not _MD_LINK.search(t), t


@pytest.fixture(scope="module")
def journey() -> Journey:
    return load_library(default_library_path())["active-listening"]


def test_an_mtm_situation_reaches_the_manager_inert_on_every_platform(journey: Journey) -> None:
    """Item 1: the issue's exact situation, planned by Ana, in Ben's support request."""
    e = enrollment()
    opened, now = open_plan(journey, e)
    values = {**plan_values(date(2027, 4, 16)), "situation": EVIL}
    out = engine.answer(journey, e, opened, None, Reply("ana", "k1", opened.id, values=values), now + timedelta(hours=1))
    [mtm] = out.mtms
    [support] = [p for p in out.prompts if p.step_id == "support-safe"]
    request = rendering.render_prompt(journey, e, support, mtm)  # what the scheduler sends Ben
    assert request.recipient_id == "ben" and request.buttons
    blocks = render_blocks(request)
    shown = str(blocks)
    assert "&lt;!channel&gt;" in shown and "&lt;@UADMIN&gt;" in shown  # the words are all there
    assert_slack_inert(blocks, fallback_text(request))
    card = render_card(request)
    assert "[approve](https://evil.example)" in str(card)  # shown, as a TextRun
    assert_teams_inert(card)
    text = console_text(request)
    assert "<!channel>" in text and "\ue000" not in text


def test_the_bots_own_mention_stays_live() -> None:
    msg = Message("p", f"Ask {mention('UBOT1')} about {typed('<@UADMIN>')}")
    [section] = render_blocks(msg)
    assert section["text"]["text"] == "Ask <@UBOT1> about &lt;@UADMIN&gt;"


typed_strings = st.text(st.characters(codec="utf-8"), max_size=80) | st.sampled_from(
    ["<!channel>", "<!here|here>", "<@UADMIN>", "<#C1|general>", "<https://e.x|https://slack.com>",
     "[a](https://e.x)", "[a]: https://e.x", "<https://e.x>", "<script>x</script>", "**b** _i_",
     "\ue001<!channel>\ue000", "\ue002UADMIN\ue003", "&lt;!channel&gt;", "\x1b[2J\x00", "a\u202eb"])


@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(t=typed_strings)
@example(t=EVIL)
def test_typed_text_is_inert_in_every_slot(t: str) -> None:
    """Property: whatever was typed, wherever it lands in a message, nothing in it is live."""
    msg = Message(
        recipient_id="p",
        title=f"{typed(t)} shared a reflection",
        journey_title="Active Listening",
        text=f"Hi {mention('UBOT1')}, {typed(t)} reflected:\n\n“{typed(t)}”",
        facts=(("Moment", typed(t)), (typed(t), "x")),
        context=f"Active Listening about {typed(t)}",
        prompt_id="e1.x",
    )
    assert_slack_inert(render_blocks(msg), fallback_text(msg))
    assert_slack_inert(render_modal(msg)["blocks"])
    assert_teams_inert(render_card(msg))
    _, fmt = reply_text(Message("p", f"You typed {typed(t)}"))
    assert fmt == "plain"
    shown = console_text(msg)
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ue000-\ue003]", shown), repr(shown)
