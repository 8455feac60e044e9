"""The senior leader's final digest: after the follow-up survey and the interviews, what the journey
was worth and what to change.

The weekly digests stop when everyone below the leader has completed; the results that matter to
a sponsor come weeks later: the follow-up survey (when business results can show), the Success
Case interviews (verified stories and the value of each), and the recommendations drawn from
them. So the leader's row stays, looks again each working morning, and the final digest goes once
nothing is left to wait for:

* every enrollment below the leader has completed, and no follow-up survey is still scheduled or
  open for any of them (one unanswered for `ending.survey_open_days` working days no longer counts);
* every interview invited in their cohorts is settled (recorded, declined, swapped out, or the
  invitation lapsed unanswered): then at once if the L&D lead has already edited "What to change",
  else `REVIEW_DAYS` working days later, so the lead has the time to make it theirs before it
  reaches the sponsor (the draft goes if they leave it);
* or, when interviews were never started or are still pending, `INTERVIEW_WAIT_DAYS` working days
  after the last of those closed: the digest then says how many interviews are still missing.

Pure: `now` and what the scheduler loaded (scheduler/results.py) in, a decision out.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from journeys import timekeeping
from journeys.calendar import WorkCalendar
from journeys.definition import Journey
from journeys.evaluation.followup import FollowUp, follow_up_lines
from journeys.evaluation.interviews import CONSENT, HOLD, INVITED, RECORDED, SWAPPED_OUT, Verified
from journeys.evaluation.plain_words import headline
from journeys.evaluation.success_case import Evaluation
from journeys.evaluation.value import PERIOD_WORDS, BusinessValue, money, ppp_lines
from journeys.messages import Message
from journeys.state import JourneyEvent, Person

INTERVIEW_WAIT_DAYS = 15  # working days the final digest waits for interviews after the follow-up closed
REVIEW_DAYS = 2  # working days the L&D lead has to edit "What to change" once the interviews are settled
TEXT_BUDGET = 2800  # characters: one Slack section holds 3000, with the title


@dataclass(frozen=True)
class Progress:
    """How far the evaluation of the leader's cohorts has come."""

    completed: bool  # every enrollment below the leader has completed
    follow_up_open: int  # follow-up survey prompts still scheduled or open
    settled_at: datetime | None  # when the last completion or follow-up answer/expiry happened
    invited: int  # interviews invited in the cohorts
    pending: int  # of those, still waiting: no answer within the hold, or agreed and not recorded
    reviewed: bool = True  # the L&D lead has edited the cohort's "What to change"
    interviews_done_at: datetime | None = None  # when the last invited interview was settled


def interview_progress(events: Iterable[JourneyEvent], now: datetime) -> tuple[int, int]:
    """(interviews invited, still pending) from the interview events of the cohorts."""
    state: dict[str, tuple[str, datetime]] = {}
    for e in sorted(events, key=lambda ev: ev.at):
        if e.kind == INVITED:
            state[e.enrollment_id] = ("invited", e.at)
        elif e.enrollment_id not in state:
            continue
        elif e.kind == CONSENT:
            state[e.enrollment_id] = ("agreed" if e.data.get("agreed") is True else "done", e.at)
        elif e.kind in (RECORDED, SWAPPED_OUT):
            state[e.enrollment_id] = ("done", e.at)
    pending = sum(1 for status, at in state.values()
                  if status == "agreed" or (status == "invited" and now < at + HOLD))
    return len(state), pending


def interviews_settled_at(events: Iterable[JourneyEvent]) -> datetime | None:
    """When the last invited interview was settled: answered, recorded or swapped out, or its
    invitation lapsed unanswered at the end of its hold."""
    ends: dict[str, datetime] = {}
    for e in sorted(events, key=lambda ev: ev.at):
        if e.kind == INVITED:
            ends[e.enrollment_id] = e.at + HOLD
        elif e.enrollment_id in ends and e.kind in (CONSENT, RECORDED, SWAPPED_OUT):
            ends[e.enrollment_id] = e.at
    return max(ends.values(), default=None)


def settled_at(events: Iterable[JourneyEvent], follow_up_steps: Sequence[str]) -> datetime | None:
    """The latest completion, or answer or expiry of a follow-up survey."""
    times = [e.at for e in events if e.kind == "completed"
             or (e.kind in ("answered", "expired") and str(e.data.get("step")) in follow_up_steps)]
    return max(times) if times else None


