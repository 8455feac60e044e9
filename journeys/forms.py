"""Which inputs each step asks for, and how answers are checked.

One definition serves every platform: Slack shows the fields in a modal, Teams as card inputs,
and a plain-text channel asks them one at a time (`next_field` + `parse_typed`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any, TypeVar, cast

from journeys.definition import (
    Journey,
    ManagerRequestStep,
    ManagerTaskStep,
    MtmFollowUpStep,
    MtmPlanStep,
    OptionDef,
    QuestionStep,
    Step,
    SurveyStep,
)
from journeys.messages import Button, FormField, Option
from journeys.mtm_plan import moment_field
from journeys.numbers import is_number
from journeys.text import typed

YES_NO = (Option("yes", "Yes"), Option("no", "No"))
TASK_BUTTONS = (
    Button("Done", "done", "primary"),
    Button("Remind me tomorrow", "tomorrow"),
    Button("I need a guide", "guide"),
)
REQUEST_BUTTONS = (Button("Approve", "approve", "primary"), Button("Coach", "coach"),
                   Button("Can't this time", "cant"))
# The expectations conversation's record (manager_support.expectations): what was agreed.
AGREED_FIELD = FormField("agreed", "What did you agree? (a sentence or two)", "long_text")
SKIP_WORDS = {"skip", "-", "n/a", "none"}


def _options(opts: list[OptionDef]) -> tuple[Option, ...]:
    return tuple(Option(o.value, o.label) for o in opts)


def _rating_options(scale: int) -> tuple[Option, ...]:
    return tuple(Option(str(i), str(i)) for i in range(1, scale + 1))


_A = TypeVar("_A")
_B = TypeVar("_B")
_R = TypeVar("_R")


def _by_identity(cache: dict[tuple[int, int], tuple[Any, Any, Any]], a: _A, b: _B,
                 compute: Callable[[_A, _B], _R]) -> _R:
    """`compute(a, b)` memoised on the two objects' identity, for pure functions of frozen
    definitions asked for every due prompt. Both are kept in the value, so a reused id of a freed
    object can never hit."""
    key = (id(a), id(b))
    hit = cache.get(key)
    if hit is not None and hit[0] is a and hit[1] is b:
        return cast(_R, hit[2])
    result = compute(a, b)
    if len(cache) >= 4096:
        cache.clear()
    cache[key] = (a, b, result)
    return result


_FIELDS: dict[tuple[int, int], tuple[Any, Any, Any]] = {}
_BUTTONS: dict[tuple[int, int], tuple[Any, Any, Any]] = {}


def fields_for(journey: Journey, step: Step) -> tuple[FormField, ...]:
    """The form of a step (one tuple per step also lets the outbox serialise it once)."""
    return _by_identity(_FIELDS, journey, step, _fields_for)


def _fields_for(journey: Journey, step: Step) -> tuple[FormField, ...]:
    if isinstance(step, QuestionStep):
        return (_answer_field("answer", step.title or "Your answer", step.answer, _options(step.options), step.scale),)
    if isinstance(step, MtmPlanStep):
        behaviours = tuple(Option(b.id, b.text) for b in journey.ppp.behaviours)
        moment = moment_field(journey)
        situation = (FormField("situation", "The moment: what situation, with whom?", "long_text") if moment is None
                     else FormField("situation", "In your words: what situation, with whom?", "long_text",
                                    required=False, hint="Needed for Something else; else optional details"))
        return (
            *((moment,) if moment is not None else ()),
            situation,
            FormField("date", "When will it happen?", "date"),
            FormField("behaviour", "Which behaviour will you try?", "choice", behaviours),
            FormField(
                "practice",
                "How real is it?",
                "choice",
                (Option("safe", "Safe practice"), Option("real", "A real, harder moment")),
                hint=f"This cycle suggests: {'safe practice' if step.practice == 'safe' else 'a real moment'}",
            ),
            FormField("share", "Share these details with your manager?", "choice", YES_NO),
        )
    if isinstance(step, MtmFollowUpStep):
        return (
            FormField(
                "happened",
                "Did the moment happen?",
                "choice",
                (Option("yes", "Yes"), Option("no", "No"), Option("postponed", "Postponed")),
            ),
            FormField("new_date", "New date", "date", show_if_field="happened", show_if_values=("postponed",)),
            FormField(
                "rating", "How did it go? (1-5)", "rating", _rating_options(5), scale=5,
                show_if_field="happened", show_if_values=("yes",),
            ),
            FormField(
                "reflection", "What happened, and what will you do next time?", "long_text",
                show_if_field="happened", show_if_values=("yes", "no"),
            ),
            FormField(
                "share", "Share this reflection with your manager?", "choice", YES_NO,
                show_if_field="happened", show_if_values=("yes", "no"),
            ),
        )
    if isinstance(step, SurveyStep):
        out = []
        for q in step.questions:
            f = _answer_field(q.id, q.text, q.answer, _options(q.options), q.scale, q.required)
            if q.show_if is not None:
                f = FormField(
                    f.id, f.label, f.kind, f.options, f.required, f.hint,
                    show_if_field=q.show_if.question, show_if_values=tuple(q.show_if.is_in), scale=f.scale,
                )
            out.append(f)
        return tuple(out)
    if isinstance(step, ManagerTaskStep) and journey.manager_support.expectations is not None \
            and journey.manager_support.expectations.step == step.id:
        return (AGREED_FIELD,)
    return ()


def _answer_field(
    fid: str, label: str, answer: str, options: tuple[Option, ...], scale: int | None, required: bool = True
) -> FormField:
    if answer == "rating":
        n = scale or 5
        return FormField(fid, label, "rating", _rating_options(n), required, scale=n)
    kind = {"choice": "choice", "multi_choice": "multi_choice", "text": "text", "long_text": "long_text",
            "date": "date"}[answer]
    return FormField(fid, label, kind, options, required)  # type: ignore[arg-type]


def buttons_for(step: Step, fields: tuple[FormField, ...]) -> tuple[Button, ...]:
    """Steps answered by one click; a single short choice is also offered as buttons."""
    return _by_identity(_BUTTONS, step, fields, _buttons_for)


def _buttons_for(step: Step, fields: tuple[FormField, ...]) -> tuple[Button, ...]:
    if isinstance(step, ManagerTaskStep):
        return TASK_BUTTONS
    if isinstance(step, ManagerRequestStep):
        return REQUEST_BUTTONS
    if len(fields) == 1 and fields[0].kind in ("choice", "rating") and len(fields[0].options) <= 5:
        return tuple(Button(o.label, o.value) for o in fields[0].options)
    return ()


def visible(f: FormField, values: dict[str, Any]) -> bool:
    if f.show_if_field is None:
        return True
    return str(values.get(f.show_if_field, "")) in f.show_if_values


def missing_fields(fields: tuple[FormField, ...], values: dict[str, Any]) -> list[FormField]:
    return [f for f in fields if visible(f, values) and f.required and f.id not in values]


def next_field(fields: tuple[FormField, ...], values: dict[str, Any]) -> FormField | None:
    """The next field to ask when answers arrive as typed text (optional fields too, skippable)."""
    for f in fields:
        if visible(f, values) and f.id not in values:
            return f
    return None


class AnswerError(ValueError):
    """An answer that cannot be accepted; the message says what was expected."""


def check_values(fields: tuple[FormField, ...], values: dict[str, Any], today: date) -> dict[str, Any]:
    """Validate a (partial) submission; return the cleaned values of visible fields."""
    by_id = {f.id: f for f in fields}
    clean: dict[str, Any] = {}
    for key, raw in values.items():
        f = by_id.get(key)
        if f is None:
            continue  # platform extras (hidden ids) are ignored, never stored
        if raw is None or raw == "" or raw == []:
            continue
        clean[key] = _check_one(f, raw, today)
    # drop answers to branches that are not shown (e.g. barriers of a success case)
    return {k: v for k, v in clean.items() if visible(by_id[k], clean)}


def check_one(f: FormField, raw: Any, today: date) -> Any:
    """One field's clean value (None: left empty); AnswerError says what is wrong with it."""
    if raw is None or raw == "" or raw == []:
        return None
    return _check_one(f, raw, today)


