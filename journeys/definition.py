"""Journey definitions: the pydantic models behind the YAML files in `journeys/library/`.

Unknown keys are errors (`extra="forbid"`) so a typo never silently drops a step. Cross-reference
problems are collected as (location, message) pairs by `cross_reference_errors`, so the loader can
report every one of them with its line and column, not just the first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time
from typing import Annotated, ClassVar, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from journeys.ending import Ending, ending_errors
from journeys.next_moments import with_loop_steps
from journeys.ppp import Cost, InterviewSettings, Outcome, ppp_errors

Loc = tuple[str | int, ...]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_ID = r"^[a-z0-9][a-z0-9_-]*$"

_WHEN_RE = re.compile(
    r"^\s*(?P<anchor>start|mtm|event:(?P<event>[a-z0-9][a-z0-9_-]*?))"
    r"\s*(?:(?P<sign>[+-])\s*(?P<days>\d{1,3}))?"
    r"\s+(?P<hh>\d{1,2}):(?P<mm>\d{2})\s*$"
)
WHEN_HELP = "'<anchor>[+|-<working days>] HH:MM' where anchor is start, event:<id> or mtm, e.g. 'start-5 09:30'"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


def _parse_hhmm(value: str) -> time:
    m = re.fullmatch(r"(\d{1,2}):(\d{2})", value.strip())
    if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
        raise ValueError(f"expected a time of day HH:MM (24h), got {value!r}")
    return time(int(m.group(1)), int(m.group(2)))


@dataclass(frozen=True)
class When:
    """A parsed `when:`: N working days from an anchor, at a local time of day."""

    anchor: Literal["start", "event", "mtm"]
    event: str | None
    days: int
    at: time

    @staticmethod
    def parse(text: str) -> When:
        m = _WHEN_RE.match(text)
        if not m:
            raise ValueError(f"expected {WHEN_HELP}, got {text!r}")
        hh, mm = int(m.group("hh")), int(m.group("mm"))
        if hh > 23 or mm > 59:
            raise ValueError(f"time of day out of range in {text!r}")
        days = int(m.group("days") or 0) * (-1 if m.group("sign") == "-" else 1)
        anchor_text = m.group("anchor")
        anchor: Literal["start", "event", "mtm"] = (
            "event" if anchor_text.startswith("event:") else ("start" if anchor_text == "start" else "mtm")
        )
        return When(anchor=anchor, event=m.group("event"), days=days, at=time(hh, mm))


class Behaviour(_Strict):
    id: Annotated[str, Field(pattern=_ID)]
    text: str = Field(min_length=1)
    opener: str | None = Field(default=None, min_length=1, max_length=200,
                               description="a first sentence to try, sent on the morning of a moment")


class PerformancePath(_Strict):
    """The Program Performance Path: business goal -> outcomes -> behaviours -> MTMs."""

    business_goal: str = Field(min_length=1)
    outcomes: list[Outcome] = Field(min_length=1, description="a sentence, or {id, text, measure}")
    behaviours: list[Behaviour] = Field(min_length=1)
    moments_that_matter: list[str] = Field(default_factory=list)
    cost: Cost | None = Field(default=None, description="the programme's cost per participant (for the return)")


class WorkingHours(_Strict):
    what: ClassVar[str] = "working hours"
    start: str = "09:00"
    end: str = "17:30"

    @field_validator("start", "end")
    @classmethod
    def _hhmm(cls, v: str) -> str:
        _parse_hhmm(v)
        return v

    @model_validator(mode="after")
    def _ordered(self) -> WorkingHours:
        if not _parse_hhmm(self.start) < _parse_hhmm(self.end):
            raise ValueError(f"{self.what} must start before they end ({self.start}-{self.end})")
        return self


class Holidays(_Strict):
    country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    subdivision: str | None = None


Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def _weekdays() -> list[Weekday]:
    return ["mon", "tue", "wed", "thu", "fri"]


class PersonalBounds(WorkingHours):
    """The widest a person's own working hours may reach in this journey (e.g. never before 08:00)."""

    what: ClassVar[str] = "personal bounds"
    start: str = "00:00"
    end: str = "23:59"


