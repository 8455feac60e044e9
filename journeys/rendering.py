"""What a prompt looks like: its card, its title, the text it fills in, and the card's
closed look after an answer (a `CardChange`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal

from journeys import day_of, endorsement, expectations
from journeys.definition import (
    Journey,
    ManagerRequestStep,
    Step,
    is_follow_up_survey,
    step_recipient,
)
from journeys.ending import CLOSE_STEP
from journeys.forms import (
    _by_identity,
    buttons_for,
    fields_for,
)
from journeys.messages import Button, FormField, Link, Message, Outgoing
from journeys.progress import week_label
from journeys.relative import day_words, starts_phrase
from journeys.state import (
    CardChange,
    EnrollmentState,
    MtmState,
    Person,
    PromptState,
)
from journeys.text import typed
from journeys.timekeeping import (
    calendar_for,
    event_date,
    first_name,
    format_day,
    local_date,
    tz_of,
)

COACH_CHECK = "~coach-check"  # suffix of the manager's follow-up prompt after choosing Coach


KIND_TITLES = {
    "message": "",
    "question": "Quick question",
    "mtm_plan": "Plan a moment that matters",
    "mtm_follow_up": "How did your moment go?",
    "manager_task": "A task for you as a manager",
    "manager_request": "Support request",
    "survey": "Survey",
}


def recipient_of(step: Step, enrollment: EnrollmentState) -> Person | None:
    return enrollment.manager if step_recipient(step) == "manager" else enrollment.person


def prompt_title(journey: Journey, p: PromptState) -> str:
    """The short name people see for a prompt in status lists and digests."""
    if p.step_id.endswith(COACH_CHECK):
        return "coaching follow-up"
    if day_of.is_day_of(p.step_id):
        return "your plan on the morning of your moment"  # listed ahead: not "today"
    if p.step_id == CLOSE_STEP:
        return "end of the journey"
    step = journey.step(p.step_id)
    return step.title or KIND_TITLES[step.kind] or step.id


_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
_MTM_PLACEHOLDERS = frozenset({"mtm_date", "behaviour", "practice", "situation"})
# A text split at its placeholders: literal, name, literal, name, ..., literal. Step texts are a
# journey's few fixed strings, asked for every due prompt: each is split once per process.
_PIECES: dict[str, tuple[str, ...]] = {}


def _pieces(text: str) -> tuple[str, ...]:
    hit = _PIECES.get(text)
    if hit is None:
        if len(_PIECES) >= 4096:
            _PIECES.clear()
        hit = _PIECES[text] = tuple(_PLACEHOLDER.split(text))
    return hit


def fill(text: str, journey: Journey, enrollment: EnrollmentState, mtm: MtmState | None,
         reader: Person | None = None, today: date | None = None) -> str:
    """Replace {name}, {manager}, {journey}, {mtm_date}, {behaviour}, {situation}, {event_<id>},
    and {starts}: how the start stands on `today`, the reader's day (journeys/relative.py).

    Only the placeholders the text has are worked out (a calendar or a name costs per due
    prompt); an unknown one, or one with no value here, stays as written."""
    pieces = _pieces(text)
    if len(pieces) == 1:
        return text
    out = [pieces[0]]
    seen: dict[str, str | None] = {}
    for i in range(1, len(pieces), 2):
        name = pieces[i]
        if name not in seen:
            seen[name] = _value(name, journey, enrollment, mtm, reader, today)
        value = seen[name]
        if value is not None and today is not None and (name == "mtm_date" or name.startswith("event_")):
            value = _day_as_read(value, out, today)
        out.append("{" + name + "}" if value is None else value)
        out.append(pieces[i + 1])
    return "".join(out)


def _day_as_read(value: str, out: list[str], today: date) -> str:
    """A date placeholder that falls on the reader's today or tomorrow says so ("on {event_x}"
    becomes "tomorrow, Wed 31 Mar"); `out` is the text so far, its "on " dropped."""
    for d in (today, today + timedelta(days=1)):
        if value == format_day(d):
            if out[-1].endswith(" on "):
                out[-1] = out[-1][:-3]
            return day_words(d, today)
    return value


def _value(name: str, journey: Journey, enrollment: EnrollmentState, mtm: MtmState | None,
           reader: Person | None, today: date | None) -> str | None:
    """One placeholder's text (None: no value, the placeholder stays)."""
    if name == "name":
        return first_name(enrollment.person)
    if name == "manager":
        return first_name(enrollment.manager)
    if name == "journey":
        return journey.title
    if name == "start":
        return format_day(enrollment.start)
    if name == "agreed":
        return expectations.agreed_text(enrollment)
    if name == "starts":
        if today is None:
            return None
        return starts_phrase(enrollment.start, today, calendar_for(journey, reader or enrollment.person))
    if name.startswith("event_"):
        found = None  # two ids written alike: the later one with a date wins
        for ev in journey.events:
            if f"event_{ev.id.replace('-', '_')}" == name:
                d = event_date(journey, enrollment, ev.id)
                if d is not None:
                    found = format_day(d)
        return found
    if mtm is None or name not in _MTM_PLACEHOLDERS:
        return None
    if name == "mtm_date":
        return format_day(mtm.when)
    if name == "behaviour":
        return journey.behaviour_text(mtm.behaviour)
    if name == "practice":
        return "safe practice" if mtm.practice == "safe" else "a real moment"
    private = reader is not None and reader.id != enrollment.person.id and not mtm.share_plan
    return "(details kept private)" if private else typed(mtm.situation)


