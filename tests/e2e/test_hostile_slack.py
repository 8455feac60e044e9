"""Hostile input over Slack's real HTTP path (issue 12, items 1, 2, 4, 6, 7).

The same world as the Slack scenario: the real `BotService` on a SQLite file behind `build_app`,
`FakeSlackApi` for the Web API, requests signed as Slack signs them.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select

from adapters.slack.render import BUTTON_ACTION_PREFIX, button_value
from store.models import AuditRow, InboundRow, MtmRow, PersonRow, PromptRow
from tests.e2e.success_cases import SUCCESS_WITH_CONTACT, classified
from tests.e2e.test_slack_scenario import (
    ADMIN,
    ANA,
    BEN,
    ENROLL,
    START,
    World,
    actions_of,
    at_local,
    close_world,
    enroll,
    make_world,
    slash_command_form,
    view_submission_payload,
)

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

EVIL = ("Weekly 1:1 <https://evil.example/phish|https://slack.com/approve> <!channel> <@UADMIN> "
        "[approve](https://evil.example) https://evil.example/bare @here\x00\x1b[31m")


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    w = await make_world(tmp_path)
    yield w
    await close_world(w)


def mrkdwn_texts(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every mrkdwn text object in `blocks` (sections, fields, context)."""
    found: list[dict[str, Any]] = []

    def walk(x: Any) -> None:
        if isinstance(x, dict):
            if x.get("type") == "mrkdwn":
                found.append(x)
            for v in x.values():
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)

    walk(blocks)
    return found


async def open_plan_form(w: World, user: Any = ANA) -> tuple[str, dict[str, Any], dict[str, Any]]:
    await w.tick(at_local(START + timedelta(days=2), "10:31", ANA.tz))
    pid, msg = w.prompt_message(ANA, "mtm-safe")
    [btn] = [el for el in actions_of(msg["blocks"]) if el["action_id"] == "hplj:form"]
    return pid, msg, btn


async def test_typed_markup_reaches_the_manager_as_inert_text(world: World) -> None:
    """Item 1 (and 7): the situation a participant typed shows in the manager's DM as the words
    they typed: no link, no broadcast, no mention; NUL and escape codes are gone."""
    w = world
    _, answer = await w.command(ADMIN, "pause <@UANA>")  # nothing to pause yet: named in the answer
    assert "<@UANA>" in json.dumps(answer)  # the bot's own mentions still work
    await enroll(w)
    _, msg, btn = await open_plan_form(w)
    n_views = len(w.fake.views_opened)
    assert await w.click(ANA, msg, "hplj:form", btn["value"]) == 200
    await w.fake.wait_for("views.open", n_views + 1)
    view = w.fake.views_opened[-1]["view"]
    inputs = {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}
    values = {
        "situation": {"v": {"type": "plain_text_input", "value": EVIL}},
        "date": {"v": {"type": "datepicker", "selected_date": (START + timedelta(days=4)).isoformat()}},
        "behaviour": {"v": {"type": "static_select",
                            "selected_option": {"value": inputs["behaviour"]["options"][0]["value"]}}},
        "practice": {"v": {"type": "static_select", "selected_option": {"value": "safe"}}},
        "share": {"v": {"type": "static_select", "selected_option": {"value": "yes"}}},
    }
    assert await w.payload(view_submission_payload(user_id=ANA.id, private_metadata=view["private_metadata"],
                                                   values=values, view_id=view["id"], view_hash=view["hash"])) == 200
    [mtm] = await w.rows(select(MtmRow))
    assert "\x00" not in mtm.situation and "\x1b" not in mtm.situation and "<!channel>" in mtm.situation
    if not any("support-safe" in json.dumps(m.get("metadata")) for m in w.messages_to(BEN)):
        await w.tick(w.clock.now() + timedelta(minutes=1))
    _, sup = w.prompt_message(BEN, "support-safe")
    texts = mrkdwn_texts(sup["blocks"])
    shown = "\n".join(t["text"] for t in texts)
    assert "&lt;!channel&gt;" in shown and "&lt;@UADMIN&gt;" in shown  # the words are there...
    for t in texts:  # ...and none of them is live
        assert t.get("verbatim") is True, t
        assert "<!" not in t["text"] and "<@UADMIN" not in t["text"] and "<http" not in t["text"], t
    assert "<!channel>" not in sup.get("text", "") and "<http" not in sup.get("text", "")