class Calendar(_Strict):
    timezone: str = "UTC"
    working_days: list[Weekday] = Field(default_factory=_weekdays, min_length=1)
    working_hours: WorkingHours = Field(default_factory=WorkingHours)
    personal_hours: bool = Field(
        default=True, description="a person's own working days and hours (directory, HR sync) replace the above")
    personal_bounds: PersonalBounds = Field(
        default_factory=PersonalBounds, description="own hours are clipped to start..end local time")
    quiet_hours: list[str] = Field(default_factory=list, description="local 'HH:MM-HH:MM' ranges")
    holidays: Holidays = Field(default_factory=Holidays)

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            raise ValueError(f"unknown IANA time zone {v!r}, e.g. 'Europe/London'") from None
        return v

    @field_validator("quiet_hours")
    @classmethod
    def _ranges(cls, v: list[str]) -> list[str]:
        for item in v:
            parts = item.split("-")
            if len(parts) != 2:
                raise ValueError(f"expected 'HH:MM-HH:MM', got {item!r}")
            a, b = (_parse_hhmm(p) for p in parts)
            if not a < b:
                raise ValueError(f"quiet hours {item!r} must start before they end")
        return v


class Event(_Strict):
    """A named date in the journey (the workshop), given at enrollment or defaulted.

    Ids may not end in '-<digits>' so that 'event:workshop-1' always reads as an offset.
    """

    id: Annotated[str, Field(pattern=_ID)]
    title: str = Field(min_length=1)
    default: str | None = Field(
        default=None, description="when not given at enrollment: 'start+N HH:MM'"
    )

    @field_validator("id")
    @classmethod
    def _no_offset_suffix(cls, v: str) -> str:
        if re.search(r"-\d+$", v):
            raise ValueError(f"event id {v!r} must not end in '-<number>' (it would read as an offset)")
        return v


class LinkDef(_Strict):
    label: str = Field(min_length=1)
    url: str = Field(pattern=r"^https?://\S+$")


class Reminders(_Strict):
    after: int = Field(ge=1, le=20, description="working days after the prompt (and between reminders)")
    max: int = Field(ge=1, le=5, description="at most this many reminders")


AnswerKind = Literal["choice", "multi_choice", "rating", "text", "long_text", "date"]
QuestionRole = Literal[
    "scm_classification",
    "scm_evidence",
    "scm_result",
    "scm_contact",
    "scm_barriers",
    "scm_barrier_other",
    "scm_outcome",
]


class OptionDef(_Strict):
    value: Annotated[str, Field(pattern=_ID)]
    label: str = Field(min_length=1)


class ShowIf(_Strict):
    question: str
    is_in: list[str] = Field(alias="in", min_length=1)


class Question(_Strict):
    id: Annotated[str, Field(pattern=_ID)]
    text: str = Field(min_length=1)
    answer: AnswerKind
    options: list[OptionDef] = Field(default_factory=list)
    scale: Literal[5, 10] | None = None
    required: bool = True
    role: QuestionRole | None = None
    show_if: ShowIf | None = None


class _StepBase(_Strict):
    id: Annotated[str, Field(pattern=_ID)]
    title: str = ""
    text: str = Field(min_length=1)
    when: str | None = None
    links: list[LinkDef] = Field(default_factory=list)
    reminders: Reminders | None = None
    escalate_to: Literal["manager"] | None = None
    stale_after: int | None = Field(
        default=None, ge=0, le=60, description="working days after which an overdue prompt expires"
    )


class MessageStep(_StepBase):
    kind: Literal["message"]


class QuestionStep(_StepBase):
    kind: Literal["question"]
    answer: AnswerKind
    options: list[OptionDef] = Field(default_factory=list)
    scale: Literal[5, 10] | None = None


class MtmPlanStep(_StepBase):
    kind: Literal["mtm_plan"]
    practice: Literal["safe", "real"]


class MtmFollowUpStep(_StepBase):
    kind: Literal["mtm_follow_up"]
    for_mtm: str = Field(description="id of the mtm_plan step whose moment this follows up")


class ManagerTaskStep(_StepBase):
    kind: Literal["manager_task"]
    guide: str = Field(min_length=1, description="shown when the manager asks for a guide")


class ManagerRequestStep(_StepBase):
    kind: Literal["manager_request"]
    for_mtm: str
    coach_guide: str = Field(min_length=1)


# A follow-up survey without its own `when:` goes about 70 days after the start, when business
# results can show (50 working days; `FOLLOW_UP_MIN_DAYS` below accepts 40 or more).
FOLLOW_UP_DEFAULT_WHEN = "start+50 10:00"


