"""Issue 21 item 8: the facilitator's brief before the workshop and the cohort's progress after it.

The fixture cohort is built so that anything done wrong would leak: participants have unusual
names, their pictures of success and their own moments carry words found nowhere in the journey,
and their answers sit both on the enrollment's notes and on the prompts. Only counts and the
journey's own words may reach the facilitator; a group below the minimum group is described by
its size only.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from journeys import facilitator
from journeys.definition import Journey
from journeys.evaluation.success_case import MIN_GROUP
from journeys.facilitator import BRIEF, DONE, PROGRESS, CohortView, decide, first_due, workshop_day
from journeys.state import EnrollmentState, MtmState, Person, PromptState
from journeys.text import TYPED_OPEN, plain

START = date(2027, 4, 12)  # a Monday; the sample journey's workshop defaults to start+5: Mon 19 Apr
TOKYO = ZoneInfo("Asia/Tokyo")
FAY = Person("fay", "Fay Okonkwo-Brandt", "Asia/Tokyo")
MANAGER = Person("m", "Quill Manager", "Europe/London")
NAMES = ["Zebedee Quarrington", "Ottoline Vexley", "Peregrine Snodgrass", "Isolde Thackeray",
         "Barnaby Wulfstan", "Clementine Ashdown"]
# what each one typed: words the journey never uses, so any of them in the brief is a leak
PICTURES = ["No customer complaint of mine gets escalated to Zanzibar headquarters",
            "The Snodgrass account stops escalating and feels heard",
            "My quarterly 1:1s with Marguerite surface concerns early",
            "I paraphrase before I respond, even with Horatio",
            "Fewer escalations from the Vexley contract",
            "Something about my private divorce paperwork"]
FOCUS = ["upset-customers", "upset-customers", "one-to-ones", "upset-customers", "real-problem", "handovers"]
OWN = "Something else: the confidential Pemberton merger call"


def cohort(n: int = 6, *, pictures: int = 6, moments: int = 6) -> CohortView:
    people = [Person(f"p{i}", NAMES[i], "Europe/London") for i in range(n)]
    enrollments = [EnrollmentState(f"e{i}", "active-listening", p, MANAGER, START, cohort="spring-leads",
                                   notes={"shared": {"focus-situation": FOCUS[i],
                                                     **({"success-picture": PICTURES[i]} if i < pictures else {})}})
                   for i, p in enumerate(people)]
    listed = "A customer calls back, frustrated that an issue is still not resolved"
    mtms = [MtmState(f"e{i}.mtm-safe", f"e{i}", "mtm-safe", "safe" if i % 2 else "real",
                     listed if i < 3 else OWN, date(2027, 4, 15), "paraphrase" if i < 4 else "ask-open",
                     share_plan=True) for i in range(min(n, moments))]
    prompts = [PromptState(f"e{i}.success-picture", f"e{i}", "success-picture", f"p{i}", "answered",
                           datetime(2027, 4, 7, 9, tzinfo=UTC), None, answers={"answer": PICTURES[i]})
               for i in range(min(n, pictures))]
    return CohortView("spring-leads", enrollments, mtms, prompts)


def brief_at(journey: Journey, view: CohortView, min_group: int = MIN_GROUP) -> str:
    day = workshop_day(journey, view.enrollments)
    assert day is not None
    msg = facilitator.build_brief(journey, FAY, view, day, min_group=min_group)
    return msg.title + "\n" + msg.text + "\n" + msg.context


def shown_as(text: str) -> str:
    """As read: typed markers and *bold* stars dropped."""
    return plain(text).replace("*", "")


def leaks(text: str) -> list[str]:
    found = [n for n in NAMES if n in text or n.split()[0] in text or n.split()[1] in text]
    found += [w for w in ("Zanzibar", "Snodgrass", "Marguerite", "Horatio", "Vexley", "divorce", "Pemberton",
                          "merger", "confidential") if w in text]
    return found + ([TYPED_OPEN] if TYPED_OPEN in text else [])


def test_the_brief_counts_focus_pictures_and_moments_in_the_journeys_words_and_names_nobody(journey: Journey) -> None:
    text = brief_at(journey, cohort())
    assert leaks(text) == []
    shown = shown_as(text)
    assert "Who is coming: 6 people" in shown
    assert "Their focus (6 answered):" in shown
    assert "• Upset or escalating customers: 3" in shown
    assert "• Getting to the real problem faster: 1" in shown
    # themes: shared stems with the PPP's outcomes and behaviours, never the words themselves
    assert "• Fewer customer complaints escalated beyond the first contact: 3" in shown
    assert "• Paraphrase what you heard before you respond: 2" in shown  # "paraphrase", "feels heard"
    assert "• Team members raise concerns early in 1:1s, not when they have become crises: 1" in shown
    assert "• not about a listed outcome or habit: 1" in shown  # the divorce paperwork, unnamed
    assert "Moments they have planned (6 so far):" in shown
    assert "• A customer calls back, frustrated that an issue is still not resolved: 3" in shown
    assert "• a situation of their own: 3" in shown
    assert "• Paraphrase what you heard before you respond: 4" in shown
    assert "Your brief for the Active listening workshop on Mon 19 Apr" in shown


def test_below_the_minimum_group_only_the_size_is_given(journey: Journey) -> None:
    text = shown_as(brief_at(journey, cohort(4)))
    assert "Who is coming: 4 people" in text
    assert f"With fewer than {MIN_GROUP} people" in text
    for hidden in ("Their focus", "Upset or escalating", "Moments they have planned", "Fewer customer"):
        assert hidden not in text
    # a section answered by fewer than the minimum group is held back on its own
    partial = shown_as(brief_at(journey, cohort(6, pictures=3, moments=2)))
    assert "Their picture of success: too few answers yet to describe" in partial
    assert "Moments they have planned: too few answers yet to describe" in partial
    assert "• Upset or escalating customers: 3" in partial
    assert leaks(partial) == []
    # the minimum group is the caller's (HPLJ_MIN_GROUP): 3 lets a group of 4 through
    assert "Their focus (4 answered):" in shown_as(brief_at(journey, cohort(4), min_group=3))


def test_progress_after_the_workshop_is_counts_only(journey: Journey) -> None:
    view = cohort()
    done = [MtmState(m.id, m.enrollment_id, m.plan_step_id, m.practice, m.situation, m.when, m.behaviour, True,
                     status="happened", manager_response="approved") if i < 2 else m for i, m in enumerate(view.mtms)]
    takeaway = [PromptState(f"e{i}.workshop-takeaway", f"e{i}", "workshop-takeaway", f"p{i}", "answered",
                            datetime(2027, 4, 20, 10, tzinfo=UTC), None, answers={"answer": "Horatio again"})
                for i in range(5)]
    view = CohortView(view.name, view.enrollments, done, [*view.prompts, *takeaway])
    msg = facilitator.build_progress(journey, FAY, view, date(2027, 4, 19), min_group=MIN_GROUP)
    text = shown_as(msg.title + "\n" + msg.text)
    assert leaks(msg.text + msg.title) == []
    assert "• One idea from the workshop: 5 of 6 answered" in text
    assert "• Planned a moment that matters: 6 of 6 (6 moments)" in text
    assert "• Moments that happened: 2" in text
    assert "• Moments their manager backed (approved or coached): 2" in text
    small = facilitator.build_progress(journey, FAY, cohort(3), date(2027, 4, 19), min_group=MIN_GROUP)
    assert "not broken down" in small.text and "Planned a moment" not in small.text


def test_the_brief_goes_the_working_day_before_the_workshop_in_the_facilitators_hours(journey: Journey) -> None:
    view = cohort()
    assert workshop_day(journey, view.enrollments) == date(2027, 4, 19)
    before = datetime(2027, 4, 1, 9, tzinfo=UTC)
    # Fri 16 Apr, 09:00 in Tokyo (the journey's working hours, the facilitator's zone)
    assert first_due(journey, FAY, date(2027, 4, 19), before) == (BRIEF, datetime(2027, 4, 16, 9, tzinfo=TOKYO))
    # named late (the brief's time has passed, the workshop is still ahead): at once
    late = datetime(2027, 4, 17, 3, tzinfo=UTC)
    assert first_due(journey, FAY, date(2027, 4, 19), late) == (BRIEF, late)
    # named after the workshop: only the progress, five working days after it
    after = datetime(2027, 4, 20, 3, tzinfo=UTC)
    assert first_due(journey, FAY, date(2027, 4, 19), after) == (PROGRESS, datetime(2027, 4, 26, 9, tzinfo=TOKYO))
    # an event date given at enrollment moves it
    moved = [e.__class__(**{**e.__dict__, "events": {"workshop": date(2027, 4, 22)}}) for e in view.enrollments]
    assert workshop_day(journey, moved) == date(2027, 4, 22)


def test_decide_waits_for_working_hours_sends_once_and_drops_a_brief_that_lost_its_point(journey: Journey) -> None:
    view = cohort()
    night = datetime(2027, 4, 16, 3, tzinfo=TOKYO).astimezone(UTC)
    waiting = decide(journey, FAY, BRIEF, view, night, min_group=MIN_GROUP)
    assert waiting.outgoing is None and waiting.stage == BRIEF
    assert waiting.next_at is not None and waiting.next_at.astimezone(TOKYO).hour == 9
    sent = decide(journey, FAY, BRIEF, view, datetime(2027, 4, 16, 9, tzinfo=TOKYO), min_group=MIN_GROUP)
    assert sent.outgoing is not None and sent.stage == PROGRESS
    assert sent.outgoing.delivery_key == "facilitator:active-listening:spring-leads:fay:brief"
    assert sent.next_at == datetime(2027, 4, 26, 9, tzinfo=TOKYO)
    # the workshop is over and the brief never went (the bot was down): no brief, the progress later
    late = decide(journey, FAY, BRIEF, view, datetime(2027, 4, 20, 10, tzinfo=TOKYO), min_group=MIN_GROUP)
    assert late.outgoing is None and late.stage == PROGRESS
    last = decide(journey, FAY, PROGRESS, view, datetime(2027, 4, 26, 9, tzinfo=TOKYO), min_group=MIN_GROUP)
    assert last.outgoing is not None and (last.stage, last.next_at) == (DONE, None)
    gone = CohortView(view.name, [e.__class__(**{**e.__dict__, "status": "unenrolled"}) for e in view.enrollments])
    assert decide(journey, FAY, BRIEF, gone, datetime(2027, 4, 16, 9, tzinfo=TOKYO), min_group=MIN_GROUP
                  ) == facilitator.FacilitatorDecision(DONE, None)
