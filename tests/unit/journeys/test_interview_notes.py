"""Interview notes as evidence (pure): the form's fields, what is kept with and without consent,
the recorded event's codes, and the checks that save nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from journeys.evaluation.interview_notes import (
    NOTES_KEY,
    NotesError,
    notes_enrollment,
    notes_event,
    notes_fields,
    notes_prompt_id,
    read_notes,
    saved_note,
    stored_story,
    story_of,
)
from journeys.evaluation.interviews import verdicts
from journeys.loader import default_library_path, load_library

JOURNEY = load_library(default_library_path())["active-listening"]
NOW = datetime(2027, 6, 1, 14, tzinfo=UTC)
VALUES = {"consent": "yes", "classification": "success", "situation": "A refund call", "behaviour": "Paraphrased",
          "result": "No escalation", "evidence": "ticket 4411", "enablers": ["manager"], "barriers": ["no_time"],
          "outcome": "fewer-escalations", "units": "3"}


def test_the_form_asks_for_story_evidence_enablers_barriers_and_value() -> None:
    ids = [f.id for f in notes_fields(JOURNEY)]
    assert ids == ["consent", "classification", "situation", "behaviour", "result", "evidence", "enablers",
                   "barriers", "outcome", "units"]
    units = next(f for f in notes_fields(JOURNEY) if f.id == "units")
    assert "avoided escalations a month" in units.hint
    assert notes_enrollment(notes_prompt_id("e1")) == "e1" and notes_enrollment("e1.survey") is None


def test_notes_round_trip_with_consent() -> None:
    notes = read_notes(JOURNEY, VALUES)
    stored = {NOTES_KEY: stored_story(notes, NOW)}
    assert story_of(stored) == {"situation": "A refund call", "behaviour": "Paraphrased", "result": "No escalation",
                                "evidence": "ticket 4411"}
    event = notes_event("e1", notes, "lena", NOW)
    assert "A refund call" not in str(event.data)  # codes and numbers only
    (v,) = verdicts([event])
    assert (v.classification, v.outcome, v.units, v.evidence, v.barriers, v.enablers, v.with_notes) == (
        "success", "fewer-escalations", 3.0, True, ("no_time",), ("manager",), True)
    assert saved_note(JOURNEY, notes, "Ana") == ("✅ Saved: Ana's interview verified success case (fewer-escalations, "
                                                 "3 avoided escalations a month); the story kept with their consent.")


def test_without_consent_only_codes_and_numbers_are_kept() -> None:
    notes = read_notes(JOURNEY, {**VALUES, "consent": "no"})
    assert stored_story(notes, NOW) == [] and story_of({NOTES_KEY: []}) == {}
    assert notes.evidence and notes.units == 3  # the codes still count


@pytest.mark.parametrize("change,words", [
    ({"units": "lots"}, "expects a number"),
    ({"units": "-2"}, "zero or more"),
    ({"outcome": None}, "needs 'The outcome it moved'"),
    ({"outcome": "early-concerns"}, "needs 'The outcome it moved'"),  # an outcome without a measure
    ({"classification": None}, "Pick what the interview verified"),
])
def test_a_bad_submission_says_what_to_change(change: dict[str, object], words: str) -> None:
    with pytest.raises(NotesError, match=words):
        read_notes(JOURNEY, {**VALUES, **change})