class SurveyStep(_StepBase):
    kind: Literal["survey"]
    questions: list[Question] = Field(min_length=1)
    evaluation: Literal["success_case", "follow_up"] | None = None

    @model_validator(mode="before")
    @classmethod
    def _follow_up_when(cls, data: object) -> object:
        if isinstance(data, dict) and data.get("evaluation") == "follow_up" and data.get("when") is None:
            return {**data, "when": FOLLOW_UP_DEFAULT_WHEN}
        return data


Step = Annotated[
    MessageStep | QuestionStep | MtmPlanStep | MtmFollowUpStep | ManagerTaskStep | ManagerRequestStep | SurveyStep,
    Field(discriminator="kind"),
]


class DigestDef(_Strict):
    """The weekly manager digest: day and local time."""

    day: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] = "mon"
    at: str = "09:00"
    stuck_after: int = Field(default=3, ge=1, le=30, description="working days without a response")

    @field_validator("at")
    @classmethod
    def _hhmm(cls, v: str) -> str:
        _parse_hhmm(v)
        return v


FallbackOffer = Literal["peer", "coach", "on_your_own"]
# "Can't this time": the manager's reasons are the performance system's barriers (journeys/evaluation/barriers.py)
CANT_REASONS: tuple[tuple[str, str], ...] = (
    ("no_time", "No time: other priorities come first"),
    ("away", "I'm away or off that day"),
    ("not_right_moment", "Not the right moment for this"),
    ("unclear_how", "I'm not sure how to coach this"),
    ("no_incentive", "My own goals leave no room for it"),
    ("tools_process", "A tool or process is in the way"),
    ("other", "Something else"),
)
# The same reasons as a report names them (journeys/evaluation/success_case.py: a barrier in the system).
CANT_LABELS = {"no_time": "no time, other priorities", "away": "away or off that day",
               "not_right_moment": "not the right moment", "unclear_how": "unsure how to coach it",
               "no_incentive": "their own goals leave no room for it",
               "tools_process": "a tool or process in the way", "other": "something else"}


def _default_offer() -> list[FallbackOffer]:
    return ["peer", "on_your_own"]


class Fallback(_Strict):
    """What a participant is offered when their support request gets no yes in time."""

    offer: list[FallbackOffer] = Field(default_factory=_default_offer, min_length=1)
    coach_contact: str = Field(default="", description="who the L&D coach is and how to reach them")


class ExpectationsDef(_Strict):
    """The before phase joined up: consent, what the manager sees, and what they agreed."""

    step: str = Field(description="the manager_task step of the expectations conversation")
    consent_step: str = Field(description="a choice question with options 'yes' and 'no': may we share?")
    shares: list[str] = Field(min_length=1, description="question steps whose answers are shared on consent")


class LeaderBrief(_Strict):
    """The senior leader's kickoff brief: when, relative to the start, in the leader's calendar."""

    when: str = Field(default="start-6 09:00", description="'start-N HH:MM' (working days before the start)")
    message: str = Field(default="", description="the two lines a leader can send their managers")
    welcome_step: str | None = Field(
        default=None,
        description="a participants' message step (their welcome) that quotes the leader's endorsement: the "
                    "brief then asks the leader to endorse the journey, with an optional sentence")


class ManagerSupport(_Strict):
    """Holding managers to account: escalation to their own manager, fallbacks, the before phase."""

    escalate_after: int = Field(
        default=2, ge=0, le=20,
        description="working days (the manager's calendar) an unanswered manager step waits before the "
                    "manager's manager hears of it, once; 0 turns escalation off")
    request_lead_days: int = Field(
        default=1, ge=0, le=10,
        description="working days (the manager's calendar) a manager_request needs before the moment; a "
                    "later plan tells the participant the manager may not see it in time")
    fallback: Fallback = Field(default_factory=Fallback)
    expectations: ExpectationsDef | None = None
    leader_brief: LeaderBrief | None = Field(default_factory=LeaderBrief)


