"""Per-role, per-platform chat surfaces over real HTTP: `/journey help` in the reader's platform
syntax and only the admin commands to admins; `report <cohort> csv` as a file (Slack's upload flow
against the fake Web API) or a signed download link (Teams), with the same content; the App Home
header shown once."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from bot.dashboard.report_links import report_csv
from tests.e2e import test_slack_scenario as slack
from tests.e2e import test_teams_scenario as teams
from tests.fakes.slack_api import event_envelope

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

COHORT = f"active-listening-{slack.START.isoformat()}"
ADMIN_ONLY = ("enroll", "forget", "export", "unenroll", "dashboard", "audit")


@pytest.fixture
async def slack_world(tmp_path: Path) -> AsyncIterator[slack.World]:
    w = await slack.make_world(tmp_path)
    yield w
    await slack.close_world(w)


@pytest.fixture
async def teams_world(tmp_path: Path) -> AsyncIterator[teams.World]:
    w = await teams.make_world(tmp_path)
    yield w
    await teams.close_world(w)


def shown(reply: dict[str, Any] | None) -> str:
    assert reply is not None, "no reply on the response_url"
    return json.dumps(reply, ensure_ascii=False)


async def teams_say(w: teams.World, user: teams.User, text: str) -> tuple[str, list[dict[str, Any]]]:
    before = len(w.calls_to(user))
    status, _ = await w.post(teams.message(user, w.fake.url, text))
    assert status == 200
    calls = w.calls_to(user)[before:]
    return "\n".join(w.texts_to(user)[before:]), [c.card for c in calls if c.card is not None]


# ---- help ------------------------------------------------------------------------------------

async def test_slack_help_speaks_slack_and_shows_admin_commands_only_to_admins(slack_world: slack.World) -> None:
    w = slack_world
    admin = shown((await w.command(slack.ADMIN, "help"))[1])
    assert "/journey enroll" in admin and "/journey report" in admin
    assert "Teams" not in admin and "journey <command>` in our chat" not in admin
    participant = shown((await w.command(slack.ANA, "help"))[1])
    assert "`status`" in participant and "`snooze`" in participant and "Messages" in participant
    assert "Teams" not in participant and "/journey enroll" not in participant
    for word in ADMIN_ONLY:
        assert f"`{word}" not in participant and f"/journey {word}" not in participant, word
    # a participant asking about an admin command learns it is for admins, and nothing of its use
    about = shown((await w.command(slack.ANA, "help forget"))[1])
    assert "is for journey admins" in about and "erase" not in about


async def test_teams_help_speaks_teams_and_shows_admin_commands_only_to_admins(teams_world: teams.World) -> None:
    w = teams_world
    await teams.install_everyone(w)
    admin, _ = await teams_say(w, teams.ADMIN, "journey help")
    assert "journey enroll" in admin and "/journey" not in admin and "Slack" not in admin
    participant, _ = await teams_say(w, teams.ANA, "journey help")
    assert "`status`" in participant and "menu" in participant
    assert "Slack" not in participant and "/journey" not in participant and "thread" not in participant
    for word in ADMIN_ONLY:
        assert f"journey {word}" not in participant, word


# ---- reports as files --------------------------------------------------------------------------

async def test_slack_report_csv_arrives_as_an_uploaded_file(slack_world: slack.World) -> None:
    w = slack_world
    await slack.enroll(w)
    expected = await report_csv(w.service, COHORT, w.clock.now())
    assert expected is not None and expected.count("\n") >= 1
    status, reply = await w.command(slack.ADMIN, f"report {COHORT} csv")
    assert status == 200
    text = shown(reply)
    assert f"The file report-{COHORT}.csv is in your direct messages with me." in text
    assert expected.splitlines()[0] not in text  # not pasted inline any more
    [step1] = w.fake.calls_to("files.getUploadURLExternal")
    assert step1.params["filename"] == f"report-{COHORT}.csv"
    assert int(step1.params["length"]) == len(expected.encode())
    [step3] = w.fake.calls_to("files.completeUploadExternal")
    assert step3.response == {"ok": True, "files": [{"id": step1.response["file_id"],  # type: ignore[index]
                                                     "title": f"Report: {COHORT}", "name": f"report-{COHORT}.csv"}]}
    [sent] = w.fake.files
    assert sent["channel"] == slack.ADMIN.dm and sent["filename"] == f"report-{COHORT}.csv"
    assert sent["data"].decode("utf-8") == expected  # the whole file, not cut


async def test_slack_report_falls_back_inline_when_the_upload_is_refused(slack_world: slack.World) -> None:
    from tests.fakes.slack_api import Fault

    w = slack_world
    await slack.enroll(w)
    w.fake.fail("files.completeUploadExternal", Fault.error("not_allowed_token_type"))
    text = shown((await w.command(slack.ADMIN, f"report {COHORT} csv"))[1])
    assert "Slack did not take the file, sharing the file failed" in text
    assert f"report-{COHORT}.csv" in text and not w.fake.files


async def test_teams_report_csv_is_a_signed_link_to_the_same_file(teams_world: teams.World) -> None:
    w = teams_world
    await teams.install_everyone(w)
    status, said = await teams.enroll_by_command(w)
    assert status == 200 and "Enrolled" in said, said
    text, cards = await teams_say(w, teams.ADMIN, f"journey report {COHORT} csv")
    urls = [a["url"] for card in cards for a in teams._walk(card) if a.get("type") == "Action.OpenUrl"]
    [url] = [u for u in urls if "/dashboard/report.csv" in u]
    assert f"Download report-{COHORT}.csv" in text
    assert "email" not in url and "@" not in url
    expected = await report_csv(w.service, COHORT, w.clock.now())
    base = w.url.removesuffix("/api/messages")
    parts = urlsplit(url)
    async with w.session.get(f"{base}{parts.path}?{parts.query}") as resp:
        body = await resp.text()
        assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/csv")
        assert f'filename="report-{COHORT}.csv"' in resp.headers["Content-Disposition"]
    assert body == expected
    tampered = re.sub(r"cohort=[^&]+", "cohort=other", parts.query)
    async with w.session.get(f"{base}{parts.path}?{tampered}") as resp:
        assert resp.status == 403 and "not valid" in await resp.text()


# ---- App Home ------------------------------------------------------------------------------------

async def test_the_app_home_shows_its_header_once(slack_world: slack.World) -> None:
    w = slack_world
    await slack.enroll(w)
    event = {"type": "app_home_opened", "user": slack.ANA.id, "channel": slack.ANA.dm, "tab": "home",
             "event_ts": "1800000000.000100"}
    assert await w.event(event_envelope(event, event_id="EvHome1")) == 200
    await w.settle()
    [published] = w.fake.views_published
    headers = [b["text"]["text"] for b in published["view"]["blocks"] if b["type"] == "header"]
    assert headers == ["Your learning journeys"]
    assert "Active Listening" in json.dumps(published["view"])  # the status is there, under it
