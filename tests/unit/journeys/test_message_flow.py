"""What people read: one progress definition (prompts, status, digest), role-appropriate help, and
wording that reads as people write. Pure, with `now` passed in."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from journeys import engine, rendering
from journeys.conversation import HELP, MANAGER_HELP, handle_text
from journeys.digest import ReportView, build_digest
from journeys.messages import Reply
from journeys.person_view import PersonView
from journeys.progress import journey_weeks, progress_of, week_label
from journeys.state import EnrollmentState, MtmState, Person
from journeys.text import plain
from journeys.wording import plural, weekday_name

LONDON = ZoneInfo("Europe/London")
START = date(2027, 4, 12)
ANA = Person("ana", "Ana Silva", "Europe/London")
BEN = Person("ben", "Ben Okafor", "Europe/London")


def london(m: int, d: int, hh: int, mm: int = 0) -> datetime:
    return datetime(2027, m, d, hh, mm, tzinfo=LONDON).astimezone(UTC)


def sent_prompts(journey, e, *step_ids):
    prompts = {p.step_id: p for p in engine.schedule_enrollment(journey, e, london(3, 1, 9)).prompts}
    out = {}
    for s in step_ids:
        p = prompts[s]
        res = engine.fire(journey, e, p, None, p.due_at)
        out[s] = (next(q for q in res.prompts if q.id == p.id), res)
    return prompts, out


def test_prompts_say_which_week_not_a_step_number_that_can_run_backwards(journey):
    e = EnrollmentState("e1", journey.id, ANA, BEN, START)
    _, sent = sent_prompts(journey, e, "success-picture", "kickoff", "nudge-pause", "success-case")
    contexts = {s: plain(res.outgoing[0].message.context) for s, (_, res) in sent.items()}
    assert journey_weeks(journey) == 6
    assert contexts == {"success-picture": "Active Listening · before the start",
                        "kickoff": "Active Listening · week 1 of 6",
                        "nudge-pause": "Active Listening · week 2 of 6",
                        "success-case": "Active Listening · week 6 of 6"}
    assert week_label(journey, START, date(2027, 7, 1)) == "after the end"


def test_status_and_digest_count_the_participants_own_steps_the_same_way(journey):
    e = EnrollmentState("e1", journey.id, ANA, BEN, START)
    prompts, sent = sent_prompts(journey, e, "expectations", "why-it-matters", "focus-situation")
    done_focus = sent["focus-situation"][0].with_(status="answered", answers={"answer": "one-to-ones"})
    mine = [*{**prompts, "expectations": sent["expectations"][0], "why-it-matters": sent["why-it-matters"][0],
              "focus-situation": done_focus}.values()]
    progress = progress_of(journey, "ana", mine)
    own = [s for s in journey.steps if s.kind not in ("manager_task", "manager_request", "message")]
    assert (progress.done, progress.total) == (1, len(own))  # her answer; not the message she got, not Ben's task
    now = london(4, 12, 12)
    status = plain(handle_text(PersonView(ANA, {journey.id: journey}, [e], mine), Reply("ana", "k", text="status"),
                               now).replies[0].text)
    assert f"week 1 of 6, 1 of {len(own)} of your steps done" in status
    digest = build_digest(journey, BEN, [ReportView(e, mine, [])], now)
    assert digest is not None
    assert f"*Ana Silva* — week 1 of 6, 1 of {len(own)} of their steps done" in plain(digest.text)
    assert digest.context.endswith("sent every Monday")


def test_a_manager_who_is_in_no_journey_gets_manager_help_without_stop(journey):
    e = EnrollmentState("e1", journey.id, ANA, BEN, START)
    manager_view = PersonView(BEN, {journey.id: journey}, [e], [])
    text = handle_text(manager_view, Reply("ben", "k", text="help"), london(4, 12, 12)).replies[0].text
    assert text == MANAGER_HELP and "stop" not in text and "leave the journey" not in text
    participant = handle_text(PersonView(ANA, {journey.id: journey}, [e], []), Reply("ana", "k", text="help"),
                              london(4, 12, 12)).replies[0].text
    assert participant == HELP and "`stop` — leave the journey" in participant


def test_wording_reads_as_people_write():
    assert [plural(n, "reminder") for n in (0, 1, 2)] == ["0 reminders", "1 reminder", "2 reminders"]
    assert weekday_name("mon") == "Monday" and weekday_name("sun") == "Sunday"


def test_the_coaching_follow_up_says_when_the_moment_was_planned_for(journey):
    e = EnrollmentState("e1", journey.id, ANA, BEN, START)
    mtm = MtmState("e1.mtm-safe", "e1", "mtm-safe", "safe", "1:1", date(2027, 5, 4), "paraphrase", True)
    check = engine.PromptState("e1.support-safe~coach-check", "e1", "support-safe~coach-check", "ben", "scheduled",
                               london(5, 5, 9), london(5, 5, 9), mtm_id=mtm.id)
    text = plain(rendering.render_prompt(journey, e, check, mtm).text)
    assert text.startswith("Ana planned their moment that matters for Tue 4 May.")
