"""When the digests and the leader's brief go out, and what they say: the scheduler's decisions.

Like `engine.fire` for prompts, these take `now` and what was loaded and return a decision; the
scheduler (scheduler/tick.py) only claims the due digest rows, loads, asks here and saves. Two
kinds of digest (store's `digests.kind`):

- "manager": a manager's weekly digest of their reports, at their slot, once per local day;
- "leader": a senior leader's row per journey: before the start, the kickoff brief (once); then
  the weekly organisation digest (the PPP opening, request figures, managers with waiting items),
  once per ISO week; after everyone below them completed, one last digest, then none.

Both go out only in the recipient's working hours.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from journeys import timekeeping
from journeys.definition import Journey
from journeys.digest import ReportView, build_digest
from journeys.evaluation.accountability import (
    build_accountability_digest,
    manager_follow_up,
    organisation_figures,
    request_steps,
)
from journeys.evaluation.digest_news import news_only
from journeys.evaluation.interviews import interviewing, verdicts
from journeys.evaluation.value import leader_lines
from journeys.kickoff import brief_at, build_leader_brief
from journeys.messages import Message, Outgoing
from journeys.state import JourneyEvent, Person

LIVE = ("active", "paused")


@dataclass(frozen=True)
class DigestDecision:
    """What becomes of one due digest: its next time (None: no more), the message to queue, or
    `drop` (nobody is left to report on)."""

    next_at: datetime | None
    outgoing: Outgoing | None = None
    drop: bool = False


def closed_until(journey: Journey, person: Person, now: datetime) -> datetime | None:
    """None when it is the person's working hours now; otherwise their next open slot."""
    cal = timekeeping.calendar_for(journey, person)
    tz = timekeeping.tz_of(journey, person)
    return None if cal.is_open(now, tz) else cal.next_open(now, tz)


def manager_digest(journey: Journey, manager: Person, reports: list[ReportView], now: datetime) -> DigestDecision:
    """A manager's weekly digest (`reports`: their open enrollments in the journey)."""
    closed = closed_until(journey, manager, now)
    if closed is not None:
        return DigestDecision(closed)
    if not reports:
        return DigestDecision(None, drop=True)
    after = timekeeping.next_digest_at(journey, manager, now + timedelta(hours=1))
    message = build_digest(journey, manager, reports, now)
    if message is None:
        return DigestDecision(after)
    day = timekeeping.local_date(now, timekeeping.tz_of(journey, manager)).isoformat()
    topic = f"digest:{manager.id}:{journey.id}"
    return DigestDecision(after, Outgoing(f"{topic}:{day}", message, journey_id=journey.id, topic=topic))


def first_leader_slot(journey: Journey, leader: Person, now: datetime) -> datetime | None:
    """When a newly known senior leader's row is first due: their digest slot of this week."""
    return timekeeping.next_digest_at(journey, leader, now - timedelta(days=1))


@dataclass(frozen=True)
class LeaderView:
    """What a senior leader's row decides from: the enrollments of the managers below them."""

    rows: Sequence[tuple[str, str | None, str]]  # (enrollment id, manager id, status)
    names: Mapping[str, str]  # manager id -> name
    starts: Sequence[date]  # the starts of the live enrollments

    @property
    def live(self) -> bool:
        return any(status in LIVE for _, _, status in self.rows)

    @property
    def org(self) -> dict[str, list[str]]:
        """manager id -> their enrollment ids."""
        org: dict[str, list[str]] = {}
        for eid, mid, _ in self.rows:
            if mid is not None:
                org.setdefault(mid, []).append(eid)
        return org


def leader_gone(view: LeaderView) -> bool:
    """Nobody below the leader is (still) in the journey: the row goes."""
    return not view.live and not any(status == "completed" for _, _, status in view.rows)