def follow_up_waiting(prompts: Iterable[tuple[str, datetime | None]], now: datetime, calendar: WorkCalendar,
                      tz: ZoneInfo, open_days: int) -> tuple[int, datetime | None]:
    """(follow-up surveys still to wait for, when the last unanswered one's window closed) from
    (status, sent at) of the follow-up prompts: one scheduled, or sent less than `open_days` working
    days ago (the journey's `ending.survey_open_days`, counted in `calendar`: the leader's) and not
    answered, is still waited for; an unanswered one past that window no longer is (it stays open
    for a late answer)."""
    waiting = 0
    lapsed: list[datetime] = []
    for status, sent in prompts:
        if status == "scheduled" or (status == "open" and sent is None):
            waiting += 1
        elif status == "open" and sent is not None:
            day = calendar.add_working_days(timekeeping.local_date(sent, tz), open_days)
            closes = calendar.local_slot(day, calendar.day_start, tz)
            if now < closes:
                waiting += 1
            else:
                lapsed.append(closes)
    return waiting, max(lapsed) if lapsed else None


def final_digest_due(p: Progress, now: datetime, calendar: WorkCalendar, tz: ZoneInfo) -> datetime | None:
    """None: the final digest goes now; else when to look again (the next working morning, or the
    end of the wait for interviews, whichever comes first)."""
    morning = calendar.next_working_morning(now, tz)
    if not p.completed or p.follow_up_open or p.settled_at is None:
        return morning
    if p.invited and not p.pending:
        if p.reviewed:
            return None
        last = max(p.settled_at, p.interviews_done_at or p.settled_at)
        day = calendar.add_working_days(timekeeping.local_date(last, tz), REVIEW_DAYS)
        deadline = calendar.local_slot(day, calendar.day_start, tz)
        return None if now >= deadline else min(morning, deadline)
    day = calendar.add_working_days(timekeeping.local_date(p.settled_at, tz), INTERVIEW_WAIT_DAYS)
    deadline = calendar.local_slot(day, calendar.day_start, tz)
    return None if now >= deadline else min(morning, deadline)


def final_digest(journey: Journey, leader: Person, *, ev: Evaluation, verified: Verified, value: BusinessValue,
                 later: FollowUp, stories: Sequence[str], recommendations: Sequence[str], progress: Progress,
                 cohorts: Sequence[str]) -> Message:
    """The message. `recommendations`: the "What to change" lines (the L&D lead's edited version
    when there is one), cited with their counts; `stories`: the verified stories, quoted without names."""
    n = ev.min_group
    head = [(f"The results of {journey.title} are in: the journey, its follow-up survey and the Success Case "
             f"interviews ({'cohort' if len(cohorts) == 1 else 'cohorts'} {', '.join(cohorts)}).")]
    # the report's opening without its list of outcomes (the leader had them in the kickoff brief):
    # the business goal, then plain words first, then the figures with their intervals
    opening = [line for line in ppp_lines(journey, ev, verified, value) if not line.startswith("Outcomes:")]
    goal = 1 if opening and opening[0].startswith("Business goal:") else 0
    head += [*opening[:goal], *headline(ev, None, later), *opening[goal:]]
    if progress.pending or not progress.invited:
        head.append("Interviews: none were recorded in time for this digest, so the value is not verified."
                    if not progress.invited else
                    f"Interviews: {progress.pending} still not recorded; the value counts only those that were.")
    if recommendations:
        head += ["What to change:", *(f"• {r}" for r in recommendations)]
    # the rates only: the opening already says in plain words what changed for the same people
    tail = follow_up_lines(later, n)[:1]
    told = list(stories)
    while True:  # the whole digest fits one Slack section: the last stories give way, with a pointer
        more = len(stories) - len(told)
        quoted = (["What people did, verified in interviews (quoted without names, with their consent):",
                   *(f"• {x}" for x in told)] if told else [])
        if more:
            quoted.append(f"{more} more verified {'story' if more == 1 else 'stories'} in the cohort's report.")
        lines = [*head, *quoted, *tail]
        if not told or len("\n".join(lines)) <= TEXT_BUDGET:
            break
        told.pop()
    facts = [("People", str(ev.participants)), ("Interviewed", str(verified.interviewed))]
    if value.total is not None and value.currency:
        facts.append(("Estimated value", f"{money(value.total, value.currency)} {PERIOD_WORDS[value.period]}"))
    if value.return_ratio is not None:
        facts.append(("Return over a year", f"{value.return_ratio:.1f} : 1"))
    return Message(recipient_id=leader.id, title=f"The results of {journey.title}", text="\n".join(lines),
                   journey_title=journey.title, facts=tuple(facts), audience="manager",
                   context=f"{journey.title} · the final digest, after the follow-up survey and the interviews · "
                           "figures under the minimum group are never shown")