class Journey(_Strict):
    id: Annotated[str, Field(pattern=_ID)]
    title: str = Field(min_length=1, max_length=80)
    version: int = Field(ge=1)
    description: str = ""
    ppp: PerformancePath
    target_impact_rate: float = Field(default=0.8, gt=0, le=1)
    baseline_impact_rate: float = Field(
        default=0.2, ge=0, lt=1,
        description="the impact rate to compare against; 0.2 is Brinkerhoff's rough figure for "
                    "training in general, 0 leaves the comparison out")
    calendar: Calendar = Field(default_factory=Calendar)
    events: list[Event] = Field(default_factory=list)
    manager_digest: DigestDef | None = None
    manager_support: ManagerSupport = Field(default_factory=ManagerSupport)
    interviews: InterviewSettings = Field(default_factory=InterviewSettings)
    steps: list[Step] = Field(min_length=1)
    ending: Ending = Field(default_factory=Ending)

    @model_validator(mode="before")
    @classmethod
    def _next_moments(cls, data: object) -> object:
        return with_loop_steps(data)  # `ending.next_moments`: the loop's steps, appended

    def step(self, step_id: str) -> Step:
        hit = _steps_of(self).get(step_id)
        if hit is None:
            raise KeyError(step_id)
        return hit

    def has_step(self, step_id: str) -> bool:
        return step_id in _steps_of(self)

    def behaviour_text(self, behaviour_id: str) -> str:
        for b in self.ppp.behaviours:
            if b.id == behaviour_id:
                return b.text
        return behaviour_id


MANAGER_KINDS = ("manager_task", "manager_request")


def is_follow_up_survey(step: Step) -> bool:
    """The follow-up survey (`evaluation: follow_up`) comes weeks after the journey has ended: it
    sets neither the journey's window nor its end, and it is sent and answered after completion."""
    return isinstance(step, SurveyStep) and step.evaluation == "follow_up"


def step_recipient(step: Step) -> Literal["participant", "manager"]:
    return "manager" if step.kind in MANAGER_KINDS else "participant"


