"""Operator input to `hplj` that must fail closed with one clear sentence (issue 12, items 8-11)."""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.e2e.test_cli import hplj

CLEAN = {"SLACK_BOT_TOKEN": "", "SLACK_SIGNING_SECRET": "", "SLACK_APP_TOKEN": "", "MICROSOFT_APP_ID": "",
         "HPLJ_TEAMS_LOCAL": "", "HPLJ_JOURNEYS": ""}


def test_control_character_in_a_journey_file_is_a_line_error(tmp_path: Path) -> None:
    """Item 8: a BEL inside a quoted string: `validate` names file, line and column; `serve` exits 2."""
    bad = tmp_path / "bell.yml"
    bad.write_text('id: bell\ntitle: "ring \x07 ring"\n', encoding="utf-8")
    r = hplj("validate", str(bad), cwd=tmp_path)
    assert r.returncode == 1
    assert f"{bad}:2:" in r.stdout and "U+0007" in r.stdout, r.stdout + r.stderr
    assert "Traceback" not in r.stdout + r.stderr
    r = hplj("serve", "--no-scheduler", "--port", "1", cwd=tmp_path,
             env={**CLEAN, "HPLJ_JOURNEYS": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"})
    assert r.returncode == 2 and "U+0007" in r.stderr and "Traceback" not in r.stderr, r.stderr


@pytest.mark.parametrize("var,value,accepts", [
    ("HPLJ_TEAMS_LOCAL", "maybe", "1 or 0"),
    ("PORT", "eighty", "a whole number"),
    ("HPLJ_DELIVERY_PROCESSES", "0", "at least 1"),
])
def test_a_bad_setting_is_one_sentence_and_exit_2(tmp_path: Path, var: str, value: str, accepts: str) -> None:
    """Item 11: the variable, what it got, what it accepts; no pydantic screen."""
    r = hplj("tick", cwd=tmp_path, env={**CLEAN, var: value})
    assert r.returncode == 2, r.stdout + r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, r.stderr
    assert var in lines[0] and repr(value) in lines[0] and accepts in lines[0]
    assert "Traceback" not in r.stderr and "pydantic" not in r.stderr


def test_an_empty_setting_means_not_set(tmp_path: Path) -> None:
    """Item 11: `HPLJ_TEAMS_LOCAL=` as deployment tools write it: the default, not a crash."""
    r = hplj("tick", "--at", "2026-12-01T09:00:00Z", cwd=tmp_path,
             env={**CLEAN, "HPLJ_TEAMS_LOCAL": "", "PORT": "", "HPLJ_TICK_SECONDS": "",
                  "DATABASE_URL": f"sqlite:///{tmp_path}/t.db"})
    assert r.returncode == 0, r.stderr
    assert "tick at 2026-12-01T09:00:00+00:00" in r.stdout


def test_serve_refuses_slack_without_its_signing_secret(tmp_path: Path) -> None:
    """Item 10: a bot token and no signing secret would make /slack/events a silent 404."""
    r = hplj("serve", "--no-scheduler", "--port", "1", cwd=tmp_path,
             env={**CLEAN, "SLACK_BOT_TOKEN": "xoxb-test", "DATABASE_URL": f"sqlite:///{tmp_path}/s.db"})
    assert r.returncode == 2
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "SLACK_SIGNING_SECRET is not set" in lines[0], r.stderr


CSV_HEAD = "email,manager_email,journey,start,cohort\n"


@pytest.mark.parametrize("body,reason", [
    ('ana@example.com,ben@example.com,active-listening,2026-12-07,"' + "x" * 140_000 + '"\n', "longer than 10000"),
    ("ana@example.com,ben@example.com,active-listening,9999-12-30,c1\n", "days ahead"),
    ("ana@example.com,ben@example.com,active-listening,2026-12-07,Spring 2026\n", "is not a cohort name"),
    ("ana@example.com,ben@example.com,active-listening,2026-12-07,=HYPERLINK(1)\n", "is not a cohort name"),
    ("ana@example.com,ben@example.com,active-listening,2026-12-07,sp\u202ering\n", "control characters"),
    ("ana\x00@example.com,ben@example.com,active-listening,2026-12-07,c1\n", "control characters"),
])
def test_csv_import_refuses_bad_rows_before_writing(tmp_path: Path, body: str, reason: str) -> None:
    """Item 9 (and 7 for e-mails): each bad row is a line error; nobody is stored."""
    csv_file = tmp_path / "people.csv"
    csv_file.write_text(CSV_HEAD + body, encoding="utf-8")
    db = tmp_path / "c.db"
    r = hplj("enroll", "--csv", str(csv_file), "--platform", "console", cwd=tmp_path,
             env={**CLEAN, "DATABASE_URL": f"sqlite:///{db}"})
    assert r.returncode == 2, r.stdout + r.stderr  # nothing done
    assert f"{csv_file}:2:" in r.stdout and reason in r.stdout, r.stdout
    assert "Traceback" not in r.stdout + r.stderr
    if db.exists():
        assert sqlite3.connect(db).execute("select count(*) from people").fetchone() == (0,)


def test_csv_duplicate_headers_are_refused(tmp_path: Path) -> None:
    """Item 9: `email,EMAIL` would silently keep the last column."""
    csv_file = tmp_path / "people.csv"
    csv_file.write_text("email,EMAIL,manager_email,journey,start\na@x.io,b@x.io,c@x.io,active-listening,2026-12-07\n",
                        encoding="utf-8")
    r = hplj("enroll", "--csv", str(csv_file), "--platform", "console", cwd=tmp_path,
             env={**CLEAN, "DATABASE_URL": f"sqlite:///{tmp_path}/d.db"})
    assert r.returncode == 2 and "email appear more than once" in r.stdout, r.stdout + r.stderr


# ---- issue 23 ----------------------------------------------------------------------------------

HOSTILE_PEOPLE = [  # (a people-sync body after the header `email,manager_email,name`, the reason)
    ("ana@example.com,,Ana\x00Diaz\n", "control characters"),
    ("ana@example.com,,\x1b]0;owned\x07\x1b[2JAna\n", "control characters"),
    ("ana\x85@example.com,,Ana\n", "control characters"),
    ("ana@example.com,ben\u202e@example.com,Ana\n", "control characters"),
    ('ana@example.com,,"' + "x" * 200_000 + '"\n', "longer than 10000"),
    ("ana@example.com,,Ana,extra\n", "more values than columns"),
]


@pytest.mark.parametrize("body,reason", HOSTILE_PEOPLE)
@pytest.mark.parametrize("dry_run", [True, False])
def test_people_sync_reads_with_the_same_rules_as_enroll(tmp_path: Path, body: str, reason: str,
                                                         dry_run: bool) -> None:
    """Item 5: NUL, ESC sequences, C1 controls, bidi overrides, a 200,000-character field: a
    `file:line` error, no traceback, nothing stored, and nothing raw reaches the terminal."""
    csv_file = tmp_path / "people.csv"
    csv_file.write_text("email,manager_email,name\n" + body, encoding="utf-8")
    db = tmp_path / "p.db"
    r = hplj("people", "sync", "--csv", str(csv_file), *(["--dry-run"] if dry_run else []), cwd=tmp_path,
             env={**CLEAN, "DATABASE_URL": f"sqlite:///{db}"})
    out = r.stdout + r.stderr
    assert r.returncode == 2, out  # nothing done
    assert f"{csv_file}:2:" in r.stdout and reason in r.stdout, r.stdout
    assert "Traceback" not in out
    assert not any(c in out for c in "\x00\x1b\x07\x85\u202e"), repr(out)
    if db.exists():
        assert sqlite3.connect(db).execute("select count(*) from directory").fetchone() == (0,)


@pytest.mark.parametrize("command", [("people", "sync"), ("enroll",)])
def test_a_duplicated_column_is_refused_by_both_imports(tmp_path: Path, command: tuple[str, ...]) -> None:
    """Item 5: `email,...,Email` is refused with line 1 by both commands (DictReader kept the last)."""
    csv_file = tmp_path / "people.csv"
    head = "email,manager_email,Email" if command[0] == "people" else "email,manager_email,journey,start,Email"
    csv_file.write_text(head + "\na@x.io,b@x.io,c@x.io" + (",active-listening,2026-12-07" * (command[0] != "people"))
                        + "\n", encoding="utf-8")
    r = hplj(*command, "--csv", str(csv_file), cwd=tmp_path, env={**CLEAN, "DATABASE_URL": f"sqlite:///{tmp_path}/d.db"})
    assert r.returncode == 2 and f"{csv_file}:1:" in r.stdout and "email appear more than once" in r.stdout, r.stdout


def test_dry_run_escapes_control_characters_stored_before(tmp_path: Path) -> None:
    """Item 5: a name stored by an older version with an ESC sequence never reaches the terminal raw
    when --dry-run prints the change (directory entries are cleaned as they are read, and what is
    printed has control characters escaped)."""
    db = tmp_path / "p.db"
    env = {**CLEAN, "DATABASE_URL": f"sqlite:///{db}"}
    first = tmp_path / "first.csv"
    first.write_text("email,name\nana@example.com,Ana\n", encoding="utf-8")
    assert hplj("people", "sync", "--csv", str(first), cwd=tmp_path, env=env).returncode == 0
    with sqlite3.connect(db) as c:
        c.execute("update directory set name = ?", ("\x1b]0;owned\x07Ana",))
    second = tmp_path / "second.csv"
    second.write_text("email,name\nana@example.com,Ana Diaz\n", encoding="utf-8")
    r = hplj("people", "sync", "--csv", str(second), "--dry-run", cwd=tmp_path, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "-> Ana Diaz" in r.stdout, r.stdout
    assert not any(c in r.stdout for c in "\x1b\x07"), repr(r.stdout)  # the terminal is never driven


def test_a_blank_slack_signing_secret_is_one_sentence_and_exit_2(tmp_path: Path) -> None:
    """Item 12: `SLACK_SIGNING_SECRET="   "` was a 98-line traceback."""
    r = hplj("serve", "--no-scheduler", "--port", "1", cwd=tmp_path,
             env={**CLEAN, "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": "   ",
                  "DATABASE_URL": f"sqlite:///{tmp_path}/s.db"})
    assert r.returncode == 2, r.stdout + r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "SLACK_SIGNING_SECRET" in lines[0] and "Traceback" not in r.stderr, r.stderr


# ---- issue 23, item 2: every write of a manager link checks the whole chain ---------------------------

def test_people_sync_refuses_a_circle_made_across_two_files(tmp_path: Path) -> None:
    """`cat -> dan` in one file, `dan -> cat` in a second: the second row is refused with its line,
    and nothing of it is stored."""
    env = {**CLEAN, "DATABASE_URL": f"sqlite:///{tmp_path}/c.db"}
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    first.write_text("email,manager_email\ncat@example.com,dan@example.com\n", encoding="utf-8")
    second.write_text("email,manager_email\neve@example.com,\ndan@example.com,cat@example.com\n", encoding="utf-8")
    assert hplj("people", "sync", "--csv", str(first), cwd=tmp_path, env=env).returncode == 0
    for dry in ([], ["--dry-run"]):
        r = hplj("people", "sync", "--csv", str(second), *dry, cwd=tmp_path, env=env)
        assert r.returncode == 1, r.stdout + r.stderr
        assert f"{second}:3: managers go round in a circle:" in r.stdout, r.stdout
        assert "Traceback" not in r.stdout + r.stderr
    with sqlite3.connect(tmp_path / "c.db") as c:
        assert c.execute("select manager_email from directory where email = 'dan@example.com'").fetchall() == []
        assert c.execute("select count(*) from directory where email = 'eve@example.com'").fetchone() == (1,)


@pytest.mark.parametrize("mm,reason", [
    ("ana@example.com", "manager_manager_email is the participant themselves"),
    ("ben@example.com", "manager_manager_email is the manager themselves"),
])
def test_enroll_refuses_a_manager_manager_who_bends_the_chain(tmp_path: Path, mm: str, reason: str) -> None:
    csv_file = tmp_path / "people.csv"
    csv_file.write_text("email,manager_email,journey,start,manager_manager_email\n"
                        f"ana@example.com,ben@example.com,active-listening,2026-12-07,{mm}\n", encoding="utf-8")
    r = hplj("enroll", "--csv", str(csv_file), "--platform", "console", cwd=tmp_path,
             env={**CLEAN, "DATABASE_URL": f"sqlite:///{tmp_path}/e.db"})
    assert r.returncode == 2 and f"{csv_file}:2:" in r.stdout and reason in r.stdout, r.stdout + r.stderr


def test_enroll_refuses_a_row_that_puts_a_participant_above_their_manager(tmp_path: Path) -> None:
    """The HR sync says Ben's manager is Ana; a row enrolling Ana under Ben would close the circle:
    refused with its line before anyone is stored; the row after it is enrolled."""
    env = {**CLEAN, "DATABASE_URL": f"sqlite:///{tmp_path}/e.db"}
    hr = tmp_path / "hr.csv"
    hr.write_text("email,manager_email\nben@example.com,ana@example.com\n", encoding="utf-8")
    assert hplj("people", "sync", "--csv", str(hr), cwd=tmp_path, env=env).returncode == 0
    start = (date.today() + timedelta(days=14)).isoformat()
    csv_file = tmp_path / "people.csv"
    csv_file.write_text("email,manager_email,journey,start\n"
                        f"ana@example.com,ben@example.com,active-listening,{start}\n"
                        f"chen@example.com,dev@example.com,active-listening,{start}\n", encoding="utf-8")
    r = hplj("enroll", "--csv", str(csv_file), "--platform", "console", cwd=tmp_path, env=env)
    assert r.returncode == 1, r.stdout + r.stderr
    assert f"{csv_file}:2: managers go round in a circle:" in r.stdout, r.stdout
    with sqlite3.connect(tmp_path / "e.db") as c:
        enrolled = c.execute("select p.email from enrollments e join people p on p.id = e.person_id").fetchall()
    assert enrolled == [("chen@example.com",)]


@pytest.mark.parametrize("escape,code", [("\\x07", "U+0007"), ("\\u202e", "U+202E"), ("\\x85", "U+0085"),
                                         ("\\e[2J", "U+001B"), ("\\u2066", "U+2066"), ("\\0", "U+0000")])
def test_an_escaped_control_character_in_a_quoted_yaml_scalar_is_a_line_error(tmp_path: Path, escape: str,
                                                                              code: str) -> None:
    """Item 12: `title: "Active \\x07Listening"` passed validation; now file:line:col and exit 1."""
    bad = tmp_path / "escaped.yml"
    bad.write_text(f'id: escaped\ntitle: "Active {escape}Listening"\n', encoding="utf-8")
    r = hplj("validate", str(bad), cwd=tmp_path)
    assert r.returncode == 1
    assert f"{bad}:2:8: title: control or bidi character {code}" in r.stdout, r.stdout + r.stderr
    assert "Traceback" not in r.stdout + r.stderr
