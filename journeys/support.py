"""Support requests that end: they expire at the moment's date, and a manager can say "can't".

A request that has lost its point is never sent or repeated: at the moment's date (`expires_at`) it
expires, the manager's card closes, and the participant hears, kindly, that
nobody answered, with the journey's fallback (`manager_support.fallback`). A manager who can't
back a moment says so with a reason; the reason is an event (`manager_cant`) the evaluation counts
as a barrier, never free text.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta

from journeys import day_of, rendering, timekeeping
from journeys.definition import CANT_REASONS, Journey, ManagerRequestStep
from journeys.messages import Button, Message, Outgoing, Reply
from journeys.relative import day_words, is_relative, on_day
from journeys.state import EnrollmentState, JourneyEvent, MtmState, Outcome, PromptState

CANT = "cant"
_REASONS = dict(CANT_REASONS)


def expires_at(journey: Journey, enrollment: EnrollmentState, mtm: MtmState) -> datetime:
    """When a request has lost its point: the start of the moment's day in the participant's zone,
    so they hear on its morning; for a moment on their day off, an hour before the end of their
    last working day before it, so they still hear in time. A moment planned after that keeps
    its request until the end of the moment's day."""
    person = enrollment.person
    cal, tz = timekeeping.calendar_for(journey, person), timekeeping.tz_of(journey, person)
    ends = datetime.combine(mtm.when, time(0), tz)
    if not cal.is_working_day(mtm.when):
        last = cal.add_working_days(mtm.when, -1)
        ends = max(datetime.combine(last, cal.day_end, tz) - timedelta(hours=1),
                   datetime.combine(last, cal.day_start, tz))
    if mtm.planned_at is not None and mtm.planned_at >= ends:
        ends = datetime.combine(mtm.when + timedelta(days=1), time(0), tz)
    return ends.astimezone(UTC)


def fallback_text(journey: Journey) -> str:
    """The journey's fallback, as the participant reads it."""
    fb = journey.manager_support.fallback
    lines = {
        "peer": "• Talk it through with a colleague you trust: two minutes on your first sentence is plenty.",
        "coach": f"• Ask the L&D coach for a quick word: {fb.coach_contact}",
        "on_your_own": "• Or simply go ahead on your own: your plan is good enough to try.",
    }
    return "\n".join(lines[o] for o in fb.offer)


def expiry_pending(journey: Journey, enrollment: EnrollmentState, mtm: MtmState, now: datetime) -> bool:
    """The moment's support request, unanswered, was due to expire by `now` and the participant
    has not heard of it yet: after a worker was down, the expiry and the day-of nudge are due in
    the same pass, and the expiry's notice is the one that carries the nudge's words."""
    return (enrollment.manager is not None and mtm.manager_response is None
            and not day_of.was_noticed(enrollment, mtm)
            and any(isinstance(s, ManagerRequestStep) and s.for_mtm == mtm.plan_step_id for s in journey.steps)
            and expires_at(journey, enrollment, mtm) <= now)


def _participant_notice(journey: Journey, enrollment: EnrollmentState, prompt: PromptState, mtm: MtmState,
                        opening: Callable[[str], str], key: str, now: datetime,
                        due: datetime | None = None) -> Outcome:
    """`opening`: the first sentence, given how the moment's day reads ("today, Tue 5 Jan", "on
    Tue 5 Jan") on the day the notice reaches the participant. `due`: when it was due (`carried`)."""
    follow = any(s.kind == "mtm_follow_up" and getattr(s, "for_mtm", None) == mtm.plan_step_id
                 for s in journey.steps)
    read = timekeeping.read_on(journey, enrollment.person, now)
    out = Outcome()
    if day_of.carried(journey, enrollment, mtm, now, due):
        # it reaches them on the moment's morning, with the day-of nudge: one message says both
        text = "\n".join([*day_of.plan_lines(journey, enrollment, mtm), "",
                          f"{opening('today')} That's OK, and your plan still stands:", fallback_text(journey), "",
                          f"{day_of.CLUMSY} {day_of.AFTERWARDS}" if follow else day_of.CLUMSY])
        title = day_of.TITLE
        out.enrollments.append(day_of.told(enrollment, mtm))
    else:
        day = on_day(mtm.when, read)
        text = (f"{opening(day)} That's OK, and your plan still stands:\n{fallback_text(journey)}"
                + ("\n\nI'll check in with you afterwards, as planned." if follow else ""))
        title = f"Your moment {day.split(',')[0]}"
        out.enrollments.append(day_of.noticed(enrollment, mtm))
    message = Message(recipient_id=enrollment.person.id, title=title,
                      text=text, journey_title=journey.title, context=journey.title)
    out.outgoing.append(timekeeping.notice(journey, enrollment.person, f"{prompt.id}:{key}", message, now,
                                           enrollment.id, read if is_relative(mtm.when, read) else None))
    return out


def expire_request(journey: Journey, enrollment: EnrollmentState, prompt: PromptState, mtm: MtmState,
                   now: datetime) -> Outcome:
    """The moment's day has come and the manager never answered: close it, tell the participant."""
    out = Outcome(prompts=[prompt.with_(status="expired", next_at=None)])
    out.events.append(JourneyEvent("expired", enrollment.id, now, prompt.id,
                                   {"step": prompt.step_id, "kind": "manager_request", "why": "moment_date"}))
    day = timekeeping.format_day(mtm.when)
    out.card = rendering.closed_card(journey, enrollment, prompt, mtm, f"⌛ Closed: the moment was on {day}.")
    if prompt.status == "open" and enrollment.manager is not None:  # the manager saw it: tell them, once
        out.outgoing.append(_manager_notice(journey, enrollment, prompt, mtm, now))
    manager = timekeeping.first_name(enrollment.manager)
    opening: Callable[[str], str] = (
        (lambda d: f"{manager} didn't get to your support request before your moment {d}.")
        if prompt.status == "open" else  # never sent: the manager's working hours came too late
        (lambda d: f"Your support request couldn't reach {manager} in their working hours before your moment {d}."))
    out.extend(_participant_notice(journey, enrollment, prompt, mtm, opening, "expired", now,
                                   expires_at(journey, enrollment, mtm)))
    return out