def cross_reference_errors(journey: Journey) -> list[tuple[Loc, str]]:
    """Everything pydantic's per-field validation cannot see: ids, references, timing rules."""
    errors: list[tuple[Loc, str]] = []
    event_ids = {e.id for e in journey.events}
    plan_ids = {s.id for s in journey.steps if s.kind == "mtm_plan"}

    seen: dict[str, int] = {}
    for i, s in enumerate(journey.steps):
        if s.id in seen:
            errors.append(
                (("steps", i, "id"), f"duplicate step id {s.id!r} (first used by step {seen[s.id] + 1})")
            )
        else:
            seen[s.id] = i

    seen_events: set[str] = set()
    for i, e in enumerate(journey.events):
        if e.id in seen_events:
            errors.append((("events", i, "id"), f"duplicate event id {e.id!r}"))
        seen_events.add(e.id)
        if e.default is not None:
            try:
                w = When.parse(e.default)
                if w.anchor != "start":
                    errors.append((("events", i, "default"), "an event default must be relative to 'start'"))
            except ValueError as exc:
                errors.append((("events", i, "default"), str(exc)))

    behaviour_ids = [b.id for b in journey.ppp.behaviours]
    if len(set(behaviour_ids)) != len(behaviour_ids):
        errors.append((("ppp", "behaviours"), "behaviour ids must be unique"))

    for i, s in enumerate(journey.steps):
        loc: Loc = ("steps", i)
        needs_when = s.kind != "manager_request"
        if s.when is None and needs_when:
            errors.append(((*loc, "when"), f"a {s.kind} step needs 'when:' ({WHEN_HELP})"))
        if s.when is not None:
            if not needs_when:
                errors.append(
                    ((*loc, "when"), "a manager_request is sent when its MTM is planned; remove 'when:'")
                )
            try:
                w = When.parse(s.when)
            except ValueError as exc:
                errors.append(((*loc, "when"), str(exc)))
            else:
                if w.anchor == "event" and w.event not in event_ids:
                    known = ", ".join(sorted(event_ids)) or "none declared"
                    errors.append(((*loc, "when"), f"unknown event {w.event!r} (events: {known})"))
                if w.anchor == "mtm" and s.kind != "mtm_follow_up":
                    errors.append(((*loc, "when"), "only mtm_follow_up steps can be timed from 'mtm'"))
                if s.kind == "mtm_follow_up" and w.anchor != "mtm":
                    errors.append(((*loc, "when"), "an mtm_follow_up is timed from its MTM: use 'mtm+N HH:MM'"))
        for_mtm = getattr(s, "for_mtm", None)
        if for_mtm is not None and for_mtm not in plan_ids:
            known = ", ".join(sorted(plan_ids)) or "none declared"
            errors.append(((*loc, "for_mtm"), f"{for_mtm!r} is not an mtm_plan step (mtm_plan steps: {known})"))
        if s.escalate_to is not None and s.kind == "message":
            errors.append(((*loc, "escalate_to"), "a message needs no answer, so nothing can be escalated"))
        elif s.escalate_to is not None and s.reminders is None:
            errors.append(((*loc, "escalate_to"), "escalation happens after the last reminder: add 'reminders:'"))
        if s.escalate_to == "manager" and step_recipient(s) == "manager":
            errors.append(((*loc, "escalate_to"), "a manager step cannot escalate to the manager"))
        if s.kind == "message" and s.reminders is not None:
            errors.append(((*loc, "reminders"), "a message needs no answer, so it cannot have reminders"))
        if s.kind == "question":
            errors.extend(_answer_errors(loc, s.answer, s.options, s.scale))
        if s.kind == "survey":
            qids: set[str] = set()
            for j, q in enumerate(s.questions):
                qloc: Loc = (*loc, "questions", j)
                if q.id in qids:
                    errors.append(((*qloc, "id"), f"duplicate question id {q.id!r}"))
                errors.extend(_answer_errors(qloc, q.answer, q.options, q.scale))
                if q.show_if is not None:
                    target = next((x for x in s.questions[:j] if x.id == q.show_if.question), None)
                    if target is None:
                        errors.append(
                            ((*qloc, "show_if", "question"), f"{q.show_if.question!r} is not an earlier question")
                        )
                    else:
                        values = {o.value for o in target.options}
                        for v in q.show_if.is_in:
                            if v not in values:
                                errors.append(
                                    ((*qloc, "show_if", "in"), f"{v!r} is not an option of {target.id!r}")
                                )
                qids.add(q.id)
            if s.evaluation in ("success_case", "follow_up"):
                roles = [q.role for q in s.questions]
                if "scm_classification" not in roles:
                    errors.append(
                        ((*loc, "questions"), "a success_case survey needs a question with role scm_classification")
                    )
                for j, q in enumerate(s.questions):
                    if q.role == "scm_classification":
                        values = {o.value for o in q.options}
                        missing = set(SCM_CLASSES) - values
                        if q.answer != "choice" or missing:
                            errors.append(
                                (
                                    ("steps", i, "questions", j, "options"),
                                    "the scm_classification question must be a choice with options "
                                    + ", ".join(SCM_CLASSES),
                                )
                            )
    errors.extend(_support_errors(journey))
    errors.extend(ending_errors(journey.ending))
    for pid in plan_ids:
        if not any(getattr(s, "for_mtm", None) == pid and s.kind == "mtm_follow_up" for s in journey.steps):
            idx = next(i for i, s in enumerate(journey.steps) if s.id == pid)
            errors.append((("steps", idx, "id"), f"mtm_plan {pid!r} has no mtm_follow_up step (for_mtm: {pid})"))
    errors.extend(ppp_errors(journey))
    errors.extend(_follow_up_errors(journey))
    return errors


FOLLOW_UP_MIN_DAYS = 40  # working days: about 60 calendar days, when business results can show


def _follow_up_errors(journey: Journey) -> list[tuple[Loc, str]]:
    """A follow-up survey comes once, after the Success Case survey, about 60-90 days after the start."""
    errors: list[tuple[Loc, str]] = []
    first: int | None = None
    seen = False
    for i, s in enumerate(journey.steps):
        evaluation = getattr(s, "evaluation", None)
        try:
            w = When.parse(s.when) if s.when else None
        except ValueError:
            continue  # reported with the step's `when`
        days = w.days if w is not None and w.anchor == "start" else None
        if evaluation == "success_case" and first is None:
            first = days
        if evaluation != "follow_up":
            continue
        if seen:
            errors.append((("steps", i, "evaluation"), "a journey has at most one follow_up survey"))
        seen = True
        if first is None:
            errors.append((("steps", i, "evaluation"), "a follow_up survey needs an earlier success_case survey"))
        if days is None or days < FOLLOW_UP_MIN_DAYS:
            errors.append((("steps", i, "when"), ("a follow_up survey goes about 60-90 days after the start, "
                           "when business results can show: 'start+N HH:MM' with N >= "
                           f"{FOLLOW_UP_MIN_DAYS} working days (start+50 is about 70 days)")))
    return errors


SCM_CLASSES = ("success", "applied_no_result", "tried_no_success", "not_applied")


