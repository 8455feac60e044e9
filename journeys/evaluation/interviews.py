"""Success Case interviews, the second stage of the Success Case Method (Brinkerhoff).

The survey finds who says they applied the learning with a worthwhile result; interviews verify a
few of those stories (and a sample of the others), and put a value on them in the outcome's unit.
Pure like `journeys.evaluation.success_case`: everything is a function of stored events, the journey and `now`.

Events (their `data` holds ids, codes and numbers only, never what anyone said):

* `interview_invited`: a candidate was asked for consent; `slots` are the proposed UTC starts,
  `interviewer` the L&D admin's person id;
* `interview_consent`: `agreed` true or false (the latest counts);
* `interview_recorded`: the verified `classification` (one of the survey's four), the PPP
  `outcome` id it moved (optional) and `units`, the interviewer's value estimate in that outcome's
  unit (optional). The latest recording of an enrollment counts.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from journeys.calendar import WorkCalendar
from journeys.definition import Journey
from journeys.evaluation.barriers import BARRIER_LIST
from journeys.evaluation.scm_selection import Evidence, Ranked, Surveyed, rank
from journeys.evaluation.success_case import SCM_CLASSES, SUCCESS, Rate, hidden_because, wilson
from journeys.numbers import is_number
from journeys.ppp import InterviewSettings, measured_outcomes, outcome_text
from journeys.state import JourneyEvent

INVITED, CONSENT, RECORDED = "interview_invited", "interview_consent", "interview_recorded"
# An admin's swap (`interviews <cohort> swap <out> <in>`): one event on each enrollment.
SWAPPED_OUT, SWAPPED_IN = "interview_swapped_out", "interview_swapped_in"
Status = Literal["to_invite", "invited", "agreed", "declined", "interviewed", "withdrawn"]
STATUS_WORDS: dict[str, str] = {
    "to_invite": "not asked yet", "invited": "asked, no answer yet", "agreed": "agreed",
    "declined": "declined", "interviewed": "interviewed", "withdrawn": "swapped out",
}
CLASS_WORDS = {
    "success": "success case", "applied_no_result": "applied, no result yet",
    "tried_no_success": "tried, did not work out", "not_applied": "did not apply it",
}


@dataclass(frozen=True)
class Verdict:
    """What an interview verified for one enrollment."""

    enrollment_id: str
    classification: str
    outcome: str | None
    units: float | None
    at: datetime
    # from the notes form (journeys/evaluation/interview_notes.py): codes only
    evidence: bool = False  # the interviewer saw evidence
    barriers: tuple[str, ...] = ()
    enablers: tuple[str, ...] = ()
    with_notes: bool = False


Reason = Literal["success", "sample", "swapped", "other"]


@dataclass(frozen=True)
class Candidate:
    enrollment_id: str
    self_reported: str  # the survey's classification
    # "success": a ranked success case; "sample": a ranked non-success case; "swapped": put in by an
    # admin's swap; "other": interviewed although not selected
    reason: Reason
    status: Status
    slots: tuple[datetime, ...] = ()
    verdict: Verdict | None = None
    outcome: str | None = None  # the outcome the survey's story was tagged with
    rank: int = 0  # its place in its group's ranking (0: not ranked)
    why: str = ""  # the ranking's reason


@dataclass
class _Facts:
    classification: str | None = None
    contact: bool = False
    survey_at: datetime | None = None
    outcome: str | None = None
    status: Status = "to_invite"
    slots: tuple[datetime, ...] = ()
    verdict: Verdict | None = None
    barriers: tuple[str, ...] = ()
    swapped_in: bool = False


def _codes(raw: object) -> tuple[str, ...]:
    return tuple(str(x) for x in raw) if isinstance(raw, list) else ()


def _facts(events: Iterable[JourneyEvent]) -> dict[str, _Facts]:
    out: dict[str, _Facts] = {}
    for e in sorted(events, key=lambda ev: ev.at):
        f = out.setdefault(e.enrollment_id, _Facts())
        d = e.data
        if e.kind == "scm_classified":
            cls = d.get("classification")
            f.classification = str(cls) if cls in SCM_CLASSES else None
            f.contact = d.get("contact") is True
            f.survey_at = e.at
            f.outcome = str(d["outcome"]) if d.get("outcome") else None
            raw = d.get("barriers")
            f.barriers = _codes(raw) if isinstance(raw, list) else (str(raw),) if raw else ()
        elif e.kind == SWAPPED_OUT and f.status in ("to_invite", "invited"):
            f.status, f.swapped_in = "withdrawn", False
        elif e.kind == SWAPPED_IN:
            f.swapped_in = True
            if f.status == "withdrawn":
                f.status = "to_invite"
        elif e.kind == INVITED:
            if f.status == "to_invite":
                f.status = "invited"
            f.slots = tuple(datetime.fromisoformat(s) for s in d.get("slots", []) if isinstance(s, str))
        elif e.kind == CONSENT and f.status not in ("interviewed", "withdrawn"):
            f.status = "agreed" if d.get("agreed") is True else "declined"
            if isinstance(d.get("slot"), str):
                f.slots = (datetime.fromisoformat(d["slot"]),)  # the time they chose
        elif e.kind == RECORDED and d.get("classification") in SCM_CLASSES:
            units = d.get("units")
            f.verdict = Verdict(e.enrollment_id, str(d["classification"]),
                                str(d["outcome"]) if d.get("outcome") else None,
                                float(units) if isinstance(units, (int, float)) and not isinstance(units, bool)
                                else None, e.at, d.get("evidence") is True, _codes(d.get("barriers")),
                                _codes(d.get("enablers")), d.get("notes") is True)
            f.status = "interviewed"
    return out


def ranking(events: Iterable[JourneyEvent], measured: Collection[str] = (),
            evidence: Mapping[str, Evidence] | None = None,
            enrollment_ids: Iterable[str] | None = None) -> tuple[list[Ranked], list[Ranked]]:
    """The Success Case ranking (journeys/evaluation/scm_selection.py) of the surveyed enrollments."""
    wanted = None if enrollment_ids is None else set(enrollment_ids)
    facts = {k: v for k, v in _facts(events).items() if wanted is None or k in wanted}
    surveyed = [Surveyed(k, f.classification or "", f.contact, f.outcome, f.barriers)
                for k, f in sorted(facts.items()) if f.classification]
    return rank(surveyed, evidence or {}, measured)


def candidates(events: Iterable[JourneyEvent], settings: InterviewSettings,
               enrollment_ids: Iterable[str] | None = None, *, measured: Collection[str] = (),
               evidence: Mapping[str, Evidence] | None = None) -> list[Candidate]:
    """Who to interview: the `success_cases` strongest success cases who agreed to be contacted,
    then the `non_success_sample` most instructive others (journeys/evaluation/scm_selection.py); a swap puts
    the admin's choice in the place of the one swapped out. Anyone already invited or interviewed
    stays in the list, so re-running the selection is stable."""
    events = list(events)
    wanted = None if enrollment_ids is None else set(enrollment_ids)
    facts = {k: v for k, v in _facts(events).items() if wanted is None or k in wanted}
    success, others = ranking(events, measured, evidence, facts)
    out_of = {g: sum(1 for r in ranked if facts[r.enrollment_id].status == "withdrawn"
                     and not facts[r.enrollment_id].swapped_in)
              for g, ranked in (("success", success), ("sample", others))}
    chosen: dict[str, tuple[Reason, Ranked | None]] = {}
    groups: tuple[tuple[Reason, list[Ranked], int], ...] = (
        ("success", success, settings.success_cases), ("sample", others, settings.non_success_sample))
    for reason, ranked, quota in groups:
        open_ranks = [r for r in ranked if facts[r.enrollment_id].status != "withdrawn"]
        for r in open_ranks[:max(0, quota - out_of[reason])]:
            chosen[r.enrollment_id] = (reason, r)
        for r in open_ranks:
            if r.enrollment_id not in chosen and facts[r.enrollment_id].status != "to_invite":
                chosen[r.enrollment_id] = (reason, r)
    by_id = {r.enrollment_id: r for r in (*success, *others)}
    for k in sorted(k for k, f in facts.items() if f.swapped_in and f.status != "withdrawn"):
        chosen[k] = ("swapped", by_id.get(k))
    for k in sorted(k for k, f in facts.items() if f.status not in ("to_invite", "withdrawn") and k not in chosen):
        chosen[k] = ("other", by_id.get(k))
    return [Candidate(k, facts[k].classification or "", why, facts[k].status, facts[k].slots,
                      facts[k].verdict, facts[k].outcome, r.rank if r else 0, r.why if r else "")
            for k, (why, r) in chosen.items()]


def swap_events(out_id: str, in_id: str, admin_id: str, now: datetime) -> list[JourneyEvent]:
    return [JourneyEvent(SWAPPED_OUT, out_id, now, None, {"by": admin_id, "for": in_id}),
            JourneyEvent(SWAPPED_IN, in_id, now, None, {"by": admin_id, "instead_of": out_id})]


def interviewing(events: Iterable[JourneyEvent]) -> bool:
    """Success Case interviews have begun: someone was asked for one."""
    return any(e.kind == INVITED for e in events)


def verdicts(events: Iterable[JourneyEvent], enrollment_ids: Iterable[str] | None = None) -> list[Verdict]:
    wanted = None if enrollment_ids is None else set(enrollment_ids)
    return [f.verdict for k, f in sorted(_facts(events).items())
            if f.verdict is not None and (wanted is None or k in wanted)]


def propose_slots(now: datetime, settings: InterviewSettings,
                  person: tuple[WorkCalendar, ZoneInfo], interviewer: tuple[WorkCalendar, ZoneInfo],
                  count: int = 3, taken: Collection[datetime] = ()) -> list[datetime]:
    """Up to `count` interview starts (UTC), one a day, from the day after the person's next open
    time (when the request reaches them) on, each wholly
    inside both people's working hours (quiet hours and holidays excluded), clear of the quarter
    hours `taken` on the interviewer's calendar (held for or booked by someone else), and in the
    next `within_days` working days of the person."""
    step = timedelta(minutes=15)
    length = timedelta(minutes=settings.minutes)
    cal, tz = person
    # from the working day after the request can reach them, so they have time to answer
    first_day = cal.next_open(now, tz).astimezone(tz).date() + timedelta(days=1)
    last_day = cal.add_working_days(cal.roll_forward(first_day), settings.within_days - 1)
    at = datetime.combine(first_day, datetime.min.time(), tz).astimezone(now.tzinfo)
    out: list[datetime] = []
    while len(out) < count and at.astimezone(tz).date() <= last_day:
        day = at.astimezone(tz).date()
        if out and out[-1].astimezone(tz).date() == day:
            at = datetime.combine(day + timedelta(days=1), datetime.min.time(), tz).astimezone(now.tzinfo)
            continue
        checks = [at + step * k for k in range(int(length / step))] + [at + length - timedelta(minutes=1)]
        busy = any(at + step * k in taken for k in range(-(-settings.minutes // 15)))
        if not busy and all(c.is_open(t, z) for t in checks for c, z in (person, interviewer)):
            out.append(at)
        at += step
    return out


HOLD = timedelta(days=5)  # proposed times stay held this long, unless the candidate answers first


def hold_until(now: datetime, slot: datetime) -> datetime:
    """When a proposed time is freed if the candidate has not answered: after HOLD, or when the
    time itself comes, whichever is first."""
    return min(now + HOLD, slot)


AHEAD = timedelta(minutes=30)  # a reminder closer to the interview than this comes too late to help


def reminder_at(slot: datetime, who: tuple[WorkCalendar, ZoneInfo], now: datetime) -> datetime:
    """The interview's reminder: when that person's working day opens, so it arrives in their
    working hours on the day, or at once when the booking is made later that day. When their day
    opens with the interview (less than `AHEAD` before it), it comes in the afternoon of their
    working day before instead, if that is still to come."""
    cal, tz = who
    day = slot.astimezone(tz).date()
    morning = min(cal.next_open(datetime.combine(day, time.min, tz), tz), slot)
    if slot - morning >= AHEAD or now >= morning:
        return max(now, morning)
    before = cal.add_working_days(day, -1)
    afternoon = max(datetime.combine(before, cal.day_end) - timedelta(hours=2), datetime.combine(before, cal.day_start))
    at = max(now, cal.local_slot(before, afternoon.time(), tz))
    at = at if cal.is_open(at, tz) else cal.next_open(at, tz)
    return at if at <= slot - AHEAD else max(now, morning)


def non_success_guide(journey: Journey) -> list[str]:
    """The guide for a non-success case: what got in the way, what would have helped (the
    performance system's barriers, journeys/evaluation/barriers.py), never a search for blame."""

    return [f"Guide for non-success cases · {journey.title}",
            f"Business goal: {journey.ppp.business_goal}",
            "Behaviours: " + "; ".join(b.text for b in journey.ppp.behaviours),
            "1. Which moment did you plan to use it in? What happened?",
            "2. What got in the way? Listen for: " + "; ".join(b.label for b in BARRIER_LIST if b.code != "other")
            + ".",
            "3. What would have helped, and who could have given it?",
            "4. Did anything work, even partly? What would you try next time?",
            "5. Is there still a moment coming where it could pay off?",
            ("Record it with `interview <user> notes` (the form: the story, what got in the way, what would "
             "have helped).")]


def guide(journey: Journey, candidate: Candidate) -> list[str]:
    """The interviewer's guide for a success case, built from the journey's PPP: behaviours and
    outcomes to probe, then the five questions of a Success Case interview."""
    outcomes = journey.ppp.outcomes
    tagged = measured_outcomes(journey).get(candidate.outcome or "")
    said = CLASS_WORDS.get(candidate.self_reported, candidate.self_reported)
    lines = [f"Interview guide · {journey.title}" + (f" · self-reported: {said}" if said else "")
             + (f", story tagged “{tagged.text}”" if tagged else ""),
             f"Business goal: {journey.ppp.business_goal}",
             "Behaviours: " + "; ".join(b.text for b in journey.ppp.behaviours),
             "Outcomes: " + "; ".join(outcome_text(o) for o in outcomes),
             "1. What did you use? Which behaviour, in which situation, and when?",
             "2. What result came of it? What would we see or count that shows it?",
             "3. What helped? (your manager, the practice moments, colleagues, tools)",
             "4. What got in the way?",
             "5. What is it worth? Estimate it in the outcome's unit:"]
    for o in measured_outcomes(journey).values():
        if o.measure is not None:
            m = o.measure
            lines.append(f"   • {o.text}: how many {m.unit}s a {m.period}? ({m.name}; one is worth "
                         f"{m.value_per_unit:g} {m.currency})")
    lines.append("Record it with `interview <user> notes` (the form: story, evidence, enablers, barriers, value), "
                 "or `interview <user> <success|applied_no_result|tried_no_success|not_applied> "
                 "[outcome <id>] [value <units>]`.")
    return lines


def invited_event(enrollment_id: str, interviewer_id: str, slots: Sequence[datetime], now: datetime) -> JourneyEvent:
    return JourneyEvent(INVITED, enrollment_id, now, None,
                        {"interviewer": interviewer_id, "slots": [s.isoformat() for s in slots]})


def consent_event(enrollment_id: str, agreed: bool, now: datetime, slot: datetime | None = None,
                  recorded_by: str | None = None) -> JourneyEvent:
    """The participant's answer to the consent request; `recorded_by`: the admin who recorded an
    answer given some other way (by phone, in person)."""
    data: dict[str, object] = {"agreed": agreed}
    if slot is not None:
        data["slot"] = slot.isoformat()
    if recorded_by is not None:
        data["recorded_by"] = recorded_by
    return JourneyEvent(CONSENT, enrollment_id, now, None, data)


def declined_themselves(events: Iterable[JourneyEvent], enrollment_id: str) -> bool:
    """Whether the latest consent answer of the enrollment is a "no" the participant gave
    themselves (not one an admin recorded): such an answer stands unless they change it."""
    last = next((e for e in sorted((e for e in events if e.enrollment_id == enrollment_id and e.kind == CONSENT),
                                   key=lambda e: e.at, reverse=True)), None)
    return last is not None and last.data.get("agreed") is not True and not last.data.get("recorded_by")


CONSENT_STEP = "interview-consent"  # the consent request's prompt id is "<enrollment id>.interview-consent"
NO = "no"


def consent_prompt_id(enrollment_id: str) -> str:
    return f"{enrollment_id}.{CONSENT_STEP}"


def consent_enrollment(prompt_id: str | None) -> str | None:
    """The enrollment a consent button belongs to, or None for any other prompt."""
    if prompt_id and prompt_id.endswith("." + CONSENT_STEP):
        return prompt_id[: -len(CONSENT_STEP) - 1]
    return None


def consent_choice(button: str, slots: Sequence[datetime]) -> tuple[bool, datetime | None] | None:
    """(agreed, chosen slot) for a consent button's value ("slot:<i>" or "no"); None if unknown."""
    if button == NO:
        return False, None
    if button.startswith("slot:") and is_number(button[5:]) and int(button[5:]) < len(slots):
        return True, slots[int(button[5:])]
    return None


_NO_WORDS = {"no", "no thanks", "no, thanks", "no thank you", "no, thank you", "not now"}


def _words(text: str) -> str:
    return " ".join(text.lower().strip().rstrip(".!").split())


def may_be_consent(text: str) -> bool:
    """Whether typed text could answer a consent request at all (a number or a "no"): checked
    before anything is read, so ordinary typed answers cost nothing more."""
    words = _words(text)
    return words in _NO_WORDS or is_number(words)


def typed_consent(text: str, slots: Sequence[datetime]) -> str | None:
    """A typed answer to the consent request as its button's value: a time's number ("2"), the
    number after the times or "no"; None for anything else (a bare "yes" says no time)."""
    words = _words(text)
    if words in _NO_WORDS or words == str(len(slots) + 1):
        return NO
    if is_number(words) and 1 <= int(words) <= len(slots):
        return f"slot:{int(words) - 1}"
    return None


def consent_status(events: Iterable[JourneyEvent], enrollment_id: str) -> Status:
    f = _facts(e for e in events if e.enrollment_id == enrollment_id).get(enrollment_id)
    return f.status if f is not None else "to_invite"


def self_reported(events: Iterable[JourneyEvent], enrollment_id: str) -> str | None:
    """What the candidate said in the Success Case survey (`success`, `not_applied`…), if anything."""
    f = _facts(e for e in events if e.enrollment_id == enrollment_id).get(enrollment_id)
    return f.classification if f is not None else None


def invited_slots(events: Iterable[JourneyEvent], enrollment_id: str) -> tuple[datetime, ...]:
    f = _facts(e for e in events if e.enrollment_id == enrollment_id).get(enrollment_id)
    return f.slots if f is not None else ()


def recorded_event(enrollment_id: str, classification: str, outcome: str | None, units: float | None,
                   interviewer_id: str | None, now: datetime) -> JourneyEvent:
    if classification not in SCM_CLASSES:
        raise ValueError(f"unknown classification {classification!r}")
    data: dict[str, object] = {"classification": classification, "interviewer": interviewer_id}
    if outcome:
        data["outcome"] = outcome
    if units is not None:
        data["units"] = units
    return JourneyEvent(RECORDED, enrollment_id, now, None, data)


# --- self-reported vs verified ----------------------------------------------------------------

@dataclass(frozen=True)
class Verified:
    """What interviews verified, next to the survey's self-reports.

    `impact` is verified success cases over the survey's respondents: a lower bound while
    self-reported successes remain uninterviewed (`not_interviewed`). `confirmed` of
    `success_interviewed` interviewed self-reported successes were verified as success cases;
    `found` interviewed non-success cases turned out to be successes.
    """

    interviewed: int
    success_interviewed: int
    confirmed: int
    found: int
    successes: int
    not_interviewed: int
    impact: Rate
    hidden_because: str


def verified(events: Iterable[JourneyEvent], respondents: int, min_group: int,
             enrollment_ids: Iterable[str] | None = None) -> Verified:
    ids = None if enrollment_ids is None else set(enrollment_ids)
    facts = {k: f for k, f in _facts(events).items() if ids is None or k in ids}
    done = [f for f in facts.values() if f.verdict is not None]
    said = [f for f in done if f.classification == SUCCESS]
    confirmed = sum(1 for f in said if f.verdict is not None and f.verdict.classification == SUCCESS)
    found = sum(1 for f in done if f.classification != SUCCESS and f.verdict is not None
                and f.verdict.classification == SUCCESS)
    successes = confirmed + found
    pending = sum(1 for f in facts.values() if f.classification == SUCCESS and f.verdict is None)
    why = hidden_because(((successes, respondents),), min_group) if respondents else "small"
    return Verified(len(done), len(said), confirmed, found, successes, pending,
                    wilson(successes, respondents) if respondents else Rate(0, 0, None, None, None), why)