async def test_a_huge_timestamp_is_a_401_not_a_500(world: World, caplog: pytest.LogCaptureFixture) -> None:
    """Item 2: a 300- or 400-digit X-Slack-Request-Timestamp (past 309 digits int -> float overflows), unsigned: refused, nothing in the log."""
    caplog.set_level(logging.INFO)
    status, body = await world.post_raw(json.dumps({"type": "event_callback"}), "application/json", sign=False,
                                        headers={"X-Slack-Request-Timestamp": "9" * 400,
                                                 "X-Slack-Signature": "v0=" + "0" * 64})
    assert status == 401 and "Traceback" not in body
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


async def test_only_the_addressee_opens_a_prompts_form(world: World) -> None:
    """Item 4: Ben clicking Ana's "Plan my moment" button sees no modal with her prompt."""
    w = world
    await enroll(w)
    _, msg, btn = await open_plan_form(w)
    n_views = len(w.fake.views_opened)
    assert await w.click(BEN, msg, "hplj:form", btn["value"], channel=ANA.dm) == 200
    assert len(w.fake.views_opened) == n_views
    assert any("someone else" in e for e in w.ephemerals_to(BEN)), w.ephemerals_to(BEN)
    assert await w.click(ANA, msg, "hplj:form", btn["value"]) == 200  # Ana still can
    await w.fake.wait_for("views.open", n_views + 1)


async def test_a_replayed_slash_command_runs_once(world: World) -> None:
    """Item 6: the same signed slash-command body twice: one reply, one set of audit rows."""
    w = world
    form = slash_command_form(user_id=ADMIN.id, text=ENROLL, response_url=w.fake.response_url("replay"),
                              trigger_id="trig.replay.1", channel_id=ADMIN.dm)
    body = urlencode(form)
    assert (await w.post_raw(body, "application/x-www-form-urlencoded"))[0] == 200
    replies, audits = len(w.fake.responses), await w.scalar(select(func.count()).select_from(AuditRow))
    assert replies == 1 and audits >= 1
    assert (await w.post_raw(body, "application/x-www-form-urlencoded"))[0] == 200
    assert len(w.fake.responses) == replies
    assert await w.scalar(select(func.count()).select_from(AuditRow)) == audits
    assert await w.scalar(select(func.count()).select_from(InboundRow)) >= 1


async def test_a_failing_write_never_shows_what_was_typed(world: World, caplog: pytest.LogCaptureFixture) -> None:
    """Item 7: statement parameters (people's words) are never in an error message or a log."""
    from datetime import datetime

    caplog.set_level(logging.DEBUG)
    secret = "my private reflection about Sam"
    row = {"id": "p_dup", "platform": "slack", "platform_user_id": "UDUP", "name": secret,
           "created_at": datetime(2026, 1, 1, tzinfo=UTC), "greeted": False}
    async with world.db.write() as s:
        s.add(PersonRow(**row))
    with pytest.raises(Exception) as failed:
        async with world.db.write() as s:
            s.add(PersonRow(**row))  # the same id again: an IntegrityError
    assert "p_dup" not in str(failed.value) and secret not in str(failed.value)
    assert "hidden due to hide_parameters" in str(failed.value)
    assert not any(secret in r.getMessage() for r in caplog.records)


# ---- issue 23 ----------------------------------------------------------------------------------

