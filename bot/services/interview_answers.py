"""The interviewer hears who answered their Success Case interview request, once per opening.

An answer given in the interviewer's working hours reaches them at once, in a sentence. Answers
given while they are away all wait for the same moment (their day opening), so each new one
re-writes that one waiting message with every answer given since they left (the outbox's `topic`
replaces the one still waiting): "While you were away, 2 people answered …", not two messages in
the same minute.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

from journeys import timekeeping
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
    answers = [answer]
    topic = None
    if not cal.is_open(now, tz):
        release = cal.next_open(now, tz)
        topic = answers_topic(interviewer.id, release)
        answers = await _while_away(uow, cohort, interviewer.id, enrollment_id, release, now, cal, tz) + answers
    read = timekeeping.released_at(journey, them, now)
    title, text = answers_message(answers, tz, read)
    # no expiry for "tomorrow at 10:00": a late word is better than never learning of the booking
    notice = timekeeping.notice(journey, them, f"interview:{enrollment_id}:consent", Message(
        interviewer.id, text, title=title, journey_title=journey.title, audience="admin"), now)
    return replace(notice, topic=topic)


async def _while_away(uow: AbstractUnitOfWork, cohort: str, interviewer_id: str, enrollment_id: str,
                      release: datetime, now: datetime, cal: WorkCalendar,
                      tz: ZoneInfo) -> list[Answer]:
    """The other answers to this interviewer's requests given since their hours last closed (each
    would be delivered at `release` too)."""
    ids, _ = await uow.enrollments.cohort_journey(cohort)
    events = await uow.events.of_enrollments(ids)
    invited_by: dict[str, str] = {}
    for e in sorted(events, key=lambda e: e.at):
        if e.kind == INVITED:
            invited_by[e.enrollment_id] = str(e.data.get("interviewer"))
    latest: dict[str, tuple[bool, datetime | None]] = {}
    for e in sorted(events, key=lambda e: e.at):
        if (e.kind == CONSENT and e.enrollment_id != enrollment_id and invited_by.get(e.enrollment_id) == interviewer_id
                and "recorded_by" not in e.data and e.at <= now and not cal.is_open(e.at, tz)
                and cal.next_open(e.at, tz) == release):
            slot = e.data.get("slot")
            latest[e.enrollment_id] = (e.data.get("agreed") is True,
                                       datetime.fromisoformat(slot) if isinstance(slot, str) else None)
    if not latest:
        return []
    owners = {eid: pid for eid, pid, _ in await uow.enrollments.people_of(list(latest))}
    people = await uow.people.by_ids(list(owners.values()))
    names = {eid: people[pid].name or "" for eid, pid in owners.items() if pid in people}
    return [Answer(names.get(eid, ""), agreed, slot) for eid, (agreed, slot) in latest.items()]
