"""The before phase on purpose: late enrollments compressed and spaced, tasks that close at the start.

Steps timed before the start (`start-N`) prepare the journey: the participant's focus, consent and
picture of success, then the manager's expectations card. Two things keep them honest:

* An enrollment closer to the start than the before phase needs would get every past-due step in
  the same minute. `compress` spaces them instead, in their order, `GAP` apart in the
  participant's working time (the manager's card after the participant's preparation), and
  `compressed_titles` lets `enroll` warn the L&D lead about it. A before-phase message that
  would only arrive on the start day or later is left out: the welcome says it better.
* A before-phase prompt has lost its point once the journey has started: it closes at the start
  (`closes_at`), or one working day after it was sent (or due) when a late enrollment sent it
  later than that, so nobody is reminded of "before the start" in week 7.
"""

from __future__ import annotations

import functools
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from journeys import rendering, timekeeping
from journeys.calendar import WorkCalendar
from journeys.definition import Journey, Step, When
from journeys.state import EnrollmentState, Person, PromptState

GAP = timedelta(hours=1)  # between two compressed steps, in the participant's working time


def is_before_phase(step: Step) -> bool:
    if step.when is None:
        return False
    w = _parsed(step.when)
    return w.anchor == "start" and w.days < 0


_parsed = functools.lru_cache(maxsize=1024)(When.parse)  # asked for every due prompt


def _before_steps(journey: Journey) -> dict[str, Step]:
    return {s.id: s for s in journey.steps if is_before_phase(s)}


def compress(journey: Journey, enrollment: EnrollmentState, prompts: list[PromptState],
             now: datetime) -> list[PromptState]:
    """Past-due before-phase prompts re-timed one after another from `now`; the rest unchanged."""
    before = _before_steps(journey)
    late = sorted((p for p in prompts if p.step_id in before and p.due_at < now), key=lambda p: (p.due_at, p.id))
    if not late:
        return prompts
    person = enrollment.person
    cal, tz = timekeeping.calendar_for(journey, person), timekeeping.tz_of(journey, person)
    at = now if cal.is_open(now, tz) else cal.next_open(now, tz)
    start = cal.local_slot(enrollment.start, cal.day_start, tz)
    moved: dict[str, PromptState] = {}
    dropped: set[str] = set()
    for p in late:
        if at >= start and before[p.step_id].kind == "message":
            dropped.add(p.id)  # "starts soon" on the start day: the welcome says it better
            continue
        recipient = enrollment.manager if enrollment.manager and p.recipient_id == enrollment.manager.id else person
        rcal, rtz = timekeeping.calendar_for(journey, recipient), timekeeping.tz_of(journey, recipient)
        slot = at if rcal.is_open(at, rtz) else rcal.next_open(at, rtz)
        moved[p.id] = p.with_(due_at=slot, next_at=slot)
        nxt = at + GAP
        at = nxt if cal.is_open(nxt, tz) else cal.next_open(nxt, tz)
    return [moved.get(p.id, p) for p in prompts if p.id not in dropped]


def after_preparation(journey: Journey, enrollment: EnrollmentState, prompts: list[PromptState]) -> list[PromptState]:
    """The manager's expectations card after the participant's preparation, whatever their zones.

    Both are timed in their recipient's own day, so a participant in a later zone than their
    manager (New York under London) would get their picture-of-success question after the card
    that should show it. Such a card moves to the manager's first open moment `GAP` after the
    participant's last preparation step (later that day, or their next working morning);
    `one_card_time` then keeps a manager's cards of one enrollment together."""
    cfg = journey.manager_support.expectations
    manager = enrollment.manager
    if cfg is None or manager is None:
        return prompts
    card = next((p for p in prompts if p.step_id == cfg.step), None)
    prep = [p.due_at for p in prompts if p.step_id in (cfg.consent_step, *cfg.shares)]
    if card is None or not prep or max(prep) < card.due_at:
        return prompts
    cal, tz = timekeeping.calendar_for(journey, manager), timekeeping.tz_of(journey, manager)
    later = max(prep) + GAP
    slot = later if cal.is_open(later, tz) else cal.next_open(later, tz)
    moved = card.with_(due_at=slot, next_at=slot)
    return [moved if p.id == card.id else p for p in prompts]


