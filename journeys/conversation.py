"""What a person can type to the bot, and where typed answers go.

A person may be in several journeys and also a manager; typed text goes to the prompt it replies
to, else to the only open prompt, else the bot asks which (`journeys/routing.py`); the reply
names what was saved, and in which journey.
"""

from __future__ import annotations

from datetime import datetime

from journeys import engine, rendering, timekeeping, typed_barriers
from journeys.definition import Journey
from journeys.forms import fields_for, next_field, parse_day
from journeys.messages import Message, Reply
from journeys.person_view import PersonView
from journeys.progress import progress_of, week_label
from journeys.relative import day_words, time_words
from journeys.routing import candidates, route_typed, strip_number
from journeys.state import Outcome, PromptState
from journeys.text import typed

HELP = (
    "I'm your learning-journey coach. You can type:\n"
    "• `status` — where you are, what's next, your moments that matter\n"
    "• `snooze` — hold open prompts until the next working morning (or `snooze friday`, "
    "`snooze 2026-12-03`, `snooze week`)\n"
    "• `pause` / `resume` — hold everything (e.g. while on leave) and pick up where you left off\n"
    "• `stop` — leave the journey (I'll ask you to confirm, and why if you like)\n"
    "• `help` — this message\n"
    "To answer a question, use its buttons, or reply to it (in its thread on Slack, with Reply on "
    "Teams) with your answer."
)

MANAGER_HELP = (
    "I help you support your team members in their learning journeys. You can type:\n"
    "• `status` — your reports, where they are, and what's waiting for you\n"
    "• `snooze` — hold what's waiting for you until the next working morning (or `snooze friday`)\n"
    "• `help` — this message\n"
    "Use the buttons on each card; to answer by typing, reply to the card (in its thread on Slack, "
    "with Reply on Teams)."
)


# How to answer by typing, for the platform the person uses (the texts above name both).
_BOTH = "(in its thread on Slack, with Reply on Teams)"
_REPLY_HOW = {"slack": "(in its thread)", "teams": "(with Reply)"}


def help_text(view: PersonView) -> str:
    """Role-appropriate help: a manager who is in no journey themselves is not offered `stop`;
    how to reply is said for the platform the person uses."""
    text = HELP if view.own_enrollments() or not view.managed() else MANAGER_HELP
    return text.replace(_BOTH, _REPLY_HOW.get(view.platform, _BOTH))


def _msg(view: PersonView, text: str, title: str = "") -> Message:
    return Message(recipient_id=view.person.id, text=text, title=title)


def handle_text(view: PersonView, reply: Reply, now: datetime) -> Outcome:
    text = (reply.text or "").strip()
    word, _, rest = text.partition(" ")
    command = word.lower().strip("!./")
    if reply.prompt_id is None:
        if command in ("help", "hi", "hello", "?") and not rest:
            return Outcome(replies=[_msg(view, help_text(view), "How I can help")])
        if command == "status" and not rest:
            return Outcome(replies=[status_message(view, now)])
        if command == "snooze":
            return _snooze(view, rest, now)
        if command == "stop" and not rest:
            return typed_barriers.confirm_stop(view)
        if command == "stop" and rest.lower().split()[0].strip(".!,:") in ("yes", "confirm"):
            return typed_barriers.stop_confirmed(view, rest.split(None, 1)[1] if " " in rest.strip() else "", now)
        if command in ("pause", "resume") and not rest:
            return _lifecycle(view, command, now)
        if text.lower().rstrip(".!") == engine.PLAN_NOW:
            return _plan_now(view, now)
        if text.lower().rstrip(".!") in typed_barriers.TALK and view.own_enrollments():
            return typed_barriers.talk_to_manager(view, now)
        kind = typed_barriers.barrier_kind(text)
        if kind is not None and view.own_enrollments() and not _answers_in_words(view):
            return typed_barriers.barrier(view, kind, now)
    if reply.prompt_id is not None:
        target = next((p for p in view.prompts if p.id == reply.prompt_id), None)
        text = strip_number(text, len(view.open_prompts()))
    else:
        routed = route_typed(view.open_prompts(), text)
        if routed.ask:
            return Outcome(replies=[which_prompt(view, routed.ask)])
        target, text = routed.prompt, routed.text
        waiting = tuple(candidates(view.open_prompts()))
        if text.isdigit() and len(waiting) > 1 and _free_text_next(view, target):
            return Outcome(replies=[which_prompt(view, waiting)])  # a number is no answer to "in a sentence or two"
    if target is None:
        if not view.own_enrollments() and not view.open_prompts():
            return Outcome(replies=[_msg(view, "You're not in a learning journey at the moment. If you "
                                             "expected one, ask your L&D team. Type `help` to see what I can do.")])
        return Outcome(replies=[_msg(view, "There's no open question for you right now, so I didn't save "
                                         "that. Type `status` to see what's next, or `help`.")])
    enrollment = view.enrollment(target.enrollment_id)
    journey = view.journeys[enrollment.journey_id]
    mtm = view.mtms.get(target.mtm_id) if target.mtm_id else None
    out = engine.answer(journey, enrollment, target, mtm, Reply(view.person.id, reply.key, target.id, text=text), now)
    several = len({p.enrollment_id for p in view.open_prompts()}) > 1
    if several and out.replies:
        first = out.replies[0]
        out.replies[0] = Message(recipient_id=first.recipient_id, text=f"({journey.title}) {first.text}",
                                 title=first.title, journey_title=first.journey_title)
    return out


