"""The interviewer hears who answered their Success Case interview request, once per moment.

An answer given in the interviewer's working hours reaches them at the turn of the minute, in a
sentence: answers given in the same minute wait for that one moment, so the second re-writes the
message still waiting with both (the outbox's `topic` replaces it): "2 people answered …", not two
messages in the same minute. Answers given while they are away all wait for their day opening, in
the same way: "While you were away, 2 people answered …".
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from journeys import reread, timekeeping
from journeys.calendar import WorkCalendar
from journeys.definition import Journey
from journeys.evaluation.interview_day import Answer, answers_message, answers_topic
from journeys.evaluation.interviews import CONSENT, INVITED
from journeys.messages import Message, Outgoing
from store.people import PersonRecord
from store.uow import AbstractUnitOfWork


async def answers_notice(uow: AbstractUnitOfWork, journey: Journey, cohort: str, interviewer: PersonRecord,
                         enrollment_id: str, answer: Answer, now: datetime) -> Outgoing:
    """The notice of `answer` (the one just given, not saved yet) to the interviewer."""
    them = uow.people.state(interviewer)
    cal, tz = timekeeping.calendar_for(journey, them), timekeeping.tz_of(journey, them)
    release = _release(cal, tz, now)
    topic = answers_topic(interviewer.id, release)
    answers = await _given_with(uow, cohort, interviewer.id, enrollment_id, release, now, cal, tz) + [answer]
    title, text = answers_message(answers, tz, release, away=not cal.is_open(now, tz))
    # no expiry for "tomorrow at 10:00": a late word is better than never learning of the booking,
    # and a late delivery says the day as read then (journeys/reread.py)
    form = reread.SLOT if len(answers) == 1 else reread.SLOT_BARE
    message = reread.dated(Message(interviewer.id, text, title=title, journey_title=journey.title, audience="admin"),
                           [(form, a.slot.isoformat()) for a in answers if a.agreed and a.slot is not None],
                           release.astimezone(tz).date(), tz)
    notice = timekeeping.notice(journey, them, f"interview:{enrollment_id}:consent", message, now)
    return replace(notice, topic=topic, not_before_iso=release.isoformat() if release > now else None)


def _release(cal: WorkCalendar, tz: ZoneInfo, at: datetime) -> datetime:
    """When an answer given `at` reaches the interviewer: the turn of the minute in their hours
    (so answers of one minute go together), else the opening of their next working hours."""
    if not cal.is_open(at, tz):
        return cal.next_open(at, tz)
    turn = at.replace(second=0, microsecond=0) + timedelta(minutes=1)
    return turn if cal.is_open(turn, tz) else at  # the last minute of their day: at once, alone


async def _given_with(uow: AbstractUnitOfWork, cohort: str, interviewer_id: str, enrollment_id: str,
                      release: datetime, now: datetime, cal: WorkCalendar,
                      tz: ZoneInfo) -> list[Answer]:
    """The other answers to this interviewer's requests that are delivered at `release` too (given
    in the same minute of their hours, or since their hours last closed)."""
    ids, _ = await uow.enrollments.cohort_journey(cohort)
    events = await uow.events.of_enrollments(ids)
    invited_by: dict[str, str] = {}
    for e in sorted(events, key=lambda e: e.at):
        if e.kind == INVITED:
            invited_by[e.enrollment_id] = str(e.data.get("interviewer"))
    latest: dict[str, tuple[bool, datetime | None]] = {}
    for e in sorted(events, key=lambda e: e.at):
        if (e.kind == CONSENT and e.enrollment_id != enrollment_id and invited_by.get(e.enrollment_id) == interviewer_id
                and "recorded_by" not in e.data and e.at <= now and _release(cal, tz, e.at) == release):
            slot = e.data.get("slot")
            latest[e.enrollment_id] = (e.data.get("agreed") is True,
                                       datetime.fromisoformat(slot) if isinstance(slot, str) else None)
    if not latest:
        return []
    owners = {eid: pid for eid, pid, _ in await uow.enrollments.people_of(list(latest))}
    people = await uow.people.by_ids(list(owners.values()))
    names = {eid: people[pid].name or "" for eid, pid in owners.items() if pid in people}
    return [Answer(names.get(eid, ""), agreed, slot) for eid, (agreed, slot) in latest.items()]