def _manager_notice(journey: Journey, enrollment: EnrollmentState, prompt: PromptState, mtm: MtmState,
                    now: datetime) -> Outgoing:
    """The manager hears, in their working hours, that the request closed: the moment's day as it
    reads on the day it reaches them ("is today", "is tomorrow" for a manager in a zone behind),
    and never later than that day, when those words would be false."""
    manager = enrollment.manager
    assert manager is not None
    p = timekeeping.first_name(enrollment.person)
    read = timekeeping.read_on(journey, manager, now)
    words = day_words(mtm.when, read)
    if is_relative(mtm.when, read):
        title, is_on = f"{p}'s moment is {words.split(',')[0]}", f"is {words}"
    elif mtm.when > read:  # a moment on a day off: the request closes on the working day before
        title, is_on = f"{p}'s moment on {words}", f"is on {words}"
    else:  # a manager in a zone far ahead: their day after it
        title, is_on = f"{p}'s moment has come", f"was on {words}"
    return timekeeping.notice(journey, manager, f"{prompt.id}:expired-manager", Message(
        recipient_id=manager.id, title=title,
        text=(f"{p}'s moment that matters {is_on}, so the request to back it has closed. "
              f"A two-minute “how did it go?” with {p} afterwards still counts."),
        journey_title=journey.title, context=f"{journey.title} about {timekeeping.typed_name(enrollment.person)}",
        audience="manager"), now, enrollment.id, read if is_relative(mtm.when, read) else None)


def _reason_of(reply: Reply, prompt: PromptState) -> tuple[bool, str | None]:
    """(is this a "can't this time" answer, its reason if given)."""
    button = reply.button or ""
    raw = reply.values.get("reason")
    reason = str(raw) if isinstance(raw, str) and raw else None
    if button == CANT:
        return True, reason
    if button.startswith(CANT + ":"):
        return True, button.split(":", 1)[1]
    if reason is not None and not button:
        return True, reason
    text = (reply.text or "").strip().lower().rstrip(".!")
    if not text or button or text in ("approve", "coach"):  # a change of mind goes to the engine
        return False, None
    if prompt.answers.get("awaiting") == "reason":
        for i, (value, label) in enumerate(CANT_REASONS, 1):
            if text in (str(i), value, label.lower()) or (len(text) >= 3 and label.lower().startswith(text)):
                return True, value
        return True, None
    if text.replace("’", "'") in ("can't", "cant", "can't this time", "cant this time", "can't do it"):
        return True, None
    return False, None


def cant_this_time(journey: Journey, enrollment: EnrollmentState, prompt: PromptState, step: ManagerRequestStep,
                   mtm: MtmState | None, reply: Reply, now: datetime) -> Outcome | None:
    """The manager can't back this moment: ask why (a choice), then close it and tell the participant.

    None when the reply is not a "can't this time" answer (the engine handles Approve / Coach)."""
    cant, reason = _reason_of(reply, prompt)
    if not cant:
        return None
    out = Outcome()
    manager = enrollment.manager
    assert manager is not None
    name = timekeeping.first_name(enrollment.person)
    if reason not in _REASONS:
        out.prompts.append(prompt.with_(answers={**prompt.answers, "awaiting": "reason"}))
        numbered = "; ".join(f"{i}. {label}" for i, (_, label) in enumerate(CANT_REASONS, 1))
        out.replies.append(Message(
            recipient_id=manager.id, title="Can't this time", prompt_id=prompt.id, journey_title=journey.title,
            text=(f"Understood. What gets in the way? It helps L&D fix the system around {name}, and "
                  f"{name} will be offered other support. Reply with: {numbered}"),
            buttons=tuple(Button(label, f"{CANT}:{value}") for value, label in CANT_REASONS),
            audience="manager"))
        return out
    answered = prompt.with_(status="answered", answers={"choice": CANT, "reason": reason}, answered_at=now,
                            next_at=None)
    out.prompts.append(answered)
    data = {"step": step.id, "kind": step.kind, "choice": CANT, "reason": reason, "mtm": mtm.id if mtm else None,
            "response_s": int((now - (prompt.sent_at or now)).total_seconds())}
    out.events.append(JourneyEvent("answered", enrollment.id, now, prompt.id, data))
    out.events.append(JourneyEvent("manager_cant", enrollment.id, now, prompt.id, dict(data)))
    tz = timekeeping.tz_of(journey, manager)
    note = f"🚫 Can't this time: {_REASONS[reason].lower()} ({timekeeping.format_local(now, tz)})"
    out.card = rendering.closed_card(journey, enrollment, prompt, mtm, note)
    if mtm is not None:
        who = timekeeping.first_name(manager)
        out.extend(_participant_notice(journey, enrollment, prompt, mtm,
                                       lambda d: f"{who} can't back your moment {d} this time.", "cant", now))
    out.replies.append(Message(recipient_id=manager.id, journey_title=journey.title,
                               text=f"Thanks for saying so. I've let {name} know and offered other support."))
    return out