def has_card(journey: Journey, prompt: PromptState) -> bool:
    """Whether `render_prompt` can draw this prompt: not the closing prompt (it is sent as a plain
    message) nor a step the journey file no longer has."""
    return (prompt.step_id.endswith(COACH_CHECK) or day_of.is_day_of(prompt.step_id)
            or journey.has_step(prompt.step_id))


def render_prompt(journey: Journey, enrollment: EnrollmentState, prompt: PromptState, mtm: MtmState | None,
                  *, closed: bool = False, note: str = "", reminder: bool = False,
                  now: datetime | None = None) -> Message:
    """A prompt's card as its reader sees it on the day it is sent (`now`; else its send or due
    time): the week label and date-relative words are computed for that day."""
    if prompt.step_id.endswith(COACH_CHECK):
        return _coach_check_message(journey, enrollment, prompt, mtm, now)
    if day_of.is_day_of(prompt.step_id):
        return day_of.message(journey, enrollment, prompt, mtm)
    step = journey.step(prompt.step_id)
    parts = _by_identity(_CARDS, journey, step, _card_of)
    reader = (enrollment.manager if parts.audience == "manager" else enrollment.person) or enrollment.person
    today = local_date(now or prompt.sent_at or prompt.due_at, tz_of(journey, reader))
    text = fill(step.text, journey, enrollment, mtm, reader, today)
    if isinstance(step, ManagerRequestStep) and mtm is not None:
        text += "\n\n" + _mtm_summary(journey, enrollment, mtm, reader, today)
    text += expectations.card_section(journey, enrollment, step)
    text += endorsement.welcome_section(journey, enrollment, step)
    if reminder:
        text = "Friendly reminder: " + text[0].lower() + text[1:] if text else text
    body_closed = closed or prompt.status in ("answered", "done", "expired", "cancelled")
    if body_closed and note:
        text = f"{text}\n\n{note}"
    week = week_label(journey, enrollment.start, today)
    about = f" about {typed(enrollment.person.name)}" if parts.audience == "manager" else ""
    return Message(
        recipient_id=reader.id,
        text=text,
        title=parts.title,
        journey_title=journey.title,
        prompt_id=prompt.id,
        buttons=() if body_closed else parts.buttons,
        fields=() if body_closed else parts.fields,
        form_label="" if body_closed else parts.form_label,
        links=parts.links,
        context=f"{journey.title}{about} · {week}",
        closed=body_closed,
        audience=parts.audience,
    )


@dataclass(frozen=True)
class _Card:
    """What a step's open card has whoever reads it, worked out once per step (by identity of the
    frozen definitions): the tick renders it for every due prompt."""

    title: str
    audience: Literal["participant", "manager"]
    fields: tuple[FormField, ...]
    buttons: tuple[Button, ...]
    form_label: str  # the button that opens the form, where one is needed
    links: tuple[Link, ...]


_CARDS: dict[tuple[int, int], tuple[Any, Any, Any]] = {}