def leader_brief(journey: Journey, leader: Person, view: LeaderView, now: datetime) -> DigestDecision | None:
    """Before the start a leader gets the kickoff brief (once), never a digest of zeros; None once
    the journey has started (then `leader_digest` decides)."""
    first = min(view.starts) if view.starts else None
    tz = timekeeping.tz_of(journey, leader)
    if first is None or timekeeping.local_date(now, tz) >= first:
        return None
    cal = timekeeping.calendar_for(journey, leader)
    due = brief_at(journey, leader, first)
    start_slot = cal.local_slot(first, cal.day_start, tz) - timedelta(minutes=1)
    after_start = timekeeping.next_digest_at(journey, leader, max(now, start_slot))
    if due is None or now < due:
        return DigestDecision(due if due is not None and due > now else after_start)
    brief = build_leader_brief(journey, leader, list(view.names.values()), len(view.starts), first)
    return DigestDecision(after_start, Outgoing(f"leader-brief:{leader.id}:{journey.id}:{first.isoformat()}",
                                                brief, journey_id=journey.id))


def _organisation_digest(journey: Journey, leader: Person, view: LeaderView, events: list[JourneyEvent],
                         now: datetime, min_group: int) -> Message | None:
    """The whole weekly digest as of `now`, from the events up to then (None: nothing to report)."""
    cal = timekeeping.calendar_for(journey, leader)
    tz = timekeeping.tz_of(journey, leader)
    org = view.org
    figures = organisation_figures(events, org, steps=request_steps(journey), min_group=min_group,
                                   as_of=now, calendar=cal, tz=tz)
    manager_steps = [s.id for s in journey.steps if s.kind in ("manager_task", "manager_request")]
    expectations = journey.manager_support.expectations
    follow = manager_follow_up(events, org, steps=manager_steps,
                               expectation_steps=[expectations.step] if expectations else
                               [s.id for s in journey.steps if s.kind == "manager_task"],
                               min_group=min_group, as_of=now, calendar=cal, tz=tz, requests=request_steps(journey))
    opening = leader_lines(journey, figures, verdicts(events), interviewing(events))  # the PPP first
    return build_accountability_digest(journey, leader, figures, now, follow, dict(view.names), opening)


def _last_week_slot(journey: Journey, leader: Person, view: LeaderView, now: datetime) -> datetime | None:
    """When last week's digest was due: the slot before the latest one due by `now` (holidays move
    both, across a week's end too); None when the journey had not started then (the leader had the
    brief, not a digest)."""
    tz = timekeeping.tz_of(journey, leader)
    slots: list[datetime] = []
    at = timekeeping.next_digest_at(journey, leader, now - timedelta(days=28))
    while at is not None and at <= now:
        slots.append(at)
        at = timekeeping.next_digest_at(journey, leader, at)
    if len(slots) < 2:
        return None
    slot = slots[-2]
    if view.starts and timekeeping.local_date(slot, tz) < min(view.starts):
        return None  # (no live enrollment: everyone below completed, so it had started long before)
    return slot


def leader_digest(journey: Journey, leader: Person, view: LeaderView, events: Iterable[JourneyEvent],
                  now: datetime, *, min_group: int) -> DigestDecision:
    """The weekly organisation digest; after everyone below completed, this last one, then none.
    It says only what last week's digest did not (`journeys.evaluation.digest_news`): a week with
    nothing new sends nothing."""
    tz = timekeeping.tz_of(journey, leader)
    events = list(events)
    after = timekeeping.next_digest_at(journey, leader, now + timedelta(hours=1)) if view.live else None
    message = _organisation_digest(journey, leader, view, events, now, min_group)
    if message is None:
        return DigestDecision(after)
    last = _last_week_slot(journey, leader, view, now)
    before = None if last is None else _organisation_digest(journey, leader, view, [e for e in events if e.at <= last],
                                                            last, min_group)
    fresh = news_only(message.text.split("\n"), before.text.split("\n") if before is not None else ())
    if not fresh:
        return DigestDecision(after)
    message = replace(message, text="\n".join(fresh))
    year, week, _ = timekeeping.local_date(now, tz).isocalendar()
    topic = f"leader:{leader.id}:{journey.id}"
    return DigestDecision(after, Outgoing(f"{topic}:{year}-W{week:02d}", message, journey_id=journey.id,
                                          topic=topic))