def _plan_now(view: PersonView, now: datetime) -> Outcome:
    """Bring the next "plan a moment" forward to now (offered after a moment that didn't happen)."""
    for e in view.own_enrollments():
        journey = view.journeys[e.journey_id]
        plans = sorted((p for p in view.prompts if p.enrollment_id == e.id and p.status == "scheduled"
                        and p.step_id in {s.id for s in journey.steps if s.kind == "mtm_plan"}), key=lambda p: p.due_at)
        if e.status == "active" and plans:
            return Outcome(prompts=[plans[0].with_(due_at=now, next_at=now)],
                           replies=[_msg(view, f"Here it comes: “{rendering.prompt_title(journey, plans[0])}”.")])
    return Outcome(replies=[_msg(view, "There's no moment left to plan in your journey. Type `status` to see "
                                       "what's next.")])


def _answers_in_words(view: PersonView) -> bool:
    """Whether typed words would answer the one open question (a free-text field is being filled):
    then "no time" may be the answer itself, not a barrier."""
    return _free_text_next(view, route_typed(view.open_prompts(), "").prompt)


def _free_text_next(view: PersonView, p: PromptState | None) -> bool:
    if p is None:
        return False
    journey = view.journeys[view.enrollment(p.enrollment_id).journey_id]
    try:
        step = journey.step(p.step_id)
    except KeyError:  # a prompt of no journey step (the coach check) asks nothing
        return False
    f = next_field(fields_for(journey, step), p.answers)
    return f is not None and f.kind in ("text", "long_text")


def which_prompt(view: PersonView, open_prompts: tuple[PromptState, ...]) -> Message:
    """Several prompts are open and the text replied to none of them: ask, never guess."""
    journeys = {view.enrollment(p.enrollment_id).journey_id for p in open_prompts}
    lines = []
    for i, p in enumerate(open_prompts, 1):
        e = view.enrollment(p.enrollment_id)
        journey = view.journeys[e.journey_id]
        about = f" about {typed(e.person.name)}" if e.person.id != view.person.id else ""
        where = f" ({journey.title})" if len(journeys) > 1 else ""
        lines.append(f"{i}. {rendering.prompt_title(journey, p)}{about}{where}")
    return _msg(view, f"You have {len(open_prompts)} open questions, so I didn't save that yet. Which one is "
                      "it for? Reply to that question (in its thread on Slack, with Reply on Teams), or send "
                      "your answer again starting with its number, e.g. `1: your answer`.\n" + "\n".join(lines),
                "Which question is that for?")


def _snooze(view: PersonView, rest: str, now: datetime) -> Outcome:
    open_prompts = view.open_prompts()
    if not open_prompts:
        return Outcome(replies=[_msg(view, "Nothing is waiting for you, so there's nothing to snooze.")])
    first = view.enrollment(open_prompts[0].enrollment_id)
    journey = view.journeys[first.journey_id]
    cal = timekeeping.calendar_for(journey, view.person)
    tz = timekeeping.tz_of(journey, view.person)
    today = timekeeping.local_date(now, tz)
    arg = rest.strip().lower().removeprefix("until ").removeprefix("for ").strip()
    if arg in ("week", "a week", "1 week", "one week"):
        until = cal.local_slot(cal.add_working_days(today, 5), cal.day_start, tz)
    elif arg:
        day = parse_day(arg, today)
        if day is None or day <= today:
            return Outcome(replies=[_msg(view, f"I couldn't read {rest.strip()!r} as a future day. Try "
                                             "`snooze`, `snooze friday` or `snooze 2026-12-03`.")])
        until = cal.local_slot(day, cal.day_start, tz)
    else:
        until = cal.next_working_morning(now, tz)
    out = Outcome()
    for p in open_prompts:
        e = view.enrollment(p.enrollment_id)
        out.extend(engine.snooze(view.journeys[e.journey_id], e, [p], until, now))
    n = len(open_prompts)
    out.replies.append(_msg(view, f"Snoozed {n} prompt{'s' if n > 1 else ''} until "
                                  f"{time_words(until, tz, today, zone=True)}."))
    return out


