"""One escalation message per recipient per day, naming each person it is about.

A manager with five reports who all go quiet would otherwise hear "X may be stuck" five times,
at five different minutes; a senior leader over three managers would get a separate notice for
each report's unanswered card. Two things keep it to one message a day:

* escalations fire only at the recipient's working morning (`morning_of`): of the day they fall
  due (an escalation counts whole working days), else the next. Everything due for one recipient
  on a day goes at the same instant, so one scheduler pass holds it all (a participant's "may be
  stuck" at their manager's morning, a manager's unanswered task or request at their own
  manager's morning);
* `group_escalations` merges what one pass sends one recipient into one message: a line per report
  (with their current step, the latest one that escalated) or per manager and task.

Pure: the tick calls `group_escalations` on the outcome of one pass before saving it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from journeys.definition import Journey, ManagerTaskStep, Step
from journeys.manager_card import names_text
from journeys.messages import Message, Outgoing
from journeys.rendering import KIND_TITLES
from journeys.state import EnrollmentState, JourneyEvent, Outcome, Person, PromptState
from journeys.stuck import stuck_after, waiting_since
from journeys.text import typed
from journeys.timekeeping import calendar_for, first_name, format_day, local_date, notice, tz_of
from journeys.wording import plural

STUCK = ":esc"  # a participant's prompt, escalated to their manager
LEADER = ":leader"  # a manager's prompt, escalated to the manager's own manager
_UNBLOCK = "A short, supportive conversation usually unblocks it: ask what got in the way and agree a next step."


def morning_slot(journey: Journey, person: Person, at: datetime) -> datetime:
    """The start of `person`'s first working day at or after `at`: the one instant of a day at
    which escalations to them go out."""
    cal, tz = calendar_for(journey, person), tz_of(journey, person)
    day = local_date(at, tz)
    slot = cal.local_slot(day, cal.day_start, tz)
    return slot if slot >= at else cal.local_slot(cal.add_working_days(day, 1), cal.day_start, tz)


def morning_of(journey: Journey, person: Person, at: datetime, not_before: datetime, counted_for: Person) -> datetime:
    """The start of `person`'s working day on which `at` falls (an escalation counts whole working
    days, so it goes at the morning of the day it falls due); the next working morning when that
    day is not a working day or its morning is before `not_before`, or before the day has begun
    for `counted_for`, whose working days the wait is counted in (never an early escalation)."""
    cal, tz = calendar_for(journey, person), tz_of(journey, person)
    own_cal, own_tz = calendar_for(journey, counted_for), tz_of(journey, counted_for)
    not_before = max(not_before, own_cal.local_slot(local_date(at, own_tz), own_cal.day_start, own_tz))
    slot = cal.local_slot(local_date(at, tz), cal.day_start, tz)
    return slot if slot >= not_before else morning_slot(journey, person, not_before)


def stuck_notice_due(step: Step, enrollment: EnrollmentState, prompt: PromptState) -> bool:
    """A participant's open prompt has used its reminders and now goes to their manager."""
    return (prompt.status == "open" and step.reminders is not None and step.escalate_to == "manager"
            and prompt.reminders_sent >= step.reminders.max and not prompt.escalated
            and enrollment.manager is not None)


def _step_title(journey: Journey, prompt: PromptState) -> str:
    step = journey.step(prompt.step_id)
    return step.title or KIND_TITLES[step.kind] or step.id


def _waited(journey: Journey, enrollment: EnrollmentState, prompt: PromptState, now: datetime) -> int:
    cal, tz = calendar_for(journey, enrollment.person), tz_of(journey, enrollment.person)
    return cal.working_days_between(local_date(prompt.sent_at or prompt.due_at, tz), local_date(now, tz))


@dataclass(frozen=True)
class Still:
    """A report the manager was already told of, silent since: the silence's first unanswered
    prompt and how many of theirs are waiting now."""

    since: PromptState
    waiting: int


def will_tell_manager(journey: Journey, enrollment: EnrollmentState, prompt: PromptState, now: datetime) -> bool:
    """Whether firing `prompt` now may tell the participant's manager they are stuck: the tick then
    reads the enrollment's other prompts (`still_silent`)."""
    return (prompt.next_at is not None and prompt.next_at <= now and journey.has_step(prompt.step_id)
            and stuck_notice_due(journey.step(prompt.step_id), enrollment, prompt))


