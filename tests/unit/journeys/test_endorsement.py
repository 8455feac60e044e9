"""Issue 21 item 8: the senior leader's endorsement, asked in the kickoff brief and quoted in the
welcome; the journey key that turns it on; the two audit rules of the cohort roles."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from journeys import endorsement, kickoff, rendering
from journeys.definition import Journey
from journeys.loader import JourneyFileError, default_library_path, load_journey_text
from journeys.state import Endorsement, EnrollmentState, Person, PromptState
from journeys.text import TYPED_CLOSE, TYPED_OPEN, plain
from journeys.transcript import Action
from journeys.transcript_rules import endorsement_in_welcome, facilitator_counts_only
from tests.unit.journeys.test_transcript_rules import START, at, sent, transcript

SAMPLE = (Path(default_library_path()) / "active-listening.yml").read_text()
ANA = Person("ana", "Ana Silva", "Europe/London")
BEN = Person("ben", "Ben Okafor", "Europe/London")
LEE = Person("lee", "Lee Park", "Europe/London")


def welcome(journey: Journey, e: Endorsement | None, step: str = "kickoff") -> str:
    state = EnrollmentState("e1", journey.id, ANA, BEN, START, leader=LEE, endorsement=e)
    due = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)
    return rendering.render_prompt(journey, state, PromptState(f"e1.{step}", "e1", step, "ana", "scheduled", due,
                                                               due), None).text


def test_the_welcome_quotes_the_leader_by_name_as_typed_text(journey: Journey) -> None:
    hostile = "Make time for it <!channel> *now* <https://evil.example|click>"
    text = welcome(journey, Endorsement("Lee Park", hostile))
    assert f"From {TYPED_OPEN}Lee Park{TYPED_CLOSE}:* “{TYPED_OPEN}{hostile}{TYPED_CLOSE}”" in text
    assert "Lee Park has endorsed" in plain(welcome(journey, Endorsement("Lee Park"))).replace("*", "")
    assert "Lee Park" not in welcome(journey, None)  # nothing endorsed yet: the welcome as written
    assert "Lee Park" not in welcome(journey, Endorsement("Lee Park", "Go"), step="key-idea")  # only the welcome


def test_the_brief_asks_for_the_endorsement_only_where_the_welcome_quotes_it(journey: Journey) -> None:
    brief = kickoff.build_leader_brief(journey, LEE, ["Ben Okafor"], 3, START)
    assert brief.prompt_id == "endorse:active-listening:lee"
    assert [f.id for f in brief.fields] == ["sentence"] and not brief.fields[0].required
    assert brief.form_label == "Endorse" and "Will you endorse it?" in brief.text
    off = journey.model_copy(update={"manager_support": journey.manager_support.model_copy(update={
        "leader_brief": journey.manager_support.leader_brief.model_copy(update={"welcome_step": None})})})
    plain_brief = kickoff.build_leader_brief(off, LEE, ["Ben Okafor"], 3, START)
    assert plain_brief.prompt_id is None and not plain_brief.fields and "endorse" not in plain_brief.text.lower()


def test_the_forms_id_names_the_one_leader_and_typed_endorse_is_read() -> None:
    assert endorsement.endorse_target("endorse:active-listening:p_12:x") == ("active-listening", "p_12:x")
    assert endorsement.endorse_target("e1.kickoff") is None and endorsement.endorse_target("endorse:") is None
    assert endorsement.typed_endorsement("Endorse: We back this.") == "We back this."
    assert endorsement.typed_endorsement("endorse") == ""
    assert endorsement.typed_endorsement("I endorse nothing") is None
    assert endorsement.typed_endorsement("endorsement?") is None
    assert endorsement.sentence_of("  two\n lines\x00 ") == "two lines"
    assert endorsement.sentence_of("") is None
    with pytest.raises(ValueError, match="keep it to 300"):
        endorsement.sentence_of("x" * 301)


def test_welcome_step_must_be_a_message_step_reported_at_its_line() -> None:
    bad = SAMPLE.replace("welcome_step: kickoff", "welcome_step: focus-situation")
    line = SAMPLE[:SAMPLE.index("welcome_step: kickoff")].count("\n") + 1
    with pytest.raises(JourneyFileError) as info:
        load_journey_text(bad, "j.yml")
    assert any(str(e).startswith(f"j.yml:{line}:19: manager_support.leader_brief.welcome_step: 'focus-situation' "
                                 "is not a message step") for e in info.value.errors), info.value.errors
    assert load_journey_text(SAMPLE, "j.yml").manager_support.leader_brief.welcome_step == "kickoff"


def test_rule_endorsement_in_welcome(journey: Journey) -> None:
    endorsed = [Action(at(START - timedelta(days=7)), "lee", "endorse", None, "endorse:active-listening:lee")]
    quoted = "Welcome. *From Lee Park:* “Make time for it.”"
    good = transcript(journey, [sent(at(START, 9, 30), "ana", "e1.kickoff:1", journey, text=quoted)], endorsed)
    assert not list(endorsement_in_welcome(good))
    missing = transcript(journey, [sent(at(START, 9, 30), "ana", "e1.kickoff:1", journey, text="Welcome.")], endorsed)
    assert [b.rule for b in endorsement_in_welcome(missing)] == ["endorsement-in-welcome"]
    # a welcome sent before the endorsement stays as it was; sending it again is the breach
    early = [Action(at(START, 12), "lee", "endorse", None, "endorse:active-listening:lee")]
    before = transcript(journey, [sent(at(START, 9, 30), "ana", "e1.kickoff:1", journey, text="Welcome.")], early)
    assert not list(endorsement_in_welcome(before))
    again = transcript(journey, [sent(at(START, 9, 30), "ana", "e1.kickoff:1", journey, text="Welcome."),
                                 sent(at(START, 13), "ana", "e1.kickoff:1", journey, text=quoted)], early)
    assert [b.detail for b in endorsement_in_welcome(again)] == ["the welcome was sent again"]


def test_rule_facilitator_counts_only(journey: Journey) -> None:
    good = sent(at(START - timedelta(days=1)), "lee", "facilitator:active-listening:c:lee:brief", journey,
                role="facilitator", text="Who is coming: 5 people.")
    assert not list(facilitator_counts_only(transcript(journey, [good])))
    named = replace(good, message=replace(good.message, text="Who is coming: Ana Silva and 4 others."))
    quoted = replace(good, message=replace(good.message, text=f"Focus: {TYPED_OPEN}my merger{TYPED_CLOSE}"))
    found = list(facilitator_counts_only(transcript(journey, [named, quoted])))
    assert [b.detail for b in found] == ["names Ana Silva", "quotes text a person typed"]