def _answer_errors(loc: Loc, answer: str, options: list[OptionDef], scale: int | None) -> list[tuple[Loc, str]]:
    errors: list[tuple[Loc, str]] = []
    if answer in ("choice", "multi_choice") and len(options) < 2:
        errors.append(((*loc, "options"), f"a {answer} answer needs at least two options"))
    if answer not in ("choice", "multi_choice") and options:
        errors.append(((*loc, "options"), f"options only apply to choice answers, not {answer}"))
    if answer == "rating" and scale is None:
        errors.append(((*loc, "scale"), "a rating needs 'scale: 5' or 'scale: 10'"))
    values = [o.value for o in options]
    if len(set(values)) != len(values):
        errors.append(((*loc, "options"), "option values must be unique"))
    return errors


def _support_errors(journey: Journey) -> list[tuple[Loc, str]]:
    """The `manager_support:` keys that point at steps or need each other."""
    errors: list[tuple[Loc, str]] = []
    ms = journey.manager_support
    loc: Loc = ("manager_support",)
    if "coach" in ms.fallback.offer and not ms.fallback.coach_contact:
        errors.append(((*loc, "fallback", "coach_contact"),
                       "offering the L&D coach needs 'coach_contact' (a name and how to reach them)"))
    if ms.fallback.coach_contact and "coach" not in ms.fallback.offer:
        errors.append(((*loc, "fallback", "coach_contact"), "add 'coach' to 'offer' or remove 'coach_contact'"))
    if len(set(ms.fallback.offer)) != len(ms.fallback.offer):
        errors.append(((*loc, "fallback", "offer"), "each offer may appear once"))
    if ms.leader_brief is not None:
        try:
            w = When.parse(ms.leader_brief.when)
            if w.anchor != "start" or w.days >= 0:
                errors.append(((*loc, "leader_brief", "when"),
                               "the kickoff brief goes before the start: use 'start-N HH:MM' with N at least 1"))
        except ValueError as exc:
            errors.append(((*loc, "leader_brief", "when"), str(exc)))
        welcome = ms.leader_brief.welcome_step
        if welcome is not None and not isinstance({s.id: s for s in journey.steps}.get(welcome), MessageStep):
            errors.append(((*loc, "leader_brief", "welcome_step"),
                           f"{welcome!r} is not a message step (the participants' welcome quotes the endorsement)"))
    ex = ms.expectations
    if ex is None:
        if any("{agreed}" in s.text for s in journey.steps):
            errors.append((loc, "a step uses {agreed}: declare 'manager_support.expectations'"))
        return errors
    by_id = {s.id: s for s in journey.steps}
    eloc: Loc = (*loc, "expectations")
    task = by_id.get(ex.step)
    if not isinstance(task, ManagerTaskStep):
        errors.append(((*eloc, "step"), f"{ex.step!r} is not a manager_task step"))
    consent = by_id.get(ex.consent_step)
    if not isinstance(consent, QuestionStep) or consent.answer != "choice" \
            or {o.value for o in consent.options} != {"yes", "no"}:
        errors.append(((*eloc, "consent_step"),
                       f"{ex.consent_step!r} must be a choice question with options 'yes' and 'no'"))
    for i, sid in enumerate(ex.shares):
        if not isinstance(by_id.get(sid), QuestionStep):
            errors.append(((*eloc, "shares", i), f"{sid!r} is not a question step"))
    if len(set(ex.shares)) != len(ex.shares):
        errors.append(((*eloc, "shares"), "each step may be shared once"))
    if ex.consent_step in ex.shares:
        errors.append(((*eloc, "shares"), "the consent question itself is not shared"))
    return errors


# Journey (frozen) -> its steps by id, the first of an id winning as the scan it replaces did:
# the engine looks a step up several times per due prompt. Keyed by id() with the journey kept in
# the value, so a freed journey's reused id can never hit.
_STEP_INDEX: dict[int, tuple[Journey, dict[str, Step]]] = {}


def _steps_of(journey: Journey) -> dict[str, Step]:
    hit = _STEP_INDEX.get(id(journey))
    if hit is None or hit[0] is not journey:
        by_id: dict[str, Step] = {}
        for s in journey.steps:
            by_id.setdefault(s.id, s)
        if len(_STEP_INDEX) >= 256:
            _STEP_INDEX.clear()
        hit = _STEP_INDEX[id(journey)] = (journey, by_id)
    return hit[1]