def still_silent(enrollment: EnrollmentState, prompt: PromptState, history: list[PromptState]) -> Still | None:
    """None when this is the first escalation of the participant's silence (the stretch since their
    last answer); else what the manager has not heard yet: since when, and how much waits."""
    own = [p for p in history if p.recipient_id == enrollment.person.id and p.id != prompt.id] + [prompt]
    last = max((p.answered_at for p in own if p.answered_at is not None), default=None)
    silence = [p for p in own if p.sent_at is not None and p.status in ("open", "expired")
               and (last is None or p.sent_at > last)]
    if not any(p.escalated for p in silence if p.id != prompt.id):
        return None
    began = min(silence, key=lambda p: (p.sent_at or p.due_at, p.id))
    return Still(began, sum(1 for p in silence if p.status == "open"))


def _still_words(journey: Journey, enrollment: EnrollmentState, prompt: PromptState, still: Still,
                 now: datetime) -> str:
    """"since Mon 14 Dec (12 working days): 3 items waiting, now also “…”": said once."""
    since = waiting_since(journey, enrollment.person, still.since, now, stuck_after(journey))
    also = "" if still.since.id == prompt.id else f", now also “{_step_title(journey, prompt)}”"
    return f"{since}: {plural(still.waiting, 'item')} waiting{also}"


def tell_manager(journey: Journey, enrollment: EnrollmentState, prompt: PromptState,
                 capped: Callable[[datetime | None], datetime | None], now: datetime) -> Outcome:
    """The participant may be stuck: their manager hears of it at the manager's next working
    morning (`capped` keeps the wait within the prompt's close)."""
    out = Outcome()
    manager = enrollment.manager
    assert manager is not None
    # the last reminder set it at a working morning of the manager's (engine._fire); else the next one
    slot = morning_slot(journey, manager, prompt.next_at or now)
    if slot != prompt.next_at:
        out.prompts.append(prompt.with_(next_at=capped(slot)))
        return out
    name = typed(enrollment.person.name)
    message = Message(
        recipient_id=manager.id,
        title=f"{first_name(enrollment.person)} may be stuck",
        text=(f"{name} has not responded to “{_step_title(journey, prompt)}” in {journey.title} for "
              f"{plural(_waited(journey, enrollment, prompt, now), 'working day')}, after "
              f"{plural(prompt.reminders_sent, 'reminder')}. {_UNBLOCK}"),
        journey_title=journey.title,
        context=f"{journey.title} about {name}",
        audience="manager",
    )
    out.outgoing.append(notice(journey, manager, f"{prompt.id}{STUCK}", message, now, enrollment.id))
    out.prompts.append(prompt.with_(escalated=True, next_at=capped(None)))  # only the close is left
    out.events.append(JourneyEvent("escalated", enrollment.id, now, prompt.id, {"step": prompt.step_id}))
    return out


Item = tuple[Outgoing, PromptState, EnrollmentState, Journey]


def group_escalations(library: dict[str, Journey], enrollments: dict[str, EnrollmentState], out: Outcome,
                      now: datetime, history: dict[str, list[PromptState]] | None = None) -> None:
    """Merge the escalations one pass sends one recipient into one message. `history`: the
    other prompts of enrollments whose participant may be escalated (`will_tell_manager`), so a
    later escalation in one silence says since when instead of starting over."""
    prompts = {p.id: p for p in out.prompts}
    groups: dict[tuple[str, str], list[Item]] = {}
    stills: dict[str, Still] = {}
    for i, o in enumerate(out.outgoing):
        suffix = next((s for s in (STUCK, LEADER) if o.delivery_key.endswith(s)), None)
        p = prompts.get(o.delivery_key[:-len(suffix)]) if suffix is not None else None
        e = enrollments.get(p.enrollment_id) if p is not None else None
        journey = library.get(e.journey_id) if e is not None else None
        if suffix is None or p is None or e is None or journey is None or o.replaces_key is not None:
            continue
        still = still_silent(e, p, history.get(e.id, [])) if suffix == STUCK and history else None
        if still is not None:
            stills[p.id] = still
            o = out.outgoing[i] = replace(o, message=_still_message(o.message, journey, e, p, still, now))
        groups.setdefault((o.message.recipient_id, suffix), []).append((o, p, e, journey))
    for (_, suffix), items in groups.items():
        if len(items) < 2:
            continue
        items.sort(key=lambda it: (it[2].person.name.lower(), it[1].id))
        first = items[0][0]
        message = (_stuck_message(first.message, items, now, stills) if suffix == STUCK
                   else _leader_message(first.message, items))
        waits = [o.not_before_iso for o, *_ in items if o.not_before_iso]
        merged = replace(first, message=message, enrollment_id=None,
                         not_before_iso=min(waits) if waits else None)
        keys = {o.delivery_key for o, *_ in items}
        out.outgoing = [merged if o is first else o for o in out.outgoing if o is first or o.delivery_key not in keys]


def _journeys_named(items: list[Item]) -> bool:
    return len({j.id for *_, j in items}) > 1