def one_card_time(journey: Journey, prompts: list[PromptState]) -> list[PromptState]:
    """The expectations cards of reports enrolled together go to their manager at one time, the
    latest of theirs, so they stay one card naming each (journeys/manager_card.py) when one of them
    had to wait for a report's preparation in a later zone."""
    cfg = journey.manager_support.expectations
    if cfg is None:
        return prompts
    latest: dict[str, datetime] = {}
    for p in prompts:
        if p.step_id == cfg.step and p.status == "scheduled":
            latest[p.recipient_id] = max(latest.get(p.recipient_id, p.due_at), p.due_at)
    return [p.with_(due_at=latest[p.recipient_id], next_at=latest[p.recipient_id])
            if p.step_id == cfg.step and p.status == "scheduled" and p.due_at != latest[p.recipient_id] else p
            for p in prompts]


def join_pending_card(journey: Journey, prompts: list[PromptState], pending: list[PromptState],
                      now: datetime) -> list[PromptState]:
    """`one_card_time` for reports enrolled later under the same manager: the new reports' cards
    join the manager's expectations card still waiting (`pending`, of the same cohort), so the
    manager still gets one card. Returns `prompts` aligned, plus each pending prompt whose time
    moved (to a later report's time, when that one must wait for its preparation)."""
    cfg = journey.manager_support.expectations
    if cfg is None:
        return one_card_time(journey, prompts)
    ahead = {p.id: p for p in pending if p.step_id == cfg.step and p.status == "scheduled"
             and p.next_at is not None and p.next_at > now}
    new = {p.recipient_id for p in prompts if p.step_id == cfg.step and p.status == "scheduled"}
    joined = [p for p in ahead.values() if p.recipient_id in new]
    aligned = one_card_time(journey, [*prompts, *joined])
    return [p for p in aligned if p.id not in ahead or p.due_at != ahead[p.id].due_at]


def compressed_titles(journey: Journey, enrollment: EnrollmentState, now: datetime) -> list[str]:
    """The before-phase steps whose time has already passed at enrollment (in journey order)."""
    out: list[str] = []
    for step in _before_steps(journey).values():
        recipient = rendering.recipient_of(step, enrollment)
        due = timekeeping.due_time(journey, enrollment, step, recipient) if recipient is not None else None
        if due is not None and due < now:
            out.append(step.title or step.id)
    return out


def closes_at(journey: Journey, enrollment: EnrollmentState, step: Step, recipient: Person,
              prompt: PromptState) -> datetime | None:
    """When a before-phase prompt closes (None: not a before-phase prompt)."""
    if not is_before_phase(step):
        return None
    return close_in(step, enrollment.start, timekeeping.calendar_for(journey, recipient),
                    timekeeping.tz_of(journey, recipient), prompt.sent_at or prompt.due_at)


def close_in(step: Step, start: date, cal: WorkCalendar, tz: ZoneInfo, sent: datetime) -> datetime | None:
    """`closes_at` of a prompt sent (or due) at `sent`, for a caller that already has the
    recipient's calendar and zone (the engine, for every due prompt)."""
    if not is_before_phase(step):
        return None
    return max(_start_of_day(cal, start, tz), timekeeping.after_working_days_in(cal, tz, sent, 1))


@functools.lru_cache(maxsize=4096)
def _start_of_day(cal: WorkCalendar, day: date, tz: ZoneInfo) -> datetime:
    """The opening of a working day (pure, memoised: a tick asks it for every prompt of a cohort)."""
    return cal.local_slot(day, cal.day_start, tz)


def started_note(enrollment: EnrollmentState, reader: Person) -> str:
    day = timekeeping.format_day(enrollment.start)
    whose = "your" if reader.id == enrollment.person.id else f"{timekeeping.first_name(enrollment.person)}'s"
    return f"⌛ Closed: {whose} journey started on {day}."


def capped(at: datetime | None, close: datetime | None) -> datetime | None:
    """A next time that never passes the close."""
    if close is None:
        return at
    return close if at is None or at > close else at


def compression_warning(titles: list[str], journey: Journey) -> str:
    """What `enroll` tells the L&D lead when the start is too close for the before phase."""
    if not titles:
        return ""
    needed = max((-When.parse(s.when).days for s in _before_steps(journey).values() if s.when), default=0)
    return (f"⚠️ The start is closer than the before phase needs ({needed} working days). Compressed: "
            f"{', '.join(titles)}: they go out one after another from now, at least an hour apart in "
            "working time, in the same order (the manager's card after the participant's preparation), "
            "and close one working day after they arrive if that is after the start.")