def _check_one(f: FormField, raw: Any, today: date) -> Any:
    values = {o.value for o in f.options}
    if f.kind in ("choice", "rating"):
        v = str(raw).strip()
        if v not in values:
            raise AnswerError(f"'{f.label}' expects one of: {', '.join(o.label for o in f.options)}")
        return v
    if f.kind == "multi_choice":
        items = raw if isinstance(raw, list) else [x.strip() for x in str(raw).split(",") if x.strip()]
        bad = [x for x in items if x not in values]
        if bad or not items:
            raise AnswerError(f"'{f.label}' expects some of: {', '.join(o.label for o in f.options)}")
        return [str(x) for x in items]
    if f.kind == "date":
        try:
            d = date.fromisoformat(str(raw).strip())
        except ValueError:
            raise AnswerError(f"'{f.label}' expects a date like {today.isoformat()}") from None
        if d < today:
            raise AnswerError(f"'{f.label}' must be today or later, not {d.isoformat()}")
        if d > today + timedelta(days=365):
            raise AnswerError(f"'{f.label}' must be within a year")
        return d.isoformat()
    text = str(raw).strip()
    limit = 3000 if f.kind == "long_text" else 500
    if len(text) > limit:
        raise AnswerError(f"'{f.label}' is too long ({len(text)} characters, at most {limit})")
    return text


