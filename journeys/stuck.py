"""Who is stuck: the one definition the digest, admin `status` and the dashboard all use.

An open prompt is stuck once it has waited `stuck_after` working days (the journey's
`manager_digest.stuck_after`) since it was sent, counted in its recipient's calendar.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from journeys.definition import Journey
from journeys.state import Person, PromptState
from journeys.timekeeping import calendar_for, format_day, local_date, next_digest_at, tz_of

STUCK_AFTER_DEFAULT = 3  # a journey without a manager digest
REPEAT_WEEKS = 2  # a silence the manager was told of comes back every other week, not every week


def stuck_after(journey: Journey) -> int:
    """Working days without a response before someone counts as stuck."""
    return journey.manager_digest.stuck_after if journey.manager_digest is not None else STUCK_AFTER_DEFAULT


def waiting_days(journey: Journey, recipient: Person, prompt: PromptState, now: datetime) -> int | None:
    """Working days an open, sent prompt has waited for `recipient`, in their calendar; None when
    it is not waiting (answered, closed, or not sent yet)."""
    if prompt.status != "open" or prompt.sent_at is None:
        return None
    tz = tz_of(journey, recipient)
    return calendar_for(journey, recipient).working_days_between(local_date(prompt.sent_at, tz),
                                                                 local_date(now, tz))


def is_stuck(journey: Journey, recipient: Person, prompt: PromptState, now: datetime) -> bool:
    days = waiting_days(journey, recipient, prompt, now)
    return days is not None and days >= stuck_after(journey)


@dataclass(frozen=True)
class Silence:
    """One stretch of a participant's silence: the prompt it began with, and how many weekly
    digests ago their manager was first told of it (0: this digest is the first)."""

    prompt: PromptState
    weeks: int
    quiet: bool  # nothing answered since `prompt` was sent (else: they answer, but not that one)


def stuck_silence(journey: Journey, person: Person, manager: Person, own: list[PromptState],
                  late: list[PromptState], start: date, before_phase: Callable[[PromptState], bool],
                  now: datetime, theirs: list[PromptState]) -> Silence:
    """The silence a stuck participant is in, so their manager hears of it once, not weekly.

    It began with the first prompt sent after their last answer, when one of those is late (they
    have gone quiet; `own`: all their prompts, the before phase's included); otherwise with their
    oldest late prompt (they answer, but leave that one). The weeks count from the first earlier
    weekly digest that showed it (a prompt of it waiting `stuck_after` working days, as `is_stuck`
    counts, and not a before-phase prompt once the journey had started). A new silence (they
    answered, then went quiet again) or a new item left aside starts again at week 0. `theirs`:
    the manager's own prompts for this report (before the start, a digest needs one waiting)."""
    answered = [p.answered_at for p in own if p.answered_at is not None]
    last = max(answered, default=None)
    after = [p for p in own if p.status in ("open", "expired") and p.sent_at is not None
             and (last is None or p.sent_at > last)]  # asked and never answered (a one-way message is "done")
    quiet = any(p in after for p in late)
    began = min(after if quiet else late, key=lambda p: (p.sent_at or p.due_at, p.id))
    pool = after if quiet else [began]
    cal, tz = calendar_for(journey, person), tz_of(journey, person)
    limit = stuck_after(journey)

    mtz = tz_of(journey, manager)

    def waiting(p: PromptState, at: datetime) -> bool:
        return p.sent_at is not None and p.sent_at <= at and (p.answered_at is None or p.answered_at > at)

    def shown(at: datetime) -> bool:
        started = local_date(at, mtz) >= start  # as the digest judges it: the manager's day
        if not started and not any(waiting(p, at) for p in theirs):
            return False  # before the start a digest goes only with something waiting for the manager
        day = local_date(at, tz)
        return any(waiting(p, at) and not (started and before_phase(p))
                   and cal.working_days_between(local_date(p.sent_at or at, tz), day) >= limit for p in pool)

    slot = next_digest_at(journey, manager, began.sent_at or began.due_at)
    while slot is not None and slot < now - timedelta(hours=1):  # the digests before this one
        if shown(slot):
            this, then = local_date(now, mtz), local_date(slot, mtz)
            weeks = ((this - timedelta(days=this.weekday())) - (then - timedelta(days=then.weekday()))).days // 7
            return Silence(began, max(0, weeks), quiet)
        slot = next_digest_at(journey, manager, slot + timedelta(hours=1))
    return Silence(began, 0, quiet)


def waiting_since(journey: Journey, person: Person, p: PromptState, now: datetime, limit: int) -> str:
    """How long the participant has left it, as the week's figure: "since Tue 27 Apr (8 working
    days)" (in their calendar), so a line that comes back next week says what changed."""
    if p.sent_at is None:
        return f"for {limit}+ working days"
    cal, tz = calendar_for(journey, person), tz_of(journey, person)
    sent = local_date(p.sent_at, tz)
    days = cal.working_days_between(sent, local_date(now, tz))
    return f"since {format_day(sent)} ({days} working day{'s' if days != 1 else ''})"