def _lifecycle(view: PersonView, command: str, now: datetime) -> Outcome:
    out = Outcome()
    own = view.own_enrollments()
    touched = []
    for e in own:
        prompts = [p for p in view.prompts if p.enrollment_id == e.id]
        journey = view.journeys[e.journey_id]
        if command == "pause" and e.status == "active":
            out.extend(engine.pause(e, prompts, now))
            touched.append(journey.title)
        elif command == "resume" and e.status == "paused":
            out.extend(engine.resume(journey, e, prompts, now))
            touched.append(journey.title)
        elif command == "stop" and e.status in ("active", "paused"):
            out.extend(engine.stop(e, prompts, now))
            touched.append(journey.title)
    names = ", ".join(touched)
    if not touched:
        state = {"pause": "active", "resume": "paused", "stop": "running"}[command]
        out.replies.append(_msg(view, f"You have no {state} journey to {command}. Type `status` to see where you are."))
    elif command == "pause":
        out.replies.append(_msg(view, f"Paused: {names}. I'll hold everything until you type `resume`."))
    elif command == "resume":
        out.replies.append(_msg(view, f"Welcome back! Resumed: {names}. I've moved what was still to come "
                                      "by the time you were away."))
    else:
        out.replies.append(_msg(view, f"You've left: {names}. I won't send anything more about it. "
                                      "If that was a mistake, ask your L&D team to enroll you again."))
    return out


def status_message(view: PersonView, now: datetime) -> Message:
    facts: list[tuple[str, str]] = []
    lines: list[str] = []
    for e in view.own_enrollments():
        journey = view.journeys[e.journey_id]
        tz = timekeeping.tz_of(journey, view.person)
        prompts = [p for p in view.prompts if p.enrollment_id == e.id and p.recipient_id == view.person.id]
        today = timekeeping.local_date(now, tz)  # days are named as read now ("tomorrow, Tue 8 Dec")
        week = week_label(journey, e.start, today)
        progress = progress_of(journey, view.person.id, prompts).own_text()
        lines.append(f"*{journey.title}* — {e.status}, {week}, {progress}")
        open_now = [p for p in prompts if p.status == "open"]
        for p in open_now:
            lines.append(f"  • waiting for you: {rendering.prompt_title(journey, p)}")
        upcoming = sorted((p for p in prompts if p.status == "scheduled"), key=lambda p: p.due_at)
        if upcoming and e.status == "active":
            nxt = upcoming[0]
            lines.append(f"  • next: {rendering.prompt_title(journey, nxt)} — {time_words(nxt.due_at, tz, today, zone=True)}")
        for m in view.mtms.values():
            if m.enrollment_id == e.id:
                mgr = {"approved": ", approved by your manager", "coach": ", your manager is coaching you"}.get(
                    m.manager_response or "", "")
                lines.append(f"  • moment that matters: {day_words(m.when, today)} — {typed(m.situation[:80])} "
                             f"({m.status}{mgr})")
    managed = view.managed()
    if managed:
        lines.append("*Your reports*")
        for e in managed:
            journey = view.journeys[e.journey_id]
            waiting = [p for p in view.prompts if p.enrollment_id == e.id and p.status == "open"
                       and p.recipient_id == view.person.id]
            extra = f", {len(waiting)} waiting for you" if waiting else ""
            lines.append(f"  • {typed(e.person.name)} — {journey.title} ({e.status}{extra})")
    if not lines:
        lines.append("You're not in a learning journey at the moment.")
    return Message(recipient_id=view.person.id, title="Your learning journeys", text="\n".join(lines),
                   facts=tuple(facts))




def pending_field_label(journey: Journey, p: PromptState) -> str | None:
    f = next_field(fields_for(journey, journey.step(p.step_id)), p.answers)
    return f.label if f else None
