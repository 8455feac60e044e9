"""`manager_support:` in a journey file: bad values are reported with file:line:col (hplj validate)."""

from __future__ import annotations

from pathlib import Path

import pytest

from journeys.loader import JourneyFileError, default_library_path, load_journey_text

SAMPLE = (Path(default_library_path()) / "active-listening.yml").read_text()
BLOCK = SAMPLE[SAMPLE.index("manager_support:"):SAMPLE.index("\nsteps:")]
LINE = SAMPLE[:SAMPLE.index("manager_support:")].count("\n") + 1  # the line of `manager_support:`


def errors_for(block: str) -> list[str]:
    with pytest.raises(JourneyFileError) as info:
        load_journey_text(SAMPLE.replace(BLOCK, block), "j.yml")
    return [str(e) for e in info.value.errors]


def test_the_sample_declares_every_key() -> None:
    assert "escalate_after" in BLOCK and "fallback" in BLOCK and "expectations" in BLOCK and "leader_brief" in BLOCK


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("escalate_after: 2", "escalate_after: -1", f"j.yml:{LINE + 1}:19: manager_support.escalate_after: "),
    ("escalate_after: 2", "escalate_after: soon", f"j.yml:{LINE + 1}:19: manager_support.escalate_after: expected a whole number"),
    ("offer: [peer, coach, on_your_own]", "offer: [peer, boss]",
     f"j.yml:{LINE + 3}:"),
    ("offer: [peer, coach, on_your_own]", "offer: []", f"j.yml:{LINE + 3}:5: manager_support.fallback.offer: needs at least 1 item"),
    ('    coach_contact: "Sam Reyes, L&D coach (sam.reyes@example.com)"\n', "",
     f"j.yml:{LINE + 2}:3: manager_support.fallback.coach_contact: offering the L&D coach needs 'coach_contact'"),
    ("step: expectations", "step: why-it-matters",
     f"j.yml:{LINE + 6}:11: manager_support.expectations.step: 'why-it-matters' is not a manager_task step"),
    ("consent_step: share-line-of-sight", "consent_step: focus-situation",
     f"j.yml:{LINE + 7}:19: manager_support.expectations.consent_step: 'focus-situation' must be a choice question"),
    ("shares: [focus-situation, success-picture]", "shares: [focus-situation, kickoff]",
     f"j.yml:{LINE + 8}:31: manager_support.expectations.shares[1]: 'kickoff' is not a question step"),
    ('when: "start-6 09:00"', 'when: "start+1 09:00"',
     f"j.yml:{LINE + 10}:11: manager_support.leader_brief.when: the kickoff brief goes before the start"),
    ('when: "start-6 09:00"', 'when: "tomorrow"', f"j.yml:{LINE + 10}:11: manager_support.leader_brief.when: expected"),
    ("escalate_after: 2", "escalate_afer: 2", f"j.yml:{LINE + 1}:3: manager_support.escalate_afer: unknown key"),
])
def test_bad_values_point_at_their_line_and_column(old: str, new: str, expected: str) -> None:
    assert old in BLOCK
    errors = errors_for(BLOCK.replace(old, new))
    assert any(e.startswith(expected) for e in errors), errors


def test_agreed_placeholder_needs_expectations() -> None:
    block = BLOCK[:BLOCK.index("  expectations:")] + BLOCK[BLOCK.index("  leader_brief:"):]
    errors = errors_for(block)
    assert any(f"j.yml:{LINE}:1: manager_support: a step uses {{agreed}}" in e for e in errors), errors


def test_leaving_manager_support_out_keeps_the_defaults() -> None:
    text = SAMPLE.replace(BLOCK, "").replace(" {agreed}", "")
    journey = load_journey_text(text, "j.yml")
    ms = journey.manager_support
    assert ms.escalate_after == 2 and ms.fallback.offer == ["peer", "on_your_own"] and ms.expectations is None
    assert ms.leader_brief is not None and ms.leader_brief.when == "start-6 09:00"


def test_hplj_validate_reports_them_with_file_line_and_column(tmp_path: Path) -> None:
    """The command a journey writer runs: one real process."""
    import os
    import subprocess
    import sys

    bad = tmp_path / "bad.yml"
    bad.write_text(SAMPLE.replace(BLOCK, BLOCK.replace("step: expectations", "step: kickoff")
                                  .replace('    coach_contact: "Sam Reyes, L&D coach (sam.reyes@example.com)"\n', "")))
    root = Path(__file__).resolve().parents[3]
    r = subprocess.run([sys.executable, "-m", "bot.app.cli", "validate", str(bad)], check=False, capture_output=True, text=True,
                       env={**os.environ, "PYTHONPATH": str(root)}, cwd=root, timeout=120)
    assert r.returncode == 1
    assert f"{bad}:{LINE + 2}:3: manager_support.fallback.coach_contact: offering the L&D coach" in r.stdout
    assert f"{bad}:{LINE + 5}:11: manager_support.expectations.step: 'kickoff' is not a manager_task" in r.stdout
