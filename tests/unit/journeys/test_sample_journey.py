"""The bundled sample journey `active-listening`: it loads, and it keeps the promises the demo makes.

`hplj demo` and the docs lean on this file: a before phase with a manager task, learning spread
over weeks, two MTM cycles (safe, then real) each with manager support and a follow-up, and a
Success Case survey in week 6. These tests pin that structure so an edit to the YAML can't quietly
break it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

import journeys
from journeys.definition import (
    SCM_CLASSES,
    Journey,
    ManagerRequestStep,
    ManagerTaskStep,
    MtmFollowUpStep,
    MtmPlanStep,
    SurveyStep,
    When,
    cross_reference_errors,
)

SAMPLE = Path(journeys.__file__).parent / "library" / "active-listening.yml"
BARRIERS = ("no_opportunity", "no_time", "no_manager_support", "no_incentive", "unclear_how", "tools_process",
            "other")
NON_SUCCESS = ("applied_no_result", "tried_no_success", "not_applied")
MAX_PROMPT = 600
STEP_ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


@pytest.fixture(scope="module")
def raw() -> Any:
    return yaml.safe_load(SAMPLE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def journey(raw: Any) -> Journey:
    return Journey.model_validate(raw)


def _when(text: str | None) -> When:
    assert text is not None
    return When.parse(text)


def _survey(journey: Journey) -> SurveyStep:
    surveys = [s for s in journey.steps if isinstance(s, SurveyStep) and s.evaluation == "success_case"]
    assert len(surveys) == 1, "exactly one success_case survey"
    return surveys[0]


def test_file_starts_with_an_author_guide() -> None:
    text = SAMPLE.read_text(encoding="utf-8")
    header = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        header.append(line)
    assert len(header) >= 10, "the file opens with a comment block for authors"
    assert "when:" in "\n".join(header)


def test_validates_without_cross_reference_errors(journey: Journey) -> None:
    assert journey.id == "active-listening"
    assert cross_reference_errors(journey) == []


def test_program_settings(journey: Journey) -> None:
    ppp = journey.ppp
    assert ppp.business_goal
    assert 2 <= len(ppp.outcomes) <= 3
    assert 3 <= len(ppp.behaviours) <= 4
    assert {"paraphrase", "ask-open"} <= {b.id for b in ppp.behaviours}
    assert len(ppp.moments_that_matter) >= 3
    assert journey.target_impact_rate == 0.8

    cal = journey.calendar
    assert cal.timezone == "Europe/London"
    assert cal.working_days == ["mon", "tue", "wed", "thu", "fri"]
    assert (cal.working_hours.start, cal.working_hours.end) == ("09:00", "17:30")
    assert cal.quiet_hours == ["12:00-13:00"]
    assert (cal.holidays.country, cal.holidays.subdivision) == ("GB", "ENG")

    assert [(e.id, e.title, e.default) for e in journey.events] == [
        ("workshop", "Active listening workshop", "start+5 09:30")
    ]
    digest = journey.manager_digest
    assert digest is not None
    assert (digest.day, digest.at, digest.stuck_after) == ("mon", "09:00", 3)


def test_step_ids_and_titles(journey: Journey) -> None:
    for s in journey.steps:
        assert STEP_ID.match(s.id), s.id
        assert s.title and len(s.title) <= 40, s.id


def test_every_when_parses_and_points_where_intended(journey: Journey) -> None:
    for s in journey.steps:
        if s.when is not None:
            When.parse(s.when)
    # The day-before-the-workshop nudge must be read as workshop minus one day, not as an
    # event called "workshop-1".
    prep = [s for s in journey.steps if s.when and _when(s.when).anchor == "event" and _when(s.when).days < 0]
    assert prep, "a reminder before the workshop"
    for s in prep:
        assert _when(s.when).event == "workshop"


def test_before_phase(journey: Journey) -> None:
    before = [s for s in journey.steps if s.when and _when(s.when).anchor == "start" and _when(s.when).days < 0]
    tasks = [s for s in before if isinstance(s, ManagerTaskStep)]
    assert tasks, "the manager gets an expectations conversation before the start"
    task = journey.step("expectations")
    assert isinstance(task, ManagerTaskStep) and task in before
    assert task.reminders is not None
    assert task.guide.count("?") >= 3, "the guide offers concrete questions"
    participant = [s for s in before if s.kind in ("message", "question")]
    assert {s.kind for s in participant} == {"message", "question"}
    assert len(participant) >= 3
    # The participant prepares first (focus, consent, picture of success); the manager's card
    # comes after, so it can carry what they chose to share.
    prep = [journey.step(sid) for sid in ("focus-situation", "share-line-of-sight", "success-picture")]
    order = [(_when(s.when).days, _when(s.when).at) for s in (*prep, task)]
    assert order == sorted(order) and len(set(order)) == len(order)


def test_learning_is_spread_over_weeks_one_to_five(journey: Journey) -> None:
    nudges = [
        s
        for s in journey.steps
        if s.kind == "message"
        and s.when
        and (_when(s.when).anchor == "event" or 1 <= _when(s.when).days <= 24)
    ]
    assert len(nudges) >= 4
    start_days = {_when(s.when).days // 5 for s in nudges if _when(s.when).anchor == "start"}
    assert len(start_days) >= 3, "nudges land in several different weeks"
    assert all(s.stale_after is not None for s in nudges), "timely nudges expire"


def test_two_mtm_cycles_safe_then_real(journey: Journey) -> None:
    plans = [s for s in journey.steps if isinstance(s, MtmPlanStep)]
    assert [(p.id, p.practice) for p in plans] == [("mtm-safe", "safe"), ("mtm-real", "real")]
    safe, real = plans
    assert 0 < _when(safe.when).days < _when(real.when).days
    for plan, suffix in ((safe, "safe"), (real, "real")):
        assert plan.reminders is not None and plan.escalate_to == "manager"
        requests = [s for s in journey.steps if isinstance(s, ManagerRequestStep) and s.for_mtm == plan.id]
        follow_ups = [s for s in journey.steps if isinstance(s, MtmFollowUpStep) and s.for_mtm == plan.id]
        assert [r.id for r in requests] == [f"support-{suffix}"]
        assert [f.id for f in follow_ups] == [f"reflect-{suffix}"]
        assert requests[0].when is None and requests[0].reminders is not None
        assert requests[0].coach_guide
        w = _when(follow_ups[0].when)
        assert (w.anchor, w.days) == ("mtm", 1)


def test_success_case_survey(journey: Journey) -> None:
    survey = _survey(journey)
    assert survey.id == "success-case"
    w = _when(survey.when)
    assert w.anchor == "start" and 25 <= w.days <= 29, "week 6"
    assert survey.reminders is not None and survey.escalate_to == "manager"
    assert survey.stale_after is None, "a survey never goes stale"

    q = {x.id: x for x in survey.questions}
    applied = q["applied"]
    assert applied.role == "scm_classification" and applied.answer == "choice"
    assert tuple(o.value for o in applied.options) == SCM_CLASSES

    for qid, role in (("what-did-you-do", "scm_evidence"), ("result", "scm_result"), ("contact", "scm_contact")):
        assert q[qid].role == role
        show_if = q[qid].show_if
        assert show_if is not None
        assert (show_if.question, show_if.is_in) == ("applied", ["success"])
    assert {o.value for o in q["contact"].options} == {"yes", "no"}

    barriers = q["barriers"]
    assert barriers.role == "scm_barriers" and barriers.answer == "multi_choice"
    assert tuple(o.value for o in barriers.options) == BARRIERS
    other = q["barrier-other"]
    assert other.role == "scm_barrier_other" and other.required is False
    for x in (barriers, other):
        assert x.show_if is not None
        assert x.show_if.question == "applied" and sorted(x.show_if.is_in) == sorted(NON_SUCCESS)

    closing = survey.questions[-1]
    assert closing.answer == "rating" and closing.scale == 10 and closing.required is False


def test_follow_up_survey_comes_when_business_results_can_show(journey: Journey) -> None:
    """Issue 14: about 60-90 days after the start (>= 40 working days), last in the journey."""
    (follow,) = [s for s in journey.steps if isinstance(s, SurveyStep) and s.evaluation == "follow_up"]
    assert follow is journey.steps[-1]
    assert 40 <= _when(follow.when).days <= 64
    assert any(q.role == "scm_classification" for q in follow.questions)


def test_journey_ends_with_the_survey_and_a_closing_that_fits_what_happened(journey: Journey) -> None:
    # The closing message is the `ending:` block's (practised / not practised / survey still open),
    # sent the working day after the survey (the follow-up survey comes later, on its own), not a
    # step thanking everyone for habits alike.
    assert journey.steps[-2] is _survey(journey)
    closing = journey.ending.closing
    assert "{survey_closes}" in closing.survey_open
    assert "habits you've built" not in closing.not_practised
    assert journey.ending.survey_open_days == 10


def test_prompt_texts_are_short(journey: Journey) -> None:
    texts: list[tuple[str, str]] = []
    for s in journey.steps:
        texts.append((s.id, s.text))
        if isinstance(s, ManagerTaskStep):
            texts.append((f"{s.id}.guide", s.guide))
        if isinstance(s, ManagerRequestStep):
            texts.append((f"{s.id}.coach_guide", s.coach_guide))
        if isinstance(s, SurveyStep):
            texts.extend((f"{s.id}.{x.id}", x.text) for x in s.questions)
    too_long = [(where, len(t)) for where, t in texts if len(t) > MAX_PROMPT]
    assert too_long == []


def test_links_are_https(journey: Journey) -> None:
    for s in journey.steps:
        for link in s.links:
            assert link.url.startswith("https://"), (s.id, link.url)
