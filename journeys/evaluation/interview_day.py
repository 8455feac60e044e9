"""The interviewer's day: one message naming each of the day's Success Case interviews.

Three interviews on one day used to be three "Interview today" messages in the same minute. Now
each booking re-writes the day's one message (the outbox's `topic` replaces the one still waiting):
the times in the interviewer's zone, who, and what to ask each one, from what they said in the
survey (a success case is asked for the story and its evidence; the others for what got in the
way). Pure: the service reads the calendar and the names.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from journeys.text import typed
from journeys.timekeeping import format_day, format_slot

# What to ask, by what the candidate said in the survey (Brinkerhoff: a success case is verified
# with its evidence and valued; a non-success case tells what in the performance system got in the way).
_ASK = {
    "success": "their success story: what they did, what came of it and the evidence, what it is worth",
    "applied_no_result": "what they used, what result may still come, and what got in the way",
    "tried_no_success": "what they tried, what got in the way, and what would have helped",
    "not_applied": "what got in the way, and what would have helped",
}


@dataclass(frozen=True)
class DayInterview:
    slot: datetime  # UTC
    name: str
    self_reported: str | None  # the survey's classification


def topic(interviewer_id: str, day: date) -> str:
    """One message per interviewer and local day: a newer one replaces the one still waiting."""
    return f"interview-day:{interviewer_id}:{day.isoformat()}"


def when_words(slot: datetime, at: datetime, tz: ZoneInfo) -> str:
    """The interview's day as read at `at`: "today", "tomorrow" or "on Mon 1 Feb" (reader's zone)."""
    day, read = slot.astimezone(tz).date(), at.astimezone(tz).date()
    if day == read:
        return "today"
    return "tomorrow" if (day - read).days == 1 else f"on {format_day(day)}"


def day_message(items: list[DayInterview], tz: ZoneInfo, minutes: int, cohort: str,
                at: datetime | None = None, told: frozenset[datetime] = frozenset()) -> tuple[str, str]:
    """(title, text) of the interviewer's message for the day: each interview once, in order;
    `at`: when it is read (default: on the day). `told`: the times a message that already went
    named (`told_in`): those are only recalled by time and name, the others named with what to ask."""
    ordered = sorted(items, key=lambda i: i.slot)
    named = set(told_now(items, told))
    listed = [i for i in ordered if i.slot in named]
    when = when_words(listed[0].slot, at or listed[0].slot, tz)
    several = len(listed) != 1
    if len(listed) < len(ordered):
        title = f"{'One' if not several else len(listed)} more interview{'s' if several else ''} {when}"
        head = f"{title.replace(' interview', ' Success Case interview', 1)} ({minutes} min{' each' if several else ''}"
    else:
        title = f"Interview {when}" if not several else f"{len(listed)} interviews {when}"
        head = f"Your Success Case interview{'s' if several else ''} {when} ({minutes} min{' each' if several else ''}"
    lines = [head + ", your time):"]
    for i in listed:
        ask = _ASK.get(i.self_reported or "", "how the journey went for them")
        lines.append(f"{_named(i, tz)}: ask about {ask}")
    others = [i for i in ordered if i not in listed]
    if others:
        lines.append(f"Also {when}, as told before: " + ", ".join(_named(i, tz)[2:] for i in others) + ".")
    lines.append(f"The guides: `interviews {cohort}`; afterwards `interview` and their name with `notes` "
                 "records what you found.")
    return title, "\n".join(lines)


def _named(i: DayInterview, tz: ZoneInfo) -> str:
    return f"• {i.slot.astimezone(tz):%H:%M} {typed(i.name or 'a participant')}"


def told_now(items: list[DayInterview], told: frozenset[datetime]) -> tuple[datetime, ...]:
    """The times `day_message` names with what to ask: those not `told` before (all, if every
    one was), in order. The outbox row keeps them (`Message.told`), so what went is data."""
    slots = sorted(i.slot for i in items)
    return tuple(s for s in slots if s not in told) or tuple(slots)


def told_in(told: list[tuple[str, ...]], items: list[DayInterview]) -> frozenset[datetime]:
    """The times of `items` that a day message already delivered named with what to ask: each
    delivered message's `Message.told` (ISO times), never its wording."""
    said = {datetime.fromisoformat(at) for times in told for at in times}
    return frozenset(i.slot for i in items if i.slot in said)


@dataclass(frozen=True)
class Answer:
    """A candidate's answer to the interviewer's request: agreed to `slot`, or declined."""

    name: str
    agreed: bool
    slot: datetime | None


def answers_topic(interviewer_id: str, release: datetime) -> str:
    """The answers given while the interviewer was away, all delivered when their day opens."""
    return f"interview-answers:{interviewer_id}:{release.isoformat()}"


def slot_words(slot: datetime, at: datetime, tz: ZoneInfo) -> str:
    """An interview's time as read at `at`: "today at 10:00", "tomorrow at 10:00" or "on Mon 1 Feb
    10:00" (reader's zone)."""
    when = when_words(slot, at, tz)
    return f"{when} at {slot.astimezone(tz):%H:%M}" if when in ("today", "tomorrow") else f"on {format_slot(slot, tz)}"


def answers_message(answers: list[Answer], tz: ZoneInfo, at: datetime, away: bool = True) -> tuple[str, str]:
    """(title, text) telling the interviewer who answered, as read at `at`: one answer in a
    sentence, several (given in the same minute, or while they were `away`) as one list."""
    tail = "Type `interview` and their name to record what it verified."
    if len(answers) == 1:
        a = answers[0]
        if a.agreed and a.slot is not None:
            return "Interview consent", (f"{typed(a.name)} agreed to a Success Case interview "
                                         f"{slot_words(a.slot, at, tz)} (your time). {tail}")
        return "Interview consent", f"{typed(a.name)} declined the Success Case interview."
    lines = [(f"{'While you were away, ' if away else ''}{len(answers)} people answered your Success Case "
              "interview request:")]
    for a in sorted(answers, key=lambda a: (a.slot is None, a.slot or datetime.min, a.name)):
        lines.append(f"• {typed(a.name)}: " + (f"agreed, {slot_words(a.slot, at, tz).removeprefix('on ')} (your time)"
                                                 if a.agreed and a.slot is not None else "declined"))
    if any(a.agreed for a in answers):
        lines.append(tail)
    return "Interview answers", "\n".join(lines)
