"""Who is stuck: the one definition the digest, admin `status` and the dashboard all use.

An open prompt is stuck once it has waited `stuck_after` working days (the journey's
`manager_digest.stuck_after`) since it was sent, counted in its recipient's calendar.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from journeys.definition import Journey
from journeys.state import Person, PromptState
from journeys.timekeeping import calendar_for, local_date, next_digest_at, tz_of

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
                  late: list[PromptState], now: datetime) -> Silence:
    """The silence a stuck participant is in, so their manager hears of it once, not weekly.

    It began with the first prompt sent after their last answer, when one of those is late (they
    have gone quiet); otherwise with their oldest late prompt (they answer, but leave that one). It
    first counted as stuck at the start of their day `stuck_after` working days later (as
    `is_stuck` counts), so the manager was first told in the first digest from then on, and the
    weeks are counted from that digest's week. A new silence (they answered, then went quiet again)
    or a new item left aside starts again at week 0."""
    answered = [p.answered_at for p in own if p.answered_at is not None]
    last = max(answered, default=None)
    after = [p for p in own if p.status in ("open", "expired") and p.sent_at is not None
             and (last is None or p.sent_at > last)]  # asked and never answered (a one-way message is "done")
    quiet = any(p in after for p in late)
    began = min(after if quiet else late, key=lambda p: (p.sent_at or p.due_at, p.id))
    cal, tz = calendar_for(journey, person), tz_of(journey, person)
    day = cal.add_working_days(local_date(began.sent_at or began.due_at, tz), stuck_after(journey))
    counted = datetime.combine(day, time(0), tz)
    first = next_digest_at(journey, manager, counted - timedelta(seconds=1))
    if first is None:
        return Silence(began, 0, quiet)
    mtz = tz_of(journey, manager)
    this, then = local_date(now, mtz), local_date(first, mtz)
    weeks = ((this - timedelta(days=this.weekday())) - (then - timedelta(days=then.weekday()))).days // 7
    return Silence(began, max(0, weeks), quiet)