_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


def parse_day(text: str, today: date) -> date | None:
    """'2026-12-03', 'today', 'tomorrow', 'friday', 'next tuesday', 'in 3 days', '3/12' -> a date."""
    t = text.strip().lower()
    try:
        return date.fromisoformat(t)
    except ValueError:
        pass
    if t == "today":
        return today
    if t == "tomorrow":
        return today + timedelta(days=1)
    m = re.fullmatch(r"in (\d{1,3}) days?", t, re.ASCII)
    if m:
        return today + timedelta(days=int(m.group(1)))
    t2 = t.removeprefix("next ").removeprefix("on ")
    for i, name in enumerate(_WEEKDAYS):
        if t2 in (name, name[:3]):
            ahead = (i - today.weekday()) % 7 or 7
            return today + timedelta(days=ahead)
    m = re.fullmatch(r"(\d{1,2})[/.](\d{1,2})(?:[/.](\d{2,4}))?", t, re.ASCII)
    if m:  # day/month, the way most of the world writes it
        year = int(m.group(3)) if m.group(3) else today.year
        year = year + 2000 if year < 100 else year
        try:
            d = date(year, int(m.group(2)), int(m.group(1)))
        except ValueError:
            return None
        if not m.group(3) and d < today:
            d = date(year + 1, d.month, d.day)
        return d
    return None


def parse_typed(f: FormField, text: str, today: date) -> Any:
    """Turn typed text into a field value: '2', 'yes', 'Safe practice', 'tomorrow', 'a, c'."""
    t = text.strip()
    if not f.required and t.lower() in SKIP_WORDS:
        return None
    if f.kind in ("choice", "rating"):
        return _match_option(f, t)
    if f.kind == "multi_choice":
        parts = [p for p in re.split(r"[,;]\s*|\s+and\s+", t) if p.strip()]
        return [_match_option(f, p) for p in parts]
    if f.kind == "date":
        d = parse_day(t, today)
        if d is None:
            raise AnswerError(f"'{f.label}': I could not read {t!r} as a date; try {today.isoformat()} or 'friday'")
        return _check_one(f, d.isoformat(), today)
    return _check_one(f, t, today)


def _match_option(f: FormField, text: str) -> str:
    t = text.strip().lower().rstrip(".!")
    if is_number(t):
        if f.kind == "rating":
            if t in {o.value for o in f.options}:
                return t
        elif 1 <= int(t) <= len(f.options):
            return f.options[int(t) - 1].value
    for o in f.options:
        if t in (o.value.lower(), o.label.lower()):
            return o.value
    prefixed = [o for o in f.options if o.label.lower().startswith(t) or o.value.lower().startswith(t)]
    if len(t) >= 2 and len(prefixed) == 1:
        return prefixed[0].value
    numbered = "; ".join(f"{i}. {o.label}" for i, o in enumerate(f.options, 1))
    raise AnswerError(f"'{f.label}': please answer with one of {numbered}")


def describe_answer(fields: tuple[FormField, ...], values: dict[str, Any], limit: int = 160) -> str:
    """A short human summary of what was answered, shown on the closed prompt."""
    parts = []
    for f in fields:
        if f.id not in values:
            continue
        v = values[f.id]
        labels = {o.value: o.label for o in f.options}
        shown = ", ".join(labels.get(str(x), str(x)) for x in v) if isinstance(v, list) else labels.get(str(v), str(v))
        if len(shown) > limit:
            shown = shown[: limit - 1] + "…"
        shown = typed(shown) if f.kind in ("text", "long_text") else shown  # what the person typed
        parts.append(f"{f.label} {shown}" if f.kind != "long_text" else f"{f.label} “{shown}”")
    return "\n".join(parts)