def _card_of(journey: Journey, step: Step) -> _Card:
    fields = fields_for(journey, step)
    buttons = buttons_for(step, fields)
    return _Card(
        title=step.title or KIND_TITLES[step.kind],
        audience=step_recipient(step),
        fields=fields,
        buttons=buttons,
        form_label="" if not fields or (buttons and step.kind != "manager_task") else _form_label(step),
        links=tuple(Link(link.label, link.url) for link in step.links),
    )


def _form_label(step: Step) -> str:
    return {
        "mtm_plan": "Plan my moment",
        "mtm_follow_up": "Reflect",
        "survey": "Answer the survey",
        "question": "Answer",
        "manager_task": "Record what we agreed",
    }.get(step.kind, "Answer")


def practice_words(journey: Journey, mtm: MtmState, own: bool = False) -> str:
    """How real the moment is; when the person chose otherwise than their plan step suggested (a
    real moment in the "safe practice" step), said as their choice, so the card does not contradict
    its own title."""
    words = "safe practice" if mtm.practice == "safe" else "a real, harder moment"
    step = journey.step(mtm.plan_step_id) if journey.has_step(mtm.plan_step_id) else None
    suggested = getattr(step, "practice", None)
    if suggested in ("safe", "real") and suggested != mtm.practice:
        return (f"{words} ({'your' if own else 'their'} choice; this step suggested "
                f"{'safe practice' if suggested == 'safe' else 'a real moment'})")
    return words


def _mtm_summary(journey: Journey, enrollment: EnrollmentState, mtm: MtmState, reader: Person, today: date) -> str:
    lines = [
        f"*When:* {day_words(mtm.when, today)}",
        f"*Behaviour:* {journey.behaviour_text(mtm.behaviour)}",
        f"*Practice:* {practice_words(journey, mtm, reader.id == enrollment.person.id)}",
    ]
    if mtm.share_plan or reader.id == enrollment.person.id:
        lines.insert(0, f"*Moment:* {typed(mtm.situation)}")
    else:
        lines.insert(0, f"*Moment:* {first_name(enrollment.person)} chose to keep the details private.")
    return "\n".join(lines)


def _coach_check_message(journey: Journey, enrollment: EnrollmentState, prompt: PromptState,
                         mtm: MtmState | None, now: datetime | None) -> Message:
    name = first_name(enrollment.person)
    manager = enrollment.manager or enrollment.person
    today = local_date(now or prompt.sent_at or prompt.due_at, tz_of(journey, manager))
    when = f" for {day_words(mtm.when, today)}" if mtm else ""
    return Message(
        recipient_id=manager.id,
        title="Coaching follow-up",
        text=(f"{name} planned their moment that matters{when}. A two-minute check-in this week "
              f"makes the practice stick: ask what they tried, what happened, and what they'll do next time."),
        journey_title=journey.title,
        prompt_id=prompt.id,
        context=f"{journey.title} about {typed(enrollment.person.name)}",
        audience="manager",
        closed=True,
    )


def _update_of(journey: Journey, prompt: PromptState, message: Message) -> Outgoing | None:
    """The answered card, closed in place: the reply to the person's own action, so it goes at once."""
    if prompt.last_delivery_key is None:
        return None
    return Outgoing(f"{prompt.last_delivery_key}:u{prompt.deliveries}", message, replaces_key=prompt.last_delivery_key,
                    journey_id=journey.id, at_once=True)


def closed_card(journey: Journey, enrollment: EnrollmentState, prompt: PromptState, mtm: MtmState | None,
                note: str) -> CardChange | None:
    """The prompt's card, closed in place with a note (None: it was never sent)."""
    msg = render_prompt(journey, enrollment, prompt.with_(status="answered"), mtm, closed=True, note=note)
    upd = _update_of(journey, prompt, msg)
    return CardChange(upd) if upd is not None else None


def live(journey: Journey, enrollment: EnrollmentState, prompt: PromptState) -> bool:
    """Whether the prompt may still go out or be answered: an active enrollment's, or the
    follow-up survey of a completed one (it comes weeks after the end)."""
    if enrollment.status == "active":
        return True
    if enrollment.status != "completed":
        return False
    try:
        return is_follow_up_survey(journey.step(prompt.step_id))
    except KeyError:  # a prompt of no journey step (the coach check) belongs to the journey's weeks
        return False
