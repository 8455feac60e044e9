"""A journey author's tools as they run them: `hplj preview`, `hplj audit`, `chat`/`demo --journey`,
`HPLJ_JOURNEYS`, and `hplj validate`'s placeholder check, each a real process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
AUTHOR = ROOT / "tests" / "fixtures" / "journeys" / "valid" / "author.yml"  # written from the README alone
SAMPLE = ROOT / "journeys" / "library" / "active-listening.yml"


def hplj(*args: str, env: dict[str, str] | None = None, stdin: str | None = None,
         timeout: float = 300) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    if "HPLJ_JOURNEYS" not in (env or {}):
        full_env.pop("HPLJ_JOURNEYS", None)
    return subprocess.run([sys.executable, "-m", "bot.app.cli", *args], capture_output=True, text=True, input=stdin,
                          env=full_env, cwd=ROOT, timeout=timeout, check=False)


def test_preview_shows_each_role_its_own_timeline_in_local_time() -> None:
    seen = {}
    for role in ("participant", "manager", "leader"):
        r = hplj("preview", str(AUTHOR), "--as", role, "--start", "2027-03-01")
        assert r.returncode == 0, r.stderr
        seen[role] = r.stdout
    assert "Giving Feedback: what the participant receives, starting Mon 01 Mar 2027" in seen["participant"]
    # the participant's focus question, on its day, in their zone; then the kickoff on the start day
    assert "Tue 23 Feb 2027 10:00 GMT → Ana Silva (step:focus)" in seen["participant"]
    assert "Welcome to Giving Feedback, Ana. Which conversation" in seen["participant"]
    assert "Mon 01 Mar 2027 09:30 GMT → Ana Silva (step:kickoff)" in seen["participant"]
    assert "(step:expectations)" in seen["manager"] and "Book 15 minutes with Ana" in seen["manager"]
    assert "(step:expectations)" not in seen["participant"]
    assert "Lea Fischer" in seen["leader"] and "Ana Silva (step:" not in seen["leader"]


def test_preview_gives_the_json_each_platform_would_be_sent() -> None:
    slack = json.loads(hplj("preview", str(AUTHOR), "--format", "slack", "--start", "2027-03-01").stdout)
    assert slack and all(item["local_time"].startswith("2027-") for item in slack)
    first = slack[0]["payload"]
    assert first["text"] and first["blocks"][0]["type"] in ("section", "context", "header")
    assert any(b.get("type") == "actions" for item in slack for b in item["payload"]["blocks"])
    teams = json.loads(hplj("preview", str(AUTHOR), "--format", "teams", "--as", "manager",
                            "--start", "2027-03-01").stdout)
    assert teams and {item["payload"]["type"] for item in teams} == {"AdaptiveCard"}


def test_preview_refuses_an_unknown_role_or_format() -> None:
    r = hplj("preview", str(AUTHOR), "--as", "ceo")
    assert r.returncode == 2 and "--as" in r.stderr and "participant|manager|leader|facilitator, not 'ceo'" in r.stderr
    r = hplj("preview", str(AUTHOR), "--format", "pdf")
    assert r.returncode == 2 and "--format" in r.stderr
    r = hplj("preview", str(AUTHOR), "--start", "next monday")
    assert r.returncode == 2 and "--start" in r.stderr


def test_audit_prints_each_breach_with_persona_message_and_rule(tmp_path: Path) -> None:
    # an author who wrote a date-relative word into a text: on day two the start is not "next week"
    bad = tmp_path / "bad.yml"
    bad.write_text(AUTHOR.read_text(encoding="utf-8") + (
        "  - id: late-words\n    kind: message\n    when: \"start+1 11:00\"\n"
        "    text: \"{name}, your journey starts next week.\"\n"), encoding="utf-8")
    r = hplj("audit", str(bad), "--start", "2027-03-01")
    assert r.returncode == 1, r.stdout + r.stderr
    line = next(x for x in r.stdout.splitlines() if "Dina Lowe" in x and "starts next week" in x)
    assert line == (f"{bad}: [past-as-future] Dina Lowe (diligent participant) at Tue 02 Mar 2027 11:00 (GMT): "
                    "“step:late-words: Dina, your journey starts next week.” — says the start (Mon 01 Mar) is next week")
    assert r.stdout.rstrip().splitlines()[-1].endswith("breach(es)")


def test_audit_shows_what_a_role_received_in_each_readers_time() -> None:
    # the interviewer (Paris) reads their interviews: one message for a day, with what to ask
    r = hplj("audit", str(ROOT / "journeys" / "library" / "active-listening.yml"), "--start", "2027-03-01",
             "--show", "interviewer")
    assert r.returncode == 0, r.stdout + r.stderr
    shown = r.stdout.split("what the interviewer received")[1]
    assert "→ Oli Ward (reply:interviews)" in shown and "→ Oli Ward (interview:reminder)" in shown
    assert " CEST → " in shown and "ask about" in shown  # Paris in April
    assert "→ Dina Lowe" not in shown  # that role only
    r = hplj("audit", str(AUTHOR), "--show", "ceo")
    assert r.returncode == 2 and "--show" in r.stderr and "interviewer|all, not 'ceo'" in r.stderr


def test_audit_of_a_broken_file_says_where() -> None:
    r = hplj("audit", str(ROOT / "tests" / "fixtures" / "journeys" / "broken" / "unknown_step_kind.yml"))
    assert r.returncode == 2 and "unknown_step_kind.yml:10:11:" in r.stderr


def test_chat_and_demo_run_the_authors_journey() -> None:
    r = hplj("chat", "--journey", str(AUTHOR), stdin=":advance 1w\n:quit\n")
    assert r.returncode == 0, r.stderr
    assert "Ana is enrolled in “Giving Feedback”" in r.stdout
    assert "Welcome to Giving Feedback, Ana." in r.stdout
    r = hplj("demo", "--journey", str(AUTHOR), "--quiet")
    assert r.returncode == 0, r.stderr
    assert "Giving Feedback: Success Case evaluation" in r.stdout


def test_chat_honours_hplj_journeys(tmp_path: Path) -> None:
    (tmp_path / "giving-feedback.yml").write_text(AUTHOR.read_text(encoding="utf-8"), encoding="utf-8")
    r = hplj("chat", env={"HPLJ_JOURNEYS": str(tmp_path)}, stdin=":quit\n")
    assert r.returncode == 0, r.stderr
    assert "Ana is enrolled in “Giving Feedback”" in r.stdout
    r = hplj("chat", "--journey", str(tmp_path / "missing.yml"), stdin=":quit\n")
    assert r.returncode == 2 and "missing.yml" in r.stderr


def test_validate_rejects_unknown_placeholders_at_their_place(tmp_path: Path) -> None:
    text = AUTHOR.read_text(encoding="utf-8")
    text = text.replace("Welcome to {journey}, {name}.", "Welcome to {journey}, {Name}.")
    text = text.replace("Book 15 minutes with {name}", "Book 15 minutes with {nmae}")
    text = text.replace("How did your conversation on {mtm_date} go?", "How did your conversation on {mtm-date} go?")
    text = text.replace("How confident are you giving feedback now?", "How confident are you since {mtm_date}?")
    bad = tmp_path / "typos.yml"
    bad.write_text(text, encoding="utf-8")
    r = hplj("validate", str(bad))
    assert r.returncode == 1
    lines = r.stdout.splitlines()
    assert f"{bad}:28:33: unknown placeholder {{Name}}; did you mean {{name}}?" in lines
    assert f"{bad}:40:32: unknown placeholder {{nmae}}; did you mean {{name}}?" in lines
    assert f"{bad}:62:40: unknown placeholder {{mtm-date}}; did you mean {{mtm_date}}?" in lines
    assert any(ln.startswith(f"{bad}:68:39:") and "{mtm_date}" in ln and "with for_mtm" in ln for ln in lines), lines


def test_preview_as_the_facilitator_shows_the_brief_and_the_progress() -> None:
    out = hplj("preview", str(SAMPLE), "--as", "facilitator", "--start", "2027-03-01").stdout
    assert "what the facilitator receives" in out
    assert "Your brief for the Active listening workshop on Mon 8 Mar" in out and "Who is coming: 1 person" in out
    assert "Cohort audit since the workshop on Mon 8 Mar" in out
    assert "Ana" not in out  # the one participant is never named
