"""`hplj enroll --csv` says where it enrolls: the platform is chosen (or must be), printed, and
checked; `--dry-run` writes nothing; an unreachable Slack is one sentence, not a traceback, and
what was enrolled before it is said; `enroll` and `people sync` share their exit codes."""

from __future__ import annotations

import asyncio
import os
import socket
import sqlite3
import sys
from pathlib import Path

import pytest

from tests.fakes.slack_api import FakeSlackApi, Fault

ROOT = Path(__file__).resolve().parents[2]
BAD = ROOT / "tests" / "fixtures" / "csv" / "hr_export_bad_rows.csv"
GOOD = "email,manager_email,journey,start,cohort\n" \
       "ana@example.com,ben@example.com,active-listening,2027-04-12,spring\n" \
       "chen@example.com,ben@example.com,active-listening,2027-04-12,spring\n"
NO_PLATFORM = {"SLACK_BOT_TOKEN": "", "MICROSOFT_APP_ID": "", "MICROSOFT_APP_PASSWORD": ""}


async def hplj(tmp: Path, *args: str, **env: str) -> tuple[int, str, str]:
    """The CLI in a child process (while this test's event loop serves the fake Slack)."""
    full = {**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": f"sqlite:///{tmp}/hplj.db", **NO_PLATFORM,
            **env}
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot.app.cli", *args, cwd=tmp, env=full,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 300)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


def enrolled(tmp: Path) -> list[tuple[str, str]]:
    if not (tmp / "hplj.db").exists():
        return []
    with sqlite3.connect(tmp / "hplj.db") as c:
        return c.execute("select p.email, p.platform from enrollments e join people p on p.id = e.person_id "
                         "order by p.email").fetchall()


def good_csv(tmp: Path) -> Path:
    path = tmp / "cohort.csv"
    path.write_text(GOOD)
    return path


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_without_platform_settings_the_console_is_chosen_and_said(tmp_path: Path) -> None:
    code, out, _ = await hplj(tmp_path, "enroll", "--csv", str(good_csv(tmp_path)))
    assert code == 0, out
    assert "platform: console (neither SLACK_BOT_TOKEN nor MICROSOFT_APP_ID is set" in out
    assert out.rstrip().endswith("platform: console")  # the summary says where, too
    assert enrolled(tmp_path) == [("ana@example.com", "console"), ("chen@example.com", "console")]


async def test_with_slack_and_teams_configured_the_platform_must_be_given(tmp_path: Path) -> None:
    code, _, err = await hplj(tmp_path, "enroll", "--csv", str(good_csv(tmp_path)),
                              SLACK_BOT_TOKEN="xoxb-test", MICROSOFT_APP_ID="3f2504e0-4f89-41d3-9a0c-0305e82c3301")
    assert code == 2
    assert "Slack and Teams are both configured" in err and "--platform slack or --platform teams" in err
    assert "Traceback" not in err and enrolled(tmp_path) == []


async def test_a_platform_that_is_not_configured_is_refused_by_name(tmp_path: Path) -> None:
    code, _, err = await hplj(tmp_path, "enroll", "--csv", str(good_csv(tmp_path)), "--platform", "slack")
    assert code == 2 and "SLACK_BOT_TOKEN is not set" in err and enrolled(tmp_path) == []
    code, _, err = await hplj(tmp_path, "enroll", "--csv", str(good_csv(tmp_path)), "--platform", "irc")
    assert code == 2 and "--platform must be slack, teams or console, not 'irc'" in err


async def test_dry_run_says_who_would_be_enrolled_where_and_writes_nothing(tmp_path: Path) -> None:
    code, out, _ = await hplj(tmp_path, "enroll", "--csv", str(good_csv(tmp_path)), "--dry-run")
    assert code == 0, out
    assert "would enroll ana@example.com in active-listening from 2027-04-12 with manager ben@example.com" in out
    assert "dry run, nothing written: would enroll 2 on console" in out
    assert enrolled(tmp_path) == []
    code, out, _ = await hplj(tmp_path, "enroll", "--csv", str(BAD), "--dry-run")
    assert code == 1 and f"{BAD}:4:" in out and "would enroll 2 on console, skip 8 bad row(s)" in out
    assert enrolled(tmp_path) == []


