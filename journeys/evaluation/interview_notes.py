"""Interview notes as evidence: what a Success Case interview found, in one form.

The interviewer records, with the person's consent, the story (situation, behaviour, result), the
evidence they saw, what helped (enablers) and what got in the way (barriers, the performance
system's: journeys/evaluation/barriers.py), and the value in a measured outcome's unit over its period. The
form is the same on every platform (a Slack modal, an Adaptive Card, fields asked one by one).

Where things are kept: codes and numbers go into the `interview_recorded` event (so the
evaluation, the value and the barrier counts read them like any other fact); the story's words go
on the enrollment's notes (`notes["interview"]`), erased with the enrollment by `forget`, and only
when the person agreed to them being kept. Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from journeys.definition import Journey
from journeys.evaluation.barriers import BARRIER_LIST
from journeys.evaluation.interviews import CLASS_WORDS, RECORDED
from journeys.messages import FormField, Message, Option
from journeys.ppp import measured_outcomes, units
from journeys.state import JourneyEvent

NOTES_STEP = "interview-notes"
NOTES_KEY = "interview"  # enrollment.notes[NOTES_KEY]: the story's words, with consent
STORY = ("situation", "behaviour", "result")
ENABLERS: tuple[tuple[str, str], ...] = (
    ("manager", "Their manager's support or coaching"),
    ("practice", "The practice moments of the journey"),
    ("peers", "Colleagues or a peer"),
    ("tools", "A tool, job aid or checklist"),
    ("time", "Time set aside for it"),
    ("recognition", "Recognition or a goal that rewarded it"),
)
ENABLER_LABELS = dict(ENABLERS)


def notes_prompt_id(enrollment_id: str) -> str:
    return f"{enrollment_id}.{NOTES_STEP}"


def notes_enrollment(prompt_id: str | None) -> str | None:
    """The enrollment an interview-notes form belongs to, or None for any other prompt."""
    if prompt_id and prompt_id.endswith("." + NOTES_STEP):
        return prompt_id[: -len(NOTES_STEP) - 1] or None
    return None


def notes_fields(journey: Journey) -> tuple[FormField, ...]:
    measured = [o for o in measured_outcomes(journey).values() if o.measure is not None]
    fields = [
        FormField("consent", "Did they agree to these notes being kept (quoted without their name)?", "choice",
                  (Option("yes", "Yes"), Option("no", "No: keep only the codes and numbers"))),
        FormField("classification", "What the interview verified", "choice",
                  tuple(Option(k, v[0].upper() + v[1:]) for k, v in CLASS_WORDS.items())),
        FormField("situation", "Situation: where, when, with whom?", "long_text", required=False),
        FormField("behaviour", "Behaviour: what did they do differently?", "long_text", required=False),
        FormField("result", "Result: what came of it?", "long_text", required=False),
        FormField("evidence", "Evidence you saw (a record, a message, a figure)", "text", required=False),
        FormField("enablers", "What helped", "multi_choice", tuple(Option(k, v) for k, v in ENABLERS),
                  required=False),
        FormField("barriers", "What got in the way", "multi_choice",
                  tuple(Option(b.code, b.label[0].upper() + b.label[1:]) for b in BARRIER_LIST), required=False),
    ]
    if measured:
        fields.append(FormField("outcome", "The outcome it moved", "choice",
                                tuple(Option(o.id or "", o.text) for o in measured), required=False))
        periods = ", ".join(sorted({f"{o.measure.unit}s a {o.measure.period}" for o in measured if o.measure}))
        fields.append(FormField("units", "Value: how many units per period?", "text", required=False,
                                hint=f"a number, in the outcome's unit and period ({periods})"))
    return tuple(fields)


def notes_form(journey: Journey, enrollment_id: str, recipient_id: str, name: str, *, note: str = "") -> Message:
    """The form an interviewer fills in after the interview; closed, with `note`, once saved."""
    return Message(recipient_id=recipient_id, title=f"Interview notes: {name}",
                   text=("What did the interview find? The story with their consent, the evidence you saw, what "
                         "helped and what got in the way, and the value.") + (f"\n{note}" if note else ""),
                   journey_title=journey.title, prompt_id=notes_prompt_id(enrollment_id),
                   fields=() if note else notes_fields(journey), form_label="Record interview notes",
                   closed=bool(note), audience="admin",
                   context=f"{journey.title} · Success Case interview · only L&D sees this form")


@dataclass(frozen=True)
class Notes:
    consent: bool
    classification: str
    story: dict[str, str]  # situation / behaviour / result / evidence, kept only with consent
    evidence: bool  # the interviewer saw evidence
    enablers: tuple[str, ...]
    barriers: tuple[str, ...]
    outcome: str | None
    units: float | None


class NotesError(ValueError):
    """A submission that cannot be saved; the message says what to change."""


def read_notes(journey: Journey, values: Mapping[str, Any]) -> Notes:
    """The checked notes of a (already field-checked) submission, or NotesError."""
    classification = str(values.get("classification") or "")
    if classification not in CLASS_WORDS:
        raise NotesError("Pick what the interview verified.")
    consent = values.get("consent") == "yes"
    measured = measured_outcomes(journey)
    outcome = str(values["outcome"]) if values.get("outcome") else None
    raw_units = str(values.get("units") or "").strip().replace(",", "")
    amount: float | None = None
    if raw_units:
        try:
            amount = float(raw_units)
        except ValueError:
            raise NotesError(f"'Value' expects a number, not “{raw_units[:20]}”.") from None
        if not 0 <= amount < 1e9:
            raise NotesError("'Value' must be zero or more.")
        if outcome is None or outcome not in measured or measured[outcome].measure is None:
            raise NotesError("A value needs 'The outcome it moved', so the units have a worth.")
    story = {k: str(values.get(k) or "").strip() for k in (*STORY, "evidence")} if consent else {}
    return Notes(consent, classification, {k: v for k, v in story.items() if v},
                 bool(str(values.get("evidence") or "").strip()),
                 tuple(str(x) for x in values.get("enablers") or ()), tuple(str(x) for x in values.get("barriers") or ()),
                 outcome, amount)


def notes_event(enrollment_id: str, notes: Notes, interviewer_id: str, now: datetime) -> JourneyEvent:
    """The `interview_recorded` event of the notes: codes and numbers only."""
    data: dict[str, object] = {"classification": notes.classification, "interviewer": interviewer_id,
                               "notes": True, "consent": notes.consent, "evidence": notes.evidence,
                               "enablers": list(notes.enablers), "barriers": list(notes.barriers)}
    if notes.outcome:
        data["outcome"] = notes.outcome
    if notes.units is not None:
        data["units"] = notes.units
    return JourneyEvent(RECORDED, enrollment_id, now, None, data)


def stored_story(notes: Notes, now: datetime) -> list[list[str]]:
    """What goes on enrollment.notes[NOTES_KEY]: the words as [key, text] pairs, only with consent
    (a list, so a later recording replaces the earlier one whole instead of merging into it)."""
    return [[k, v] for k, v in notes.story.items()] + [["at", now.isoformat()]] if notes.consent and notes.story \
        else []


def story_of(enrollment_notes: Mapping[str, Any]) -> dict[str, str]:
    """The kept story of an enrollment's notes ({} when none, or kept without consent)."""
    raw = enrollment_notes.get(NOTES_KEY)
    if not isinstance(raw, list):
        return {}
    return {str(p[0]): str(p[1]) for p in raw if isinstance(p, list) and len(p) == 2 and p[0] != "at"}


def saved_note(journey: Journey, notes: Notes, name: str) -> str:
    """What the closed form says was saved."""
    m = measured_outcomes(journey).get(notes.outcome or "")
    worth = (f", {units(notes.units, m.measure.unit)} a {m.measure.period}"
             if m is not None and m.measure is not None and notes.units is not None else "")
    kept = "the story kept with their consent" if notes.consent and notes.story else "codes and numbers only"
    return (f"✅ Saved: {name}'s interview verified {CLASS_WORDS[notes.classification]}"
            + (f" ({notes.outcome}{worth})" if notes.outcome else "") + f"; {kept}.")
