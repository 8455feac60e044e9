"""`hplj people sync --csv`: an HR export with bad rows, idempotence, --dry-run, and the people the
bot already knows getting their own calendar and manager."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import holidays

ROOT = Path(__file__).resolve().parents[2]
FILE = ROOT / "tests" / "fixtures" / "csv" / "people_sync.csv"


def hplj(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": f"sqlite:///{tmp}/hplj.db",
           "SLACK_BOT_TOKEN": "", "MICROSOFT_APP_ID": ""}
    return subprocess.run([sys.executable, "-m", "bot.app.cli", *args], check=False, capture_output=True, text=True, env=env,
                          cwd=tmp, timeout=300)


def sql(tmp: Path, query: str, *params: object) -> list[tuple]:
    with sqlite3.connect(tmp / "hplj.db") as c:
        return c.execute(query, params).fetchall()


def known_people(tmp: Path) -> None:
    """Ana and Maria have used the bot in Teams already; Sam has not."""
    assert hplj(tmp, "db", "upgrade").returncode == 0
    for pid, email in (("p_ana", "ana@contoso.example"), ("p_maria", "maria@contoso.example")):
        sql(tmp, "insert into people (id, platform, platform_user_id, name, email, greeted, created_at) "
                 "values (?, 'teams', ?, ?, ?, 0, '2026-11-01 00:00:00')", pid, pid + "-aad", pid, email)


def test_bad_rows_are_reported_by_line_and_the_rest_is_synced(tmp_path: Path) -> None:
    known_people(tmp_path)
    r = hplj(tmp_path, "people", "sync", "--csv", str(FILE))
    assert r.returncode == 1, r.stdout + r.stderr
    expected = {
        5: "email 'not-an-email' is not an e-mail address",
        6: "manager_email is the person themselves",
        7: "country/subdivision: no public holiday data for 'XX'",
        8: "timezone 'Mars/Olympus' is not an IANA time zone",
        9: "working_days: unknown weekday 'funday'",
        10: "working_hours: '17:00-09:00' must start before it ends",
        11: "locale 'english please' is not a language tag",
        12: "ana@contoso.example is already listed on line 2",
        13: "managers go round in a circle: hu@contoso.example -> ix@contoso.example -> hu@contoso.example",
        14: "managers go round in a circle",
    }
    for line, reason in expected.items():
        assert any(ln.startswith(f"{FILE}:{line}:") and reason in ln for ln in r.stdout.splitlines()), (line, r.stdout)
    assert "3 new, 0 changed, 0 unchanged, 10 bad row(s) of 13; 2 known people updated" in r.stdout
    ana = sql(tmp_path, "select tz, country, subdivision, work_days, work_start, work_end, locale, manager_id "
                        "from people where id='p_ana'")
    assert ana == [("America/New_York", "US", "NY", "mon tue wed thu", "13:00", "21:00", "en-US", "p_maria")]
    # Sam has never used the bot: kept in the directory until they do
    assert sql(tmp_path, "select manager_email from directory where email='maria@contoso.example'") == [
        ("sam@contoso.example",)]


def test_a_second_run_changes_nothing_and_dry_run_writes_nothing(tmp_path: Path) -> None:
    known_people(tmp_path)
    hplj(tmp_path, "people", "sync", "--csv", str(FILE))
    again = hplj(tmp_path, "people", "sync", "--csv", str(FILE))
    assert "0 new, 0 changed, 3 unchanged" in again.stdout
    moved = tmp_path / "moved.csv"
    moved.write_text("email,manager_email,working_hours,timezone\n"
                     "ana@contoso.example,sam@contoso.example,09:00-17:00,America/Chicago\n"
                     "new@contoso.example,,,\n")
    dry = hplj(tmp_path, "people", "sync", "--csv", str(moved), "--dry-run")
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert "would add new@contoso.example" in dry.stdout
    (line,) = [ln for ln in dry.stdout.splitlines() if ln.startswith("would change ana@contoso.example")]
    assert "manager_email maria@contoso.example -> sam@contoso.example" in line
    assert "tz America/New_York -> America/Chicago" in line and "work_start 13:00 -> 09:00" in line
    assert "dry run, nothing written: 1 new, 1 changed" in dry.stdout
    assert sql(tmp_path, "select work_start, tz from people where id='p_ana'") == [("13:00", "America/New_York")]
    assert sql(tmp_path, "select count(*) from directory where email='new@contoso.example'") == [(0,)]
    real = hplj(tmp_path, "people", "sync", "--csv", str(moved))
    assert real.returncode == 0 and "changed ana@contoso.example" in real.stdout
    assert sql(tmp_path, "select work_start, tz, manager_id from people where id='p_ana'") == [
        ("09:00", "America/Chicago", None)]  # Sam, her new manager, has not used the bot yet


def test_a_file_without_the_email_column_changes_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("mail,manager\nana@contoso.example,maria@contoso.example\n")
    r = hplj(tmp_path, "people", "sync", "--csv", str(bad))
    assert r.returncode == 2 and f"{bad}:1: missing column email" in r.stdout


def _plain_weekday_ahead(days: int) -> date:
    """A Wednesday about `days` ahead that is no English bank holiday (the journey's calendar), so
    the kickoff falls on the start day itself; within the 366 days an import accepts."""
    d = date.today() + timedelta(days=days)
    while d.weekday() != 2 or d in holidays.country_holidays("GB", subdiv="ENG", years=d.year):
        d += timedelta(days=1)
    return d


def test_people_enrolled_from_a_csv_after_the_sync_get_their_own_calendar(tmp_path: Path) -> None:
    assert hplj(tmp_path, "db", "upgrade").returncode == 0
    hr = tmp_path / "hr.csv"
    hr.write_text("email,timezone,working_hours\nana@contoso.example,America/New_York,13:00-21:00\n")
    assert hplj(tmp_path, "people", "sync", "--csv", str(hr)).returncode == 0
    start = _plain_weekday_ahead(60)
    cohort = tmp_path / "cohort.csv"
    cohort.write_text("email,manager_email,journey,start\nana@contoso.example,ben@contoso.example,"
                      f"active-listening,{start.isoformat()}\n")
    r = hplj(tmp_path, "enroll", "--csv", str(cohort))
    assert "enrolled 1" in r.stdout, r.stdout + r.stderr
    assert sql(tmp_path, "select tz, work_start from people where email='ana@contoso.example'") == [
        ("America/New_York", "13:00")]
    (due,) = sql(tmp_path, "select due_at from prompts where step_id='kickoff'")[0]
    # 13:00 in New York, the start of her own day, not the journey's 09:30
    expected = datetime.combine(start, time(13, 0), ZoneInfo("America/New_York")).astimezone(UTC)
    assert due.startswith(f"{expected:%Y-%m-%d %H:%M}"), (due, expected)
