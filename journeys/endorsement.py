"""The sponsor's endorsement: the senior leader's kickoff brief asks for it, the welcome quotes it.

People take a journey seriously when the person they answer to says it matters, in their own
words. When a journey names its welcome step (`manager_support.leader_brief.welcome_step`), the
leader's brief carries an Endorse form (one optional sentence): a Slack modal, Adaptive Card inputs
on Teams, or typed (`endorse` and the sentence) anywhere. Only the leader it was sent to can use
it: the form's id names them. From then on each of their people's welcome quotes it, with their
name, as typed text (inert on every platform); welcomes already sent are not sent again.
Pure: no I/O.
"""

from __future__ import annotations

import re

from journeys.definition import Journey, Step
from journeys.messages import FormField
from journeys.state import Endorsement, EnrollmentState
from journeys.text import clean, typed

ENDORSE_PREFIX = "endorse:"
SENTENCE = "sentence"
MAX_SENTENCE = 300
_TYPED = re.compile(r"\s*endorse\b[\s:,.!-]*(.*)", re.IGNORECASE | re.DOTALL)


def welcome_step(journey: Journey) -> str | None:
    brief = journey.manager_support.leader_brief
    return brief.welcome_step if brief is not None else None


def endorse_prompt_id(journey_id: str, leader_id: str) -> str:
    """The form's id: it names the journey and the one leader who may use it."""
    return f"{ENDORSE_PREFIX}{journey_id}:{leader_id}"


def endorse_target(prompt_id: str | None) -> tuple[str, str] | None:
    """(journey id, leader id) of an endorsement form's id; None for any other prompt."""
    if not prompt_id or not prompt_id.startswith(ENDORSE_PREFIX):
        return None
    journey_id, _, leader_id = prompt_id[len(ENDORSE_PREFIX):].partition(":")
    return (journey_id, leader_id) if journey_id and leader_id else None


def fields() -> tuple[FormField, ...]:
    return (FormField(SENTENCE, "A sentence to your people (optional)", "long_text", required=False,
                      hint=f"Quoted with your name in each participant's welcome; at most {MAX_SENTENCE} characters"),)


def ask_lines(journey: Journey) -> list[str]:
    """The brief's request, in its text (the form itself is its button)."""
    ask = ("*Will you endorse it?* People try new habits when the person they answer to says it matters. "
           "Press Endorse, with a sentence to them if you like (or reply `endorse` and your sentence): "
           f"it is quoted, with your name, in the welcome each participant of {journey.title} gets at the start.")
    return ["", ask]


def typed_endorsement(text: str | None) -> str | None:
    """The sentence of a typed `endorse …` ("" for a bare `endorse`); None when it isn't one."""
    m = _TYPED.fullmatch(text or "")
    return None if m is None else m.group(1).strip()


def sentence_of(raw: object) -> str | None:
    """The sentence as kept: cleaned, one paragraph, None when empty; ValueError when too long."""
    text = " ".join(clean(str(raw or "")).split())
    if len(text) > MAX_SENTENCE:
        raise ValueError(f"Your sentence has {len(text)} characters; please keep it to {MAX_SENTENCE}. "
                         "Nothing was saved yet.")
    return text or None


def quote(e: Endorsement) -> str:
    """How a welcome quotes it: the leader's words (typed, so inert) with their name."""
    if e.text:
        return f"*From {typed(e.leader_name)}:* “{typed(e.text)}”"
    return f"*{typed(e.leader_name)}* has endorsed this journey and backs the time you give it."


def welcome_section(journey: Journey, enrollment: EnrollmentState, step: Step) -> str:
    """Added to the welcome step's text when the participant's leader has endorsed the journey."""
    if enrollment.endorsement is None or step.id != welcome_step(journey):
        return ""
    return "\n\n" + quote(enrollment.endorsement)


def saved_reply(journey: Journey, e: Endorsement) -> str:
    return (f"✅ Saved: your endorsement of {journey.title}. Each welcome sent from now on quotes it (those already "
            f"sent stay as they were): {quote(e)} Endorse again to change it.")
