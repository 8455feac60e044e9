"""`hplj enroll --csv`: an HR export with bad rows, both import policies, and a 10,000-row file."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BAD = ROOT / "tests" / "fixtures" / "csv" / "hr_export_bad_rows.csv"


def hplj(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": f"sqlite:///{tmp}/hplj.db",
           "SLACK_BOT_TOKEN": "", "MICROSOFT_APP_ID": ""}
    return subprocess.run([sys.executable, "-m", "bot.app.cli", "enroll", *args], check=False, capture_output=True, text=True,
                          env=env, cwd=tmp, timeout=600)


def count(tmp: Path, sql: str) -> int:
    with sqlite3.connect(tmp / "hplj.db") as c:
        return int(c.execute(sql).fetchone()[0])


def test_every_bad_row_is_reported_with_its_line(tmp_path: Path) -> None:
    r = hplj(tmp_path, "--csv", str(BAD), "--all-or-nothing")
    assert r.returncode == 2  # nothing done
    expected = {
        4: "email 'not-an-email' is not an e-mail address",
        5: "manager_email is the participant themselves",
        6: "unknown journey 'negotiation'",
        7: "start '2027-13-01' is not a date",
        8: "timezone 'Mars/Olympus' is not an IANA time zone",
        9: "event:workshop '2027-99-01' is not a date",
        10: "ana@example.com is already listed for active-listening on line 2",
        11: "start 2026-01-05 is more than 7 days in the past",
    }
    for line, reason in expected.items():
        assert any(ln.startswith(f"{BAD}:{line}:") and reason in ln for ln in r.stdout.splitlines()), (line, r.stdout)
    assert f"{BAD}:2:" not in r.stdout and f"{BAD}:3:" not in r.stdout  # the good rows
    assert "nothing imported: 8 bad row(s) of 10" in r.stdout
    assert not (tmp_path / "hplj.db").exists() or count(tmp_path, "select count(*) from enrollments") == 0


def test_valid_rows_are_imported_and_the_bad_ones_listed(tmp_path: Path) -> None:
    r = hplj(tmp_path, "--csv", str(BAD))
    assert r.returncode == 1  # some rows were bad, and the exit status says so
    assert "enrolled 2, already enrolled 0" in r.stdout and "cohorts: spring" in r.stdout
    assert count(tmp_path, "select count(*) from enrollments where cohort='spring'") == 2
    # the workshop date from the CSV and the time zones are kept
    assert count(tmp_path, "select count(*) from enrollments where events like '%2027-04-19%'") == 1
    assert count(tmp_path, "select count(*) from people where tz='Asia/Singapore'") == 1
    # Ben's own manager is known for accountability digests
    assert count(tmp_path, "select count(*) from people m join people c on m.manager_id=c.id "
                           "where m.email='ben@example.com' and c.email='cleo@example.com'") == 1
    again = hplj(tmp_path, "--csv", str(BAD))
    assert "enrolled 0, already enrolled 2" in again.stdout  # idempotent


def test_ten_thousand_rows(tmp_path: Path) -> None:
    lines = ["email,manager_email,journey,start,timezone"]
    zones = ["Europe/London", "America/New_York", "Asia/Kolkata", "Australia/Sydney"]
    for i in range(10_000):
        lines.append(f"p{i}@corp.example,m{i // 10}@corp.example,active-listening,2027-04-12,{zones[i % 4]}")
    lines.append("broken-row@corp.example,,active-listening,2027-04-12,")
    path = tmp_path / "big.csv"
    path.write_text("\n".join(lines) + "\n")
    r = hplj(tmp_path, "--csv", str(path))
    assert f"{path}:10002: manager_email is empty" in r.stdout
    assert "enrolled 10000" in r.stdout, r.stdout[-2000:] + r.stderr[-2000:]
    assert count(tmp_path, "select count(*) from enrollments") == 10_000


def test_missing_columns_are_named(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("mail,manager\na@b.co,c@d.co\n")
    r = hplj(tmp_path, "--csv", str(path))
    assert r.returncode == 2 and "missing columns email, manager_email, journey, start" in r.stdout




def test_a_country_column_gives_a_participant_their_own_public_holidays(tmp_path: Path) -> None:
    # Two people in New York starting Mon 12 Apr 2027. Dev's row says US/NY, so England's bank
    # holiday on Mon 3 May (the journey's calendar) is a working day for him and his survey, 26
    # working days after the start, comes a day earlier than Eve's, who has no country of her own.
    path = tmp_path / "cohort.csv"
    path.write_text("email,manager_email,journey,start,timezone,country,subdivision\n"
                    "dev@corp.example,mia@corp.example,active-listening,2027-04-12,America/New_York,us,ny\n"
                    "eve@corp.example,mia@corp.example,active-listening,2027-04-12,America/New_York,,\n"
                    "bad@corp.example,mia@corp.example,active-listening,2027-04-12,America/New_York,,NY\n"
                    "odd@corp.example,mia@corp.example,active-listening,2027-04-12,America/New_York,XX,\n")
    r = hplj(tmp_path, "--csv", str(path))
    assert f"{path}:4: subdivision 'NY' needs a country" in r.stdout
    assert f"{path}:5: country/subdivision: no public holiday data for 'XX'" in r.stdout
    assert "enrolled 2" in r.stdout, r.stdout + r.stderr
    assert count(tmp_path, "select count(*) from people where email='dev@corp.example' and country='US' "
                           "and subdivision='NY'") == 1

    def survey_day(email: str) -> str:
        with sqlite3.connect(tmp_path / "hplj.db") as c:
            return str(c.execute("select p.due_at from prompts p join enrollments e on p.enrollment_id=e.id "
                                 "join people u on e.person_id=u.id where u.email=? and p.step_id='success-case'",
                                 (email,)).fetchone()[0])

    assert survey_day("dev@corp.example").startswith("2027-05-18 14:00")  # 10:00 in New York
    assert survey_day("eve@corp.example").startswith("2027-05-19 14:00")