async def test_a_nul_in_a_slack_display_name_is_cleaned_and_the_enrollment_goes_ahead(
        world: World, caplog: pytest.LogCaptureFixture) -> None:
    """Item 6: Slack profiles pass the same cleaning step as Teams': a NUL (which aborts a
    PostgreSQL write), an ESC and a bidi override in a display name are dropped; everyone is enrolled."""
    from store.models import EnrollmentRow

    caplog.set_level(logging.INFO)
    w = world
    w.fake.users[ANA.id].name = "An\x00a\x1b[2J \u202eDiaz"
    reply = await enroll(w)
    assert "went wrong" not in json.dumps(reply).lower(), reply
    assert len(await w.rows(select(EnrollmentRow))) == 2
    ana = await w.person(ANA)
    assert ana is not None and ana.name == "Ana[2J Diaz", repr(ana.name)
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


@pytest.mark.parametrize("typed", ["\u00b2", "\u0662", "\uff12"])
async def test_a_unicode_digit_in_the_consent_thread_is_asked_again(world: World, typed: str) -> None:
    """Item 4: "²" (or an Arabic-Indic or full-width 2) in the consent request's thread is not a
    number: asked again, nothing saved, never "something went wrong"."""

    from store.models import EventRow
    from tests.e2e.test_slack_scenario import message_im_event

    w = world
    await enroll(w)
    cohort = await classified(w, START, {ANA: SUCCESS_WITH_CONTACT})
    assert (await w.command(ADMIN, f"interviews {cohort}"))[0] == 200
    await w.tick(w.clock.now() + timedelta(days=2))
    _pid, ask = w.prompt_message(ANA, "interview-consent")
    before = len(w.posts_to(ANA))
    assert await w.event(message_im_event(user_id=ANA.id, text=typed, channel=ANA.dm, ts="18000091.000100",
                                          thread_ts=ask["ts"], event_id="EvDigit")) == 200
    said = json.dumps([c.params for c in w.posts_to(ANA)[before:]], ensure_ascii=False)
    assert "went wrong" not in said and "Nothing was saved" in said, said
    assert [e.kind for e in await w.rows(select(EventRow)) if e.kind == "interview_consent"] == []


async def test_a_forged_button_on_any_stored_prompt_is_answered_in_words(
        world: World, caplog: pytest.LogCaptureFixture) -> None:
    """A button value names a prompt id, so a forged click can name any stored prompt, including
    the closing prompt (never sent with buttons) and a step the journey file no longer has. Each
    click, by the prompt's own recipient, gets a 200 and words, never a traceback; nothing is
    recorded for the closing prompt."""
    w = world
    await enroll(w)
    caplog.set_level(logging.INFO)
    async with w.db.write() as s:  # a step removed from the journey file since it was scheduled
        row = (await s.execute(select(PromptRow).where(PromptRow.step_id == "~close"))).scalars().first()
        assert row is not None
        closing_id, recipient = row.id, row.recipient_id
        gone = PromptRow(**{c.name: getattr(row, c.name) for c in PromptRow.__table__.columns})
        gone.id, gone.step_id = row.enrollment_id + ".no-longer-in-the-file", "no-longer-in-the-file"
        s.add(gone)
    users = {ANA.id: ANA, BEN.id: BEN}
    person = await w.scalar(select(PersonRow).where(PersonRow.id == recipient))
    user = users[person.platform_user_id]
    message = {"ts": "1800000000.000100"}
    for pid in (closing_id, gone.id):
        said = len(w.ephemerals_to(user)) + len(w.fake.responses)
        assert await w.click(user, message, BUTTON_ACTION_PREFIX + "yes", button_value(pid, "yes")) == 200
        assert await w.click(user, message, "hplj:form", button_value(pid, "form")) == 200
        for _ in range(200):  # both answers are posted after the ack
            if len(w.ephemerals_to(user)) + len(w.fake.responses) >= said + 2:
                break
            await asyncio.sleep(0.05)
    told = " ".join(w.ephemerals_to(user)) + json.dumps(w.fake.responses)
    assert "nothing to answer on this message" in told and "no longer open" in told
    assert (await w.prompt(closing_id)).status == "scheduled"
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
