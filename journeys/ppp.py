"""The Program Performance Path's measurable parts: outcome measures and the interview settings.

Kept apart from `journeys.definition` (which imports these models) so that the business-value
vocabulary lives in one place: an outcome may be a plain sentence, or an object with an `id` (so
success stories and interviews can be tagged with it) and a `measure` saying what one unit of it
is worth. Reports multiply the units verified in interviews by `value_per_unit`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, GetJsonSchemaHandler, model_validator
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from journeys.evaluation.barriers import BARRIERS


class Journey(Protocol):
    """What these functions read of a journey (journeys/definition.py `Journey`, which imports this
    module: typed by shape, so nothing here imports it back)."""

    @property
    def ppp(self) -> Any: ...

    @property
    def steps(self) -> Sequence[Any]: ...


Loc = tuple[str | int, ...]
_ID = r"^[a-z0-9][a-z0-9_-]*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


Period = Literal["week", "month", "quarter", "year"]
PER_YEAR: dict[str, int] = {"week": 52, "month": 12, "quarter": 4, "year": 1}


class Measure(_Strict):
    """How an outcome is counted and what one unit of it is worth to the business."""

    name: str = Field(min_length=1, description="what is counted, e.g. 'escalated complaints'")
    unit: str = Field(min_length=1, description="one counted thing, e.g. 'avoided escalation'")
    value_per_unit: float = Field(gt=0, description="what one unit is worth, in `currency`")
    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$", description="ISO 4217 code")
    direction: Literal["increase", "decrease"] = Field(description="which way is better")
    baseline: float | None = Field(default=None, ge=0, description="the level before the journey")
    target: float | None = Field(default=None, ge=0, description="the level the business aims for")
    period: Period = Field(description="the time a unit is counted over: units verified in an interview "
                                       "are units per this period, so value reads as value per period")


class Outcome(_Strict):
    """A performance outcome: a plain sentence in the file, or {id, text, measure}.

    A sentence becomes an Outcome without id (it cannot be tagged); `str()` is its text, so older
    code that printed outcomes as strings still reads the same.
    """

    id: Annotated[str, Field(pattern=_ID)] | None = None
    text: str = Field(min_length=1)
    measure: Measure | None = None

    @model_validator(mode="before")
    @classmethod
    def _sentence(cls, data: Any) -> Any:
        return {"text": data} if isinstance(data, str) else data

    def __str__(self) -> str:
        return self.text

    @classmethod
    def __get_pydantic_json_schema__(cls, core: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        """In the exported JSON Schema too, an outcome may be a plain sentence."""
        return {"anyOf": [{"type": "string", "minLength": 1}, handler(core)]}


class Cost(_Strict):
    """What the programme costs per participant (workshop, facilitation, people's time), so a
    report can set the verified value beside it: the return, with its basis."""

    per_participant: float = Field(gt=0, description="cost of the programme per participant, in `currency`")
    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$", description="ISO 4217 code")
    covers: str = Field(default="", description="what the figure includes, e.g. 'workshop, facilitator, time'")


class InterviewSettings(_Strict):
    """The Success Case Method's second stage: whom to interview after the survey, and how long."""

    success_cases: int = Field(default=5, ge=0, le=50,
                               description="at most this many success cases who agreed to be contacted")
    non_success_sample: int = Field(default=2, ge=0, le=50,
                                    description="and a sample of this many non-success cases")
    minutes: int = Field(default=30, ge=15, le=120, description="length of one interview")
    within_days: int = Field(default=10, ge=1, le=30,
                             description="slots are proposed in the next N working days")


def outcome_text(outcome: str | Outcome) -> str:
    return outcome.text if isinstance(outcome, Outcome) else outcome


def measured_outcomes(journey: Journey) -> dict[str, Outcome]:
    """The outcomes that have an id, by id (plain-sentence outcomes cannot be tagged)."""
    return {o.id: o for o in journey.ppp.outcomes if o.id is not None}


def ppp_errors(journey: Journey) -> list[tuple[Loc, str]]:
    """Unique outcome ids, consistent measures, and scm_outcome questions that offer outcome ids."""
    errors: list[tuple[Loc, str]] = []
    seen: set[str] = set()
    for i, o in enumerate(journey.ppp.outcomes):
        if o.id is None:
            if o.measure is not None:
                errors.append((("ppp", "outcomes", i, "measure"), "an outcome with a measure needs an 'id'"))
            continue
        if o.id in seen:
            errors.append((("ppp", "outcomes", i, "id"), f"duplicate outcome id {o.id!r}"))
        seen.add(o.id)
        m = o.measure
        if m is not None and m.baseline is not None and m.target is not None:
            wrong = m.target >= m.baseline if m.direction == "decrease" else m.target <= m.baseline
            if wrong:
                side = "below" if m.direction == "decrease" else "above"
                errors.append((("ppp", "outcomes", i, "measure", "target"),
                               (f"with direction {m.direction} the target must be {side} the "
                                f"baseline ({m.baseline:g})")))
    cost = journey.ppp.cost
    if cost is not None:
        for i, o in enumerate(journey.ppp.outcomes):
            if o.measure is not None and o.measure.currency != cost.currency:
                errors.append((("ppp", "cost", "currency"),
                               (f"the cost is in {cost.currency} but outcome {o.id!r} is valued in "
                                f"{o.measure.currency}: use one currency, so value and cost can be compared")))
                break
    for i, s in enumerate(journey.steps):
        for j, q in enumerate(getattr(s, "questions", None) or []):
            loc: Loc = ("steps", i, "questions", j)
            if q.role == "scm_barriers":
                errors.extend(((*loc, "options", k, "value"),
                               f"{opt.value!r} is not a barrier the reports know ({', '.join(BARRIERS)})")
                              for k, opt in enumerate(q.options) if opt.value not in BARRIERS)
            if q.role != "scm_outcome":
                continue
            if q.answer != "choice":
                errors.append(((*loc, "answer"), "an scm_outcome question must be a choice"))
            for k, opt in enumerate(q.options):
                if opt.value not in seen and opt.value != "other":
                    known = ", ".join(sorted(seen)) or "none: give outcomes an id"
                    errors.append(((*loc, "options", k, "value"),
                                   f"{opt.value!r} is not a ppp outcome id (outcome ids: {known}; or 'other')"))
    return errors


def units(n: float, unit: str) -> str:
    """'6 avoided escalations', '1 avoided escalation'."""
    return f"{n:g} {unit}{'' if n == 1 else 's'}"