def _still_message(base: Message, journey: Journey, enrollment: EnrollmentState, prompt: PromptState,
                   still: Still, now: datetime) -> Message:
    """A later escalation in one silence: what is new (since when, how much waits), not the
    first message again."""
    first = first_name(enrollment.person)
    return replace(base, title=f"Still no answer from {first}", text=(
        f"Still no answer from {first} {_still_words(journey, enrollment, prompt, still, now)} in {journey.title}, "
        f"after {plural(prompt.reminders_sent, 'reminder')}. "
        "If you have not had that check-in yet, it still helps most: ask what got in the way and agree a next step."))


def _stuck_message(base: Message, items: list[Item], now: datetime, stills: dict[str, Still]) -> Message:
    """One line per report: their current step (the latest that escalated), how long it waited;
    for a report the manager was already told of, since when and how much waits."""
    latest: dict[str, Item] = {}
    for it in items:
        held = latest.get(it[2].id)
        if held is None or (it[1].sent_at or it[1].due_at) >= (held[1].sent_at or held[1].due_at):
            latest[it[2].id] = it
    mixed = _journeys_named(items)
    lines = []
    for _, p, e, journey in sorted(latest.values(), key=lambda it: it[2].person.name.lower()):
        where = f" in {journey.title}" if mixed else ""
        still = _still_of(stills, e, [it for it in items if it[2].id == e.id])
        if still is not None:
            lines.append(f"• *{typed(e.person.name)}*{where}: still no answer {_still_words(journey, e, p, still, now)}")
            continue
        lines.append(f"• *{typed(e.person.name)}*: no response to “{_step_title(journey, p)}”{where} for "
                     f"{plural(_waited(journey, e, p, now), 'working day')}, after {plural(p.reminders_sent, 'reminder')}")
    people = [first_name(it[2].person) for it in sorted(latest.values(), key=lambda it: it[2].person.name.lower())]
    journey = items[0][3]
    course = "" if mixed else f" in {journey.title}"
    told = all(_still_of(stills, it[2], [it]) is not None for it in latest.values())
    return replace(
        base, title=f"Still no answer from {names_text(people)}" if told else f"{names_text(people)} may be stuck",
        text=(f"{plural(len(lines), 'person', 'people')} in your team have not responded{course} after "
              f"the reminders:\n" + "\n".join(lines) + f"\n\n{_UNBLOCK} One conversation each is enough."),
        journey_title="" if mixed else journey.title,
        context=f"{'' if mixed else journey.title + ' '}about {names_text([typed(it[2].person.name) for it in latest.values()])}",
    )


def _still_of(stills: dict[str, Still], enrollment: EnrollmentState, items: list[Item]) -> Still | None:
    """The report's silence as already told, from any of their items escalated in this pass."""
    return next((stills[p.id] for _, p, e, _ in items if e.id == enrollment.id and p.id in stills), None)


def _leader_message(base: Message, items: list[Item]) -> Message:
    """One line per manager and unanswered item, with when it was asked; one manager's same task
    for several reports is one line naming each of them."""
    grouped: dict[tuple[str, str, str], list[Item]] = {}
    for it in sorted(items, key=lambda it: (first_name(it[2].manager), it[1].sent_at or it[1].due_at,
                                            it[2].person.name.lower())):
        _, p, e, journey = it
        asked = format_day(local_date(p.sent_at or p.due_at, tz_of(journey, e.manager))) if e.manager else ""
        task = isinstance(journey.step(p.step_id), ManagerTaskStep)
        grouped.setdefault((first_name(e.manager), p.step_id if task else p.id, asked), []).append(it)
    lines, managers = [], []
    for (manager, _, asked), group in grouped.items():
        o, p, _, journey = group[0]
        where = f" in {journey.title}" if _journeys_named(items) else ""
        what = o.message.title if len(group) == 1 else (
            f"{manager} hasn't done “{_step_title(journey, p)}” for "
            + names_text([first_name(e.person) for _, _, e, _ in group]))
        lines.append(f"• {what}{where} (asked {asked})")
        if manager not in managers:
            managers.append(manager)
    mixed = _journeys_named(items)
    journey = items[0][3]
    return replace(
        base, title=f"Waiting on {names_text(managers)}: {plural(len(items), 'item')}",
        text=("Still unanswered after the reminders:\n"
              + "\n".join(lines)
              + "\n\nA word from you helps: ask them to act on each, so their people know where they stand. "
                "People whose manager supports them before and during the journey apply far more of what they learn."),
        journey_title="" if mixed else journey.title,
        context=f"{'' if mixed else journey.title + ' · '}{names_text(managers)} "
                f"{'reports' if len(managers) == 1 else 'report'} to you · sent once each; "
                "nothing their people wrote is shared",
    )