async def test_slack_out_of_reach_is_one_sentence_and_nothing_is_enrolled(tmp_path: Path) -> None:
    port = closed_port()
    code, out, err = await hplj(tmp_path, "enroll", "--csv", str(good_csv(tmp_path)), SLACK_BOT_TOKEN="xoxb-test",
                                SLACK_API_URL=f"http://127.0.0.1:{port}/api/")
    assert code == 2, out + err
    assert "Traceback" not in out + err and len(err) < 500
    assert "platform: slack (the only platform configured: SLACK_BOT_TOKEN is set)" in out
    assert "hplj: Slack could not be reached (" in out and "nothing was enrolled." in out
    assert enrolled(tmp_path) == []


@pytest.mark.parametrize("all_or_nothing", [False, True])
async def test_slack_lost_midway_says_what_was_enrolled(tmp_path: Path, all_or_nothing: bool) -> None:
    async with FakeSlackApi() as slack:
        slack.add_user("UANA", name="ana", email="ana@example.com")
        slack.add_user("UBEN", name="ben", email="ben@example.com")
        slack.add_user("UCHEN", name="chen", email="chen@example.com")
        # ana and ben are found (in e-mail order), then the connection to Slack drops
        slack.fail("users.lookupByEmail", Fault(process=True), Fault(process=True),
                   *[Fault.drop_before_accept()] * 5)  # more drops than the client retries
        extra = ("--all-or-nothing",) if all_or_nothing else ()
        code, out, err = await hplj(tmp_path, "enroll", "--csv", str(good_csv(tmp_path)), *extra,
                                    SLACK_BOT_TOKEN="xoxb-test", SLACK_API_URL=slack.api_url)
    assert "Traceback" not in out + err and "hplj: Slack could not be reached" in out, out + err
    assert f"{tmp_path / 'cohort.csv'}:3: not enrolled: chen@example.com could not be looked up" in out
    if all_or_nothing:
        assert code == 2 and "nothing was enrolled." in out and enrolled(tmp_path) == []
    else:
        assert code == 1 and "1 enrolled, the rows listed above were not." in out
        assert enrolled(tmp_path) == [("ana@example.com", "slack")]
        assert "enrolled 1, already enrolled 0" in out and out.rstrip().endswith("platform: slack")


async def test_enroll_and_people_sync_share_exit_codes(tmp_path: Path) -> None:
    people = tmp_path / "people.csv"
    people.write_text("email,name\nana@example.com,Ana\nben@example.com,Ben\n")
    assert (await hplj(tmp_path, "people", "sync", "--csv", str(people)))[0] == 0
    assert (await hplj(tmp_path, "enroll", "--csv", str(good_csv(tmp_path))))[0] == 0
    people.write_text("email,name\nana@example.com,Ana\nnot-an-email,Nobody\n")
    assert (await hplj(tmp_path, "people", "sync", "--csv", str(people)))[0] == 1
    code, _, _ = await hplj(tmp_path, "enroll", "--csv", str(BAD))
    assert code == 1  # some rows refused
    code, _, _ = await hplj(tmp_path, "enroll", "--csv", str(BAD), "--all-or-nothing")
    assert code == 2  # nothing done
    people.write_text("mail,name\nana@example.com,Ana\n")
    assert (await hplj(tmp_path, "people", "sync", "--csv", str(people)))[0] == 2


@pytest.mark.parametrize(("sep", "name"), [(";", "semicolons"), ("\t", "tabs")])
async def test_a_file_with_another_delimiter_is_named_as_such(tmp_path: Path, sep: str, name: str) -> None:
    path = tmp_path / "cohort.csv"
    path.write_text(GOOD.replace(",", sep))
    code, out, _ = await hplj(tmp_path, "enroll", "--csv", str(path))
    assert code == 2 and f"{path}:1: the columns are separated by {name}, not commas" in out, out
    assert "nothing imported: the file's first line must be fixed first" in out
    assert "missing column" not in out
    people = tmp_path / "people.csv"
    people.write_text(f"email{sep}name\nana@example.com{sep}Ana\n")
    code, out, _ = await hplj(tmp_path, "people", "sync", "--csv", str(people))
    assert code == 2 and f"separated by {name}, not commas" in out
