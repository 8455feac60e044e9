"""Property-based hostile input over every entry point of `hplj serve` and the operator's files
(issue 12). The real `BotService` on a SQLite file behind `build_app`; Slack through `FakeSlackApi`,
Teams through `FakeConnector`; CSV rows and journey YAML through their parsers.

Properties, for every generated input:
- no 5xx, and no traceback in a response or in the log;
- unauthenticated input (an unsigned Slack request, a Teams activity without a valid JWT when an
  app id is set) gets a 4xx and changes nothing in the database;
- no string a person typed ever yields a link, a mention or a broadcast in any message the bot
  renders on any platform (Slack: every mrkdwn object verbatim, no `<…>` token but the bot's own
  mentions of known users; Teams: no Markdown link, autolink or tag where Markdown is read).

Examples are derandomized (the same on every run, so `make test` stays repeatable and bounded);
on a failure hypothesis prints the falsifying example and a `@reproduce_failure` blob.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot.services.csv_import import parse_csv
from journeys.loader import JourneyFileError, default_library_path, load_journey_text, load_library
from store.models import AuditRow, EnrollmentRow, InboundRow, OutboxRow, PersonRow, PromptRow
from tests.e2e import test_slack_scenario as slack_world
from tests.e2e import test_teams_scenario as teams_world
from tests.fakes.slack_api import (
    block_actions_payload,
    message_im_event,
    slash_command_form,
    view_submission_payload,
)
from tests.json_walk import walk
from tests.unit.adapters.test_typed_text_inert import assert_teams_inert

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

FUZZ = settings(max_examples=60, deadline=None, derandomize=True, print_blob=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

HOSTILE = ["<!channel>", "<!here|here>", "<@UADMIN>", "<#C1|general>", "<https://evil.example|https://slack.com>",
           "[approve](https://evil.example)", "<https://evil.example>", "<b>x</b>", "**b** _i_", "https://evil.x",
           "\x00", "\x1b[2J", "a\u202eb", "\ue001<!channel>\ue000", "\ue002UADMIN\ue003", "&lt;!channel&gt;",
           "9" * 300, "{" * 50, "help", "status", "enroll active-listening <@UANA> manager <@UBEN>", "audit",
           # issue 23: digits int() reads differently or not at all, C1 controls, bidi overrides and isolates
           "\u00b2", "\u0663", "\uff11", "\u2460", "1\u2070", "\u0085", "\u009b31m", "\u2066x\u2069",
           "\u202dno\u202c", "\u200f2", "1:\u00b2"]
typed_text = st.one_of(st.text(st.characters(codec="utf-8"), max_size=60), st.sampled_from(HOSTILE),
                       st.lists(st.sampled_from(HOSTILE), min_size=1, max_size=4).map(" ".join))


def _no_tracebacks(caplog: pytest.LogCaptureFixture, since: int) -> None:
    bad = [r for r in caplog.records[since:] if r.exc_info or r.levelno >= logging.ERROR]
    assert not bad, [f"{r.name}: {r.getMessage()}" for r in bad]


# ---------------------------------------------------------------------------------------- Slack

SLACK_USERS = {u.id for u in slack_world.EVERYONE}
_SLACK_TOKEN = re.compile(r"<([^<>]*)>")


def assert_slack_messages_inert(fake: Any) -> None:
    """Every message the bot posted, updated, showed ephemerally or answered on a response_url."""
    payloads: list[Any] = [c.params for c in fake.calls
                           if c.method in ("chat.postMessage", "chat.update", "chat.postEphemeral", "views.open")]
    payloads += fake.responses
    for p in payloads:
        for obj in walk(p):
            if obj.get("type") == "mrkdwn":
                assert obj.get("verbatim") is True, obj
                for token in _SLACK_TOKEN.findall(obj["text"]):
                    assert token.startswith("@") and token[1:] in SLACK_USERS, obj["text"]
        text = p.get("text") if isinstance(p, dict) else None
        if isinstance(text, str):
            for token in _SLACK_TOKEN.findall(text):
                assert token.startswith("@") and token[1:] in SLACK_USERS, text


@pytest.fixture
async def slack(tmp_path: Path) -> AsyncIterator[slack_world.World]:
    w = await slack_world.make_world(tmp_path)
    status, _ = await w.command(slack_world.ADMIN, slack_world.ENROLL)
    assert status == 200
    await w.tick(slack_world.at_local(slack_world.START, "10:31", slack_world.ANA.tz))  # prompts are out
    yield w
    await slack_world.close_world(w)


async def _slack_state(w: slack_world.World) -> tuple[int, ...]:
    return tuple([await w.scalar(select(func.count()).select_from(m))
                  for m in (PersonRow, InboundRow, AuditRow, OutboxRow, EnrollmentRow)])


@st.composite
def slack_requests(draw: st.DrawFn, w: slack_world.World) -> tuple[str, str]:
    """A Slack request body (and its content type) as Slack would send it, with typed parts fuzzed."""
    user = draw(st.sampled_from(slack_world.EVERYONE))
    t = draw(typed_text)
    n = draw(st.integers(1, 10**9))
    kind = draw(st.sampled_from(["message", "command", "action", "form", "view", "raw"]))
    if kind == "message":
        return json.dumps(message_im_event(user_id=user.id, text=t, channel=user.dm, ts=f"{1800000000 + n}.0001",
                                           event_id=f"EvF{n}")), "application/json"
    if kind == "command":
        form = slash_command_form(user_id=user.id, text=t, response_url=w.fake.response_url(f"f{n}"),
                                  trigger_id=f"trig.f.{n}", channel_id=user.dm)
        return urlencode(form), "application/x-www-form-urlencoded"
    if kind in ("action", "form"):
        prompt = draw(st.sampled_from([*sorted(_prompt_ids(w)), "nope", t]))
        value = json.dumps({"p": prompt, "v": draw(st.sampled_from(["done", "approve", "coach", t]))})
        payload = block_actions_payload(user_id=user.id, action_id="hplj:form" if kind == "form" else "hplj:btn:x",
                                        value=value, channel=user.dm, message_ts="1800000000.000001",
                                        action_ts=f"{1800000000 + n}.000001", trigger_id=f"trig.a.{n}",
                                        response_url=w.fake.response_url(f"a{n}"))
        return urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded"
    if kind == "view":
        prompt = draw(st.sampled_from([*sorted(_prompt_ids(w)), t]))
        values = {"situation": {"v": {"type": "plain_text_input", "value": t}},
                  "date": {"v": {"type": "datepicker", "selected_date": draw(st.sampled_from(["2026-12-11", t]))}},
                  "answer": {"v": {"type": "plain_text_input", "value": t}}}
        payload = view_submission_payload(user_id=user.id, private_metadata=prompt, values=values)
        return urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded"
    return draw(st.sampled_from([t, "payload=" + t, "payload=" + "[" * 2000, "{" * 2000, ""])), \
        draw(st.sampled_from(["application/json", "application/x-www-form-urlencoded", "text/plain"]))


def _prompt_ids(w: slack_world.World) -> set[str]:
    ids = set()
    for msg in w.fake.posted():
        pid = ((msg.get("metadata") or {}).get("event_payload") or {}).get("prompt_id")
        if pid:
            ids.add(pid)
    return ids


@FUZZ
@given(data=st.data(), signed=st.booleans())
@example(data=None, signed=False)
async def test_slack_entry_points(slack: slack_world.World, caplog: pytest.LogCaptureFixture,
                                  data: st.DataObject | None, signed: bool) -> None:
    caplog.set_level(logging.INFO)
    since = len(caplog.records)
    w = slack
    if data is None:  # the explicit example: a 400-digit timestamp (issue 12, item 2)
        body, ctype = json.dumps({"type": "event_callback"}), "application/json"
        headers = {"X-Slack-Request-Timestamp": "9" * 400, "X-Slack-Signature": "v0=00"}
    else:
        body, ctype = data.draw(slack_requests(w))
        headers = {}
    before = await _slack_state(w)
    status, text = await w.post_raw(body, ctype, sign=signed, headers=headers)
    assert status < 500 and "Traceback" not in text, (status, text)
    if not signed:
        assert status == 401
        assert await _slack_state(w) == before
    assert_slack_messages_inert(w.fake)
    _no_tracebacks(caplog, since)


# ---------------------------------------------------------------------------------------- Teams

@pytest.fixture
async def teams(tmp_path: Path) -> AsyncIterator[teams_world.World]:
    w = await teams_world.make_world(tmp_path)
    await teams_world.install_everyone(w)
    status, _ = await teams_world.enroll_by_command(w)
    assert status == 200
    await w.tick(teams_world.at_local(teams_world.START, "10:31", teams_world.ANA.tz))
    yield w
    await teams_world.close_world(w)


@pytest.fixture
async def teams_app_id(tmp_path: Path) -> AsyncIterator[teams_world.World]:
    w = await teams_world.make_world(tmp_path, settings_=teams_world.teams_settings(
        microsoft_app_id="11111111-2222-3333-4444-555555555555", microsoft_app_password="pw",
        teams_local_mode=False))
    yield w
    await teams_world.close_world(w)


async def _teams_state(w: teams_world.World) -> tuple[int, ...]:
    return tuple([await w.scalar(select(func.count()).select_from(m))
                  for m in (PersonRow, InboundRow, AuditRow, OutboxRow, PromptRow)])


@st.composite
def teams_activities(draw: st.DrawFn, w: teams_world.World) -> bytes:
    user = draw(st.sampled_from(teams_world.EVERYONE))
    t = draw(typed_text)
    kind = draw(st.sampled_from(["message", "command", "invoke", "submit", "raw"]))
    if kind == "message":
        act = teams_world.message(user, w.fake.url, t)
    elif kind == "command":
        act = teams_world.message(user, w.fake.url, "<at>HPLJ Coach</at> journey " + t,
                                  [{"type": "mention", "text": "<at>HPLJ Coach</at>", "mentioned": dict(teams_world.BOT)}])
    elif kind in ("invoke", "submit"):
        prompt = draw(st.sampled_from([*sorted(_teams_prompt_ids(w)), t]))
        data = ({"prompt_id": prompt, "value": draw(st.sampled_from(["done", "approve", t]))} if kind == "invoke"
                else {"prompt_id": prompt, "fields": {"situation": "long_text", "date": "date"},
                      "f.situation": t, "f.date": draw(st.sampled_from(["2026-12-11", t]))})
        act = teams_world.invoke(user, w.fake.url, data, "hplj.button" if kind == "invoke" else "hplj.submit")
    else:
        return draw(st.sampled_from([t.encode(), b"[" * 2000, ("{\"type\":\"message\",\"text\":" + json.dumps(t) +
                                                               "}").encode()]))
    return json.dumps(act).encode()


def _teams_prompt_ids(w: teams_world.World) -> set[str]:
    ids = set()
    for call in w.fake.sent:
        for obj in walk(call.card or {}):
            pid = obj.get("prompt_id")
            if isinstance(pid, str):
                ids.add(pid)
    return ids


@FUZZ
@given(data=st.data())
async def test_teams_entry_points_local_mode(teams: teams_world.World, caplog: pytest.LogCaptureFixture,
                                             data: st.DataObject) -> None:
    caplog.set_level(logging.INFO)
    since = len(caplog.records)
    status, reply = await teams.post(data.draw(teams_activities(teams)))
    assert status < 500 and "Traceback" not in json.dumps(reply), (status, reply)
    for call in teams.fake.sent:
        if call.card is not None:
            assert_teams_inert(call.card)
        if isinstance(call.body, dict) and call.body.get("textFormat") == "markdown":
            assert not re.search(r"\]\(|<[A-Za-z!/]|[a-z]://", call.body.get("text") or ""), call.body
    if isinstance(reply, dict) and isinstance(reply.get("value"), dict):
        assert_teams_inert(reply["value"])
    _no_tracebacks(caplog, since)


@FUZZ
@given(data=st.data(), auth=st.sampled_from([None, "Bearer not-a-jwt", "Basic x", "Bearer " + "e" * 3000]))
async def test_teams_entry_points_with_an_app_id(teams_app_id: teams_world.World, caplog: pytest.LogCaptureFixture,
                                                 data: st.DataObject, auth: str | None) -> None:
    caplog.set_level(logging.INFO)
    since = len(caplog.records)
    before = await _teams_state(teams_app_id)
    status, reply = await teams_app_id.post(data.draw(teams_activities(teams_app_id)),
                                            {"Authorization": auth} if auth else {})
    assert status in (400, 401, 413), (status, reply)
    if auth is None:
        assert status == 401
    assert await _teams_state(teams_app_id) == before
    assert teams_app_id.fake.sent == []
    _no_tracebacks(caplog, since)


# --------------------------------------------------------------------------- operator's files

LIBRARY = load_library(default_library_path())
CSV_HEAD = "email,manager_email,journey,start,cohort,timezone,event:workshop\n"
csv_field = st.one_of(typed_text, st.sampled_from(["ana@example.com", "ben@example.com", "active-listening",
                                                   "2026-12-07", "9999-12-30", "spring-leads", "Europe/London",
                                                   "=cmd|' /C calc'!A0", "x" * 200, '"', '""', "\r\n",
                                                   "ana\u0085@example.com", "ben\u202e@example.com", "x" * 10_001]))
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


@FUZZ
@given(rows=st.lists(st.lists(csv_field, min_size=0, max_size=8), max_size=5), head=st.booleans())
def test_csv_rows_never_raise(rows: list[list[str]], head: bool) -> None:
    lines = [",".join(r) for r in rows]
    text = (CSV_HEAD if head else "") + "\n".join(lines)
    report = parse_csv(text, LIBRARY, date(2026, 11, 30))
    assert all(isinstance(line, int) and line >= 1 and reason for line, reason in report.errors)
    for row in report.valid:  # what passes is what the rest of the import can hold
        assert abs((row.start - date(2026, 11, 30)).days) <= 366
        assert row.cohort is None or re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", row.cohort)
        assert not any(CONTROL.search(str(v)) for v in (row.email, row.manager_email, row.journey, row.cohort or "",
                                                        row.timezone or "", row.manager_manager_email or ""))


PEOPLE_HEAD = "email,manager_email,name,country,subdivision,timezone,working_days,working_hours,locale\n"


@FUZZ
@given(rows=st.lists(st.lists(csv_field, min_size=0, max_size=10), max_size=5), head=st.booleans())
@example(rows=[["ana@example.com", "", "Ana\x00\x1b[2J"]], head=True)
def test_people_sync_rows_never_raise_and_hold_no_control_character(rows: list[list[str]], head: bool) -> None:
    """Issue 23, item 5: the HR sync reads with the same rules as enroll: whatever the columns hold,
    errors are lines, and no stored value holds a control character."""
    from dataclasses import astuple

    from bot.services.people_sync import parse_people_csv

    text = (PEOPLE_HEAD if head else "") + "\n".join(",".join(r) for r in rows)
    report = parse_people_csv(text)
    assert all(isinstance(line, int) and line >= 1 and reason for line, reason in report.errors)
    for _, entry in report.entries:
        assert not any(isinstance(v, str) and CONTROL.search(v) for v in astuple(entry)), entry


SAMPLE = (default_library_path() / "active-listening.yml").read_text(encoding="utf-8")


@FUZZ
@given(cut=st.integers(0, len(SAMPLE)), insert=typed_text)
@example(cut=60, insert='"\x07"')
@example(cut=60, insert='"\\x85\\u202e"')
@example(cut=0, insert="[" * 5000)
@example(cut=0, insert="a: &a [*a]")
def test_journey_yaml_fails_only_with_line_errors(cut: int, insert: str) -> None:
    text = SAMPLE[:cut] + insert + SAMPLE[cut:]
    try:
        load_journey_text(text, "fuzz.yml")
    except JourneyFileError as exc:
        for e in exc.errors:
            assert str(e).startswith("fuzz.yml:"), str(e)
