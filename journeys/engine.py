"""The journey engine: given stored state, an event and `now`, decide what changes and what to send.

Pure: no clock, no database, no platform. `scheduler/` calls `fire` for due prompts and `bot/`
calls `answer` for replies; both persist the returned `Outcome` in one transaction.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any, Literal

# escalation, expectations and support use the engine's helpers: a cycle resolved at call time
from journeys import before_phase, day_of, escalation, escalation_groups, expectations, support
from journeys.definition import (
    Journey,
    ManagerRequestStep,
    ManagerTaskStep,
    MessageStep,
    MtmFollowUpStep,
    MtmPlanStep,
    QuestionStep,
    Step,
    SurveyStep,
    step_recipient,
)
from journeys.ending import CLOSE_STEP
from journeys.forms import (
    AnswerError,
    buttons_for,
    check_values,
    describe_answer,
    fields_for,
    missing_fields,
    next_field,
    parse_typed,
)
from journeys.messages import Button, Message, Outgoing, Reply
from journeys.mtm_dates import mtm_answer_problem
from journeys.mtm_plan import situation_of
from journeys.next_moments import is_loop_step
from journeys.progress import AFTER_THE_END, week_label
from journeys.relative import day_words, on_day, time_words
from journeys.rendering import (
    COACH_CHECK,
    _update_of,
    closed_card,
    fill,
    live,
    prompt_title,
    recipient_of,
    render_prompt,
)
from journeys.reread import DAY, ON, dated
from journeys.state import (
    CardChange,
    EnrollmentState,
    JourneyEvent,
    MtmState,
    Outcome,
    Person,
    PromptState,
    mtm_id,
    prompt_id,
)
from journeys.text import typed
from journeys.timekeeping import (
    _is_open,
    after_working_days,
    after_working_days_in,
    calendar_for,
    due_time,
    first_name,
    format_day,
    format_local,
    local_date,
    notice,
    read_on,
    tz_of,
)
from journeys.wording import plural, saved_text

# --- time helpers -------------------------------------------------------------------------


# --- enrollment ---------------------------------------------------------------------------


def schedule_enrollment(journey: Journey, enrollment: EnrollmentState, now: datetime) -> Outcome:
    """Create the prompts whose time is known at enrollment (MTM steps wait for their plan)."""
    out = Outcome(enrollments=[enrollment])
    for step in journey.steps:
        if isinstance(step, (MtmFollowUpStep, ManagerRequestStep)):
            continue
        recipient = recipient_of(step, enrollment)
        if recipient is None:
            continue  # no manager: manager steps are left out, the participant still gets theirs
        due = due_time(journey, enrollment, step, recipient)
        if due is None:
            continue
        out.prompts.append(
            PromptState(
                id=prompt_id(enrollment.id, step.id),
                enrollment_id=enrollment.id,
                step_id=step.id,
                recipient_id=recipient.id,
                status="scheduled",
                due_at=due,
                next_at=due,
            )
        )
    out.prompts = before_phase.after_preparation(journey, enrollment, out.prompts)  # zones apart: card after
    out.prompts = before_phase.compress(journey, enrollment, out.prompts, now)  # a late enrollment: spaced
    out.events.append(JourneyEvent("enrolled", enrollment.id, now, data={"start": enrollment.start.isoformat()}))
    return out


# --- rendering ----------------------------------------------------------------------------


# --- firing due prompts -------------------------------------------------------------------


def _delivery(journey: Journey, prompt: PromptState, message: Message, stale_at: datetime | None = None,
              **changes: Any) -> tuple[PromptState, Outgoing]:
    """The next delivery of a prompt; `changes` are applied in the same copy (one copy per fire)."""
    n = prompt.deliveries + 1
    key = f"{prompt.id}:{n}"
    # one topic per prompt: a reminder queued while the card itself still waits (an outage, the
    # reader's hours) replaces it, so nobody gets a card and its reminder in the same minute
    out = Outgoing(key, message, stale_at_iso=stale_at.isoformat() if stale_at else None, journey_id=journey.id,
                   topic=f"prompt:{prompt.id}")
    return prompt.with_(deliveries=n, last_delivery_key=key, **changes), out


def fire(journey: Journey, enrollment: EnrollmentState, prompt: PromptState, mtm: MtmState | None,
         now: datetime) -> Outcome:
    """A prompt's `next_at` has come: send it, remind, escalate, expire, or wait for working hours
    (a manager's prompt also escalates to their manager and expires with its moment: escalation.py)."""
    return escalation.around_fire(journey, enrollment, prompt, mtm, now, _fire)


def _past_its_point(journey: Journey, enrollment: EnrollmentState, step: Step, today: date) -> bool:
    """After the journey's end only the survey, a moment's reflection and the closing may still
    ask; any other reminder or "may be stuck" notice has lost its point."""
    if isinstance(step, (SurveyStep, MtmFollowUpStep)) or is_loop_step(step.id):
        return False
    return week_label(journey, enrollment.start, today) == AFTER_THE_END


def _fire(journey: Journey, enrollment: EnrollmentState, prompt: PromptState, mtm: MtmState | None,
          now: datetime) -> Outcome:
    out = Outcome()
    if prompt.next_at is None or prompt.next_at > now or prompt.step_id == CLOSE_STEP:
        return out  # nothing is due yet (the closing prompt: journeys/lifecycle.py fire_close)
    if not live(journey, enrollment, prompt) or prompt.status not in ("scheduled", "open"):
        out.prompts.append(prompt.with_(next_at=None))
        return out
    on_the_day = day_of.is_day_of(prompt.step_id)
    synthetic = prompt.step_id.endswith(COACH_CHECK) or on_the_day
    step = None if synthetic else journey.step(prompt.step_id)
    recipient = (enrollment.manager if (synthetic and not on_the_day) or (step and step_recipient(step) == "manager")
                 else enrollment.person)
    if recipient is None:
        out.prompts.append(prompt.with_(status="cancelled", next_at=None))
        return out
    # the recipient's calendar and zone, once: every time below is worked out in them
    cal = calendar_for(journey, recipient)
    tz = tz_of(journey, recipient)
    close = (before_phase.close_in(step, enrollment.start, cal, tz, prompt.sent_at or prompt.due_at)
             if step is not None else None)
    if close is not None and now >= close:  # "before the start" has lost its point
        out.prompts.append(prompt.with_(status="expired", next_at=None))
        out.events.append(JourneyEvent("expired", enrollment.id, now, prompt.id,
                                       {"step": prompt.step_id, "why": "started"}))
        if prompt.status == "open":
            out.card = closed_card(journey, enrollment, prompt, mtm, before_phase.started_note(enrollment, recipient))
        return out
    if step is not None and escalation_groups.stuck_notice_due(step, enrollment, prompt):
        # the manager hears at their working morning, whatever the participant's hours
        if _past_its_point(journey, enrollment, step, local_date(now, tz)):
            out.prompts.append(prompt.with_(next_at=close))
            return out
        return escalation_groups.tell_manager(journey, enrollment, prompt,
                                              lambda at: before_phase.capped(at, close), now)
    if on_the_day and (mtm is None or mtm.status not in ("planned", "postponed") or local_date(now, tz) > mtm.when
                       or day_of.moved_away(journey, enrollment, prompt, mtm) or day_of.already_told(enrollment, mtm)):
        # the day has passed, it's moved, or its words went in the morning's notice (support.py)
        out.prompts.append(prompt.with_(status="expired", next_at=None))
        return out
    if on_the_day and mtm is not None and not prompt.answers.get("waited") \
            and support.expiry_pending(journey, enrollment, mtm, now):
        # a late pass (worker down overnight) has the request's expiry due too: its notice carries
        # these words, so the nudge waits a minute for it, whichever of the two the pass takes first
        out.prompts.append(prompt.with_(next_at=now + timedelta(minutes=1), answers={"waited": True}))
        return out
    if not _is_open(cal, tz, now):
        out.prompts.append(prompt.with_(next_at=before_phase.capped(cal.next_open(now, tz), close)))
        return out

    if prompt.status == "scheduled":
        stale_at = (after_working_days_in(cal, tz, prompt.due_at, step.stale_after + 1)
                    if step is not None and step.stale_after is not None else None)
        if stale_at is not None and now >= stale_at:
            out.prompts.append(prompt.with_(status="expired", next_at=None))
            out.events.append(JourneyEvent("expired", enrollment.id, now, prompt.id, {"step": prompt.step_id}))
            return out
        message = render_prompt(journey, enrollment, prompt, mtm, now=now)
        one_way = synthetic or isinstance(step, MessageStep)
        next_at = None
        if not one_way and step is not None and step.reminders is not None:
            next_at = after_working_days_in(cal, tz, now, step.reminders.after)
        if not one_way:
            next_at = before_phase.capped(next_at, before_phase.close_in(step, enrollment.start, cal, tz, now)
                                          if step is not None else None)
        updated, outgoing = _delivery(journey, prompt, message, stale_at, status="done" if one_way else "open", sent_at=now,
                                      next_at=next_at)
        out.outgoing.append(outgoing)
        out.prompts.append(updated)
        out.events.append(JourneyEvent("sent", enrollment.id, now, prompt.id, {"step": prompt.step_id}))
        if step is not None and expectations.is_agreement_step(journey, step):  # later shares come as a note
            out.enrollments.append(replace(enrollment, notes={**enrollment.notes, expectations.CARD_SENT: True}))
        return out

    # open: a reminder or an escalation is due
    assert step is not None
    reminders = step.reminders
    if reminders is None or _past_its_point(journey, enrollment, step, local_date(now, tz)):
        out.prompts.append(prompt.with_(next_at=close))
        return out
    if prompt.reminders_sent < reminders.max:
        message = render_prompt(journey, enrollment, prompt, mtm, reminder=True, now=now)
        sent = prompt.reminders_sent + 1
        more = sent < reminders.max or (step.escalate_to is not None and not prompt.escalated)
        next_at = after_working_days_in(cal, tz, now, reminders.after) if more else None
        if next_at is not None and sent >= reminders.max and enrollment.manager is not None:
            # the manager hears next, at their working morning (journeys/escalation_groups.py)
            next_at = escalation_groups.morning_of(journey, enrollment.manager, next_at, now, recipient)
        updated, outgoing = _delivery(journey, prompt, message, reminders_sent=sent,
                                      next_at=before_phase.capped(next_at, close))
        out.outgoing.append(outgoing)
        out.prompts.append(updated)
        out.events.append(JourneyEvent("reminded", enrollment.id, now, prompt.id, {"n": sent}))
        return out
    out.prompts.append(prompt.with_(next_at=close))
    return out


# --- answers ------------------------------------------------------------------------------


def _reply(person: str, text: str, journey: Journey | None = None, title: str = "") -> Message:
    return Message(recipient_id=person, text=text, title=title, journey_title=journey.title if journey else "")


def _already_answered(journey: Journey, enrollment: EnrollmentState, prompt: PromptState, reply: Reply,
                      now: datetime) -> str:
    """When they answered, as the reader lives it at the reply: "today, Mon 7 Dec, 10:00 (…)" the
    same day (a double click), "yesterday, …" the day after, the date alone before that."""
    tz = tz_of(journey, _person(enrollment, reply.person_id))
    at = prompt.answered_at or prompt.sent_at or now
    today = local_date(now, tz)
    words = time_words(at, tz, today, zone=True)
    if local_date(at, tz) == today - timedelta(days=1):
        words = f"yesterday, {words}"
    elif not words.startswith("today"):
        words = f"on {words}"
    return f"You already answered this {words}. Nothing was changed."


def answer(journey: Journey, enrollment: EnrollmentState, prompt: PromptState, mtm: MtmState | None,
           reply: Reply, now: datetime) -> Outcome:
    """Apply a button press, form submission or typed text to one prompt."""
    out = Outcome()
    if reply.person_id != prompt.recipient_id:
        out.replies.append(_reply(reply.person_id, "Sorry, this button was sent to someone else, so it "
                                  "can't act for you. Nothing was changed."))
        return out
    if prompt.step_id.endswith(COACH_CHECK) or day_of.is_day_of(prompt.step_id):
        out.replies.append(_reply(reply.person_id, "Nothing to answer here; thanks for following up!", journey))
        return out
    if not journey.has_step(prompt.step_id):
        # the closing prompt (never sent with buttons) or a step the journey file no longer has:
        # only a forged or very old button reaches here, and it must not end in a traceback
        out.replies.append(_reply(reply.person_id, "There's nothing to answer on this message, so nothing "
                                  "was changed. Type `status` to see what's open.", journey))
        return out
    if prompt.status in ("answered", "done"):
        out.replies.append(_reply(reply.person_id, _already_answered(journey, enrollment, prompt, reply, now), journey))
        return out
    if (prompt.status in ("expired", "cancelled") or enrollment.status in ("stopped", "unenrolled")
            or (enrollment.status == "completed" and not live(journey, enrollment, prompt))):
        out.replies.append(_reply(reply.person_id, "This prompt has closed, so your answer wasn't recorded. "
                                  "Type `status` to see what's open.", journey))
        return out
    step = journey.step(prompt.step_id)
    person = _person(enrollment, reply.person_id)
    tz = tz_of(journey, person)
    today = local_date(now, tz)
    fields = fields_for(journey, step)

    if isinstance(step, (ManagerTaskStep, ManagerRequestStep)):
        special = (expectations.on_manager_answer(journey, enrollment, prompt, step, reply, now,
                                                     lambda: mark_task_done(journey, enrollment, prompt, step, now))
                   if isinstance(step, ManagerTaskStep)
                   else support.cant_this_time(journey, enrollment, prompt, step, mtm, reply, now))
        if special is not None:
            return special
        choice = reply.button
        if choice is None and reply.text:
            choice = _match_button(buttons_for(step, fields), reply.text)
        if choice is None:
            labels = " / ".join(b.label for b in buttons_for(step, fields))
            out.replies.append(_reply(reply.person_id, f"Please choose: {labels}.", journey))
            return out
        if isinstance(step, ManagerTaskStep):
            return _manager_task(journey, enrollment, prompt, step, choice, now, out)
        return _manager_request(journey, enrollment, prompt, step, mtm, choice, now, out)

    values = dict(prompt.answers)
    from_text = reply.text is not None and reply.button is None and not reply.values
    try:
        if reply.button is not None:
            if len(fields) != 1:
                raise AnswerError("That button doesn't belong to this prompt.")
            values.update(check_values(fields, {fields[0].id: reply.button}, today))
        elif reply.values:
            from journeys.partial_answers import ask_again, check_partly  # it builds on this module

            good, bad = check_partly(journey, enrollment, step, fields, dict(reply.values), today)
            if bad:
                # optional fields the form left empty count as skipped, so a typed answer fills the bad one
                wrong = {f.id for f, _ in bad}
                skipped = {f.id: None for f in fields if not f.required and f.id not in good and f.id not in wrong}
                out.prompts.append(prompt.with_(answers={**skipped, **values, **good}))
                out.replies.append(_reply(reply.person_id, ask_again(bad), journey))
                return out
            values.update(good)
        elif from_text:
            f = next_field(fields, values)
            if f is None:
                raise AnswerError("This prompt has everything it needs.")
            values[f.id] = parse_typed(f, reply.text or "", today)
    except AnswerError as exc:
        out.replies.append(_reply(reply.person_id, f"{exc}. Nothing was saved yet.", journey))
        return out
    values = {k: v for k, v in values.items() if v is not None or from_text}
    still = missing_fields(fields, {k: v for k, v in values.items()})
    pending = next_field(fields, values) if from_text else None

    problem = mtm_answer_problem(journey, enrollment, step, values, today, finished=not (still or pending))
    if problem:
        out.replies.append(_reply(reply.person_id, f"{problem}. Nothing was saved yet.", journey))
        return out
    if still or pending is not None:
        out.prompts.append(prompt.with_(answers=values))
        nxt = pending or still[0]
        if from_text:
            opts = ""
            if nxt.options:
                opts = " " + "; ".join(f"{i}. {o.label}" for i, o in enumerate(nxt.options, 1))
            skip = "" if nxt.required else " (or `skip`)"
            out.replies.append(_reply(reply.person_id, f"Got it. Next: {nxt.label}{opts}{skip}", journey))
        else:
            names = ", ".join(f"'{f.label}'" for f in still)
            out.replies.append(_reply(reply.person_id, f"Please also fill in {names}. Nothing was saved yet.", journey))
            out.prompts.clear()
        return out
    clean = {k: v for k, v in values.items() if v is not None}
    return _complete(journey, enrollment, prompt, step, mtm, clean, now, out)


def _person(enrollment: EnrollmentState, person_id: str) -> Person:
    if enrollment.manager is not None and enrollment.manager.id == person_id:
        return enrollment.manager
    return enrollment.person


def _match_button(buttons: tuple[Button, ...], text: str) -> str | None:
    t = text.strip().lower().rstrip(".!")
    for b in buttons:
        if t in (b.value, b.label.lower()) or (len(t) >= 3 and b.label.lower().startswith(t)):
            return b.value
    return None


def mark_task_done(journey: Journey, enrollment: EnrollmentState, prompt: PromptState, step: ManagerTaskStep,
                   now: datetime) -> Outcome:
    return _manager_task(journey, enrollment, prompt, step, "done", now, Outcome())


def _close(journey: Journey, enrollment: EnrollmentState, prompt: PromptState, mtm: MtmState | None,
           note: str, out: Outcome) -> None:
    msg = render_prompt(journey, enrollment, prompt.with_(status="answered"), mtm, closed=True, note=note)
    upd = _update_of(journey, prompt, msg)
    # a prompt shown only on a grouped card (journeys/manager_card.py) has no message of its own
    out.card = CardChange(upd) if upd is not None else None


def _complete(journey: Journey, enrollment: EnrollmentState, prompt: PromptState, step: Step,
              mtm: MtmState | None, values: dict[str, Any], now: datetime, out: Outcome) -> Outcome:
    fields = fields_for(journey, step)
    summary = describe_answer(fields, values)
    answered = prompt.with_(status="answered", answers=values, answered_at=now, next_at=None)
    data: dict[str, Any] = {"step": step.id, "kind": step.kind,
                            "response_s": int((now - (prompt.sent_at or now)).total_seconds())}
    if isinstance(step, MtmPlanStep):
        return _plan_mtm(journey, enrollment, answered, step, values, now, out, data, summary)
    if isinstance(step, MtmFollowUpStep):
        return _follow_up(journey, enrollment, answered, step, mtm, values, now, out, data, summary)
    if isinstance(step, SurveyStep) and step.evaluation in ("success_case", "follow_up"):
        for q in step.questions:
            if q.role == "scm_classification":
                data["classification"] = values.get(q.id)
            elif q.role == "scm_barriers":
                data["barriers"] = values.get(q.id, [])
            elif q.role == "scm_contact":
                data["contact"] = values.get(q.id) == "yes"
            elif q.role == "scm_outcome" and values.get(q.id):
                data["outcome"] = values.get(q.id)  # the PPP outcome the success story moved
        kind = "scm_classified" if step.evaluation == "success_case" else "scm_follow_up"  # journeys/evaluation/followup.py
        out.events.append(JourneyEvent(kind, enrollment.id, now, prompt.id, dict(data)))
    if isinstance(step, QuestionStep):
        expectations.after_participant_answer(journey, enrollment, step, values, now, out)
    if isinstance(step, (QuestionStep, SurveyStep)):
        for f in fields:
            if f.kind in ("choice", "rating", "multi_choice") and f.id in values:
                data.setdefault("choices", {})[f.id] = values[f.id]
    out.prompts.append(answered)
    out.events.append(JourneyEvent("answered", enrollment.id, now, prompt.id, data))
    _close(journey, enrollment, answered, mtm, f"✅ {summary}" if summary else "✅ Answered", out)
    out.replies.append(_reply(prompt.recipient_id, saved_text(step), journey))
    return out


def _plan_mtm(journey: Journey, enrollment: EnrollmentState, answered: PromptState, step: MtmPlanStep,
              values: dict[str, Any], now: datetime, out: Outcome, data: dict[str, Any], summary: str) -> Outcome:
    mtm = MtmState(
        id=mtm_id(enrollment.id, step.id),
        enrollment_id=enrollment.id,
        plan_step_id=step.id,
        practice=str(values.get("practice", step.practice)),
        situation=situation_of(journey, values) or "",
        when=date.fromisoformat(str(values["date"])),
        behaviour=str(values["behaviour"]),
        share_plan=values.get("share") == "yes",
        planned_at=now,
    )
    out.mtms.append(mtm)
    out.prompts.append(answered)
    follow_ups = [s for s in journey.steps if isinstance(s, MtmFollowUpStep) and s.for_mtm == step.id]
    for s in follow_ups:
        due = due_time(journey, enrollment, s, enrollment.person, mtm.when)
        if due is not None:
            out.prompts.append(PromptState(prompt_id(enrollment.id, s.id), enrollment.id, s.id,
                                           enrollment.person.id, "scheduled", due, due, mtm_id=mtm.id))
    requests = [r for r in journey.steps if isinstance(r, ManagerRequestStep) and r.for_mtm == step.id]
    manager = enrollment.manager
    for r in requests:
        if manager is not None:
            out.prompts.append(PromptState(prompt_id(enrollment.id, r.id), enrollment.id, r.id, manager.id,
                                           "scheduled", now, now, mtm_id=mtm.id))
    out.prompts.extend(day_of.schedule(journey, enrollment, step, mtm, now))  # the nudge on the morning
    data.update(mtm=mtm.id, practice=mtm.practice, behaviour=mtm.behaviour, mtm_date=mtm.when.isoformat())
    out.events.append(JourneyEvent("answered", enrollment.id, now, answered.id, dict(data)))
    out.events.append(JourneyEvent("mtm_planned", enrollment.id, now, answered.id, dict(data)))
    _close(journey, enrollment, answered, mtm, f"✅ {summary}", out)
    followup = " I'll check in with you after it." if follow_ups else ""
    asked = f" I've asked {first_name(manager)} for support." if manager and requests else ""
    if manager is not None and requests:
        asked += _lead_time_warning(journey, manager, mtm, now)
    told = day_words(mtm.when, local_date(now, tz_of(journey, enrollment.person)))
    out.replies.append(_reply(enrollment.person.id, f"Your moment is planned for {told}."
                                                    f"{asked}{followup}", journey))
    return out


def _lead_time_warning(journey: Journey, manager: Person, mtm: MtmState, now: datetime) -> str:
    """The request reaches the manager in their hours; with less than the journey's lead time
    (`manager_support.request_lead_days` working days) before the moment, say they may not see it."""
    cal, tz = calendar_for(journey, manager), tz_of(journey, manager)
    arrives = now if cal.is_open(now, tz) else cal.next_open(now, tz)
    lead = journey.manager_support.request_lead_days
    if lead <= 0 or cal.working_days_between(local_date(arrives, tz), mtm.when) > lead:
        return ""
    return (f" {first_name(manager)} may not see it in time: it reaches them {format_local(arrives, tz)}, "
            f"less than {plural(lead, 'working day')} before your moment, so don't wait for an answer.")


def _follow_up(journey: Journey, enrollment: EnrollmentState, answered: PromptState, step: MtmFollowUpStep,
               mtm: MtmState | None, values: dict[str, Any], now: datetime, out: Outcome, data: dict[str, Any],
               summary: str) -> Outcome:
    happened = str(values.get("happened"))
    if happened == "postponed" and mtm is not None:
        new_day = date.fromisoformat(str(values["new_date"]))
        moved = replace(mtm, when=new_day, status="postponed")
        due = due_time(journey, enrollment, step, enrollment.person, new_day) or now
        out.mtms.append(moved)
        out.prompts.append(answered.with_(status="scheduled", answers={}, answered_at=None, due_at=due,
                                          next_at=due, reminders_sent=0))
        out.events.append(JourneyEvent("mtm_postponed", enrollment.id, now, answered.id, {"mtm": mtm.id}))
        plan = journey.step(mtm.plan_step_id)
        if isinstance(plan, MtmPlanStep):  # the morning nudge moves with it
            out.prompts.extend(day_of.schedule(journey, enrollment, plan, moved, now, moved=True))
        _close(journey, enrollment, answered, mtm, f"⏭ Moved to {format_day(new_day)}", out)
        out.replies.append(_reply(enrollment.person.id, f"No problem. I'll check in again after {format_day(new_day)}.", journey))
        return out
    share = values.get("share") == "yes"
    reflection = str(values.get("reflection", ""))
    rating = int(values["rating"]) if "rating" in values else None
    if mtm is not None:
        mtm = replace(mtm, status="happened" if happened == "yes" else "not_happened", reflection=reflection,
                      rating=rating, share_reflection=share)
        out.mtms.append(mtm)
    out.prompts.append(answered)
    data.update(mtm=mtm.id if mtm else None, happened=happened, rating=rating, shared=share)
    out.events.append(JourneyEvent("answered", enrollment.id, now, answered.id, dict(data)))
    out.events.append(JourneyEvent("mtm_followed_up", enrollment.id, now, answered.id, dict(data)))
    _close(journey, enrollment, answered, mtm, f"✅ {summary}", out)
    if share and enrollment.manager is not None and mtm is not None:
        name = first_name(enrollment.person)
        out.outgoing.append(notice(journey, enrollment.manager, f"{answered.id}:shared", Message(
            recipient_id=enrollment.manager.id,
            title=f"{name} shared a reflection",
            text=(f"{name} reflected on their moment that matters ({format_day(mtm.when)}, "
                  f"{journey.behaviour_text(mtm.behaviour)}):\n\n“{typed(reflection)}”\n\n"
                  + ("Recognise the effort, and ask what they'll try next." if happened == "yes" else
                     "It didn't come off this time: ask what got in the way, and help them find the next one.")),
            journey_title=journey.title,
            context=f"{journey.title} about {typed(enrollment.person.name)} · shared by {name}",
            audience="manager",
        ), now))
    shared = f" I've shared it with {first_name(enrollment.manager)}." if share and enrollment.manager else ""
    of = f" on your moment of {format_day(mtm.when)}" if mtm is not None else ""
    again = _plan_again(journey, enrollment, mtm, now) if happened == "no" else ""
    out.replies.append(_reply(enrollment.person.id, f"Saved your reflection{of}. Thank you.{shared}{again}", journey))
    return out


PLAN_NOW = "plan now"


def _plan_again(journey: Journey, enrollment: EnrollmentState, mtm: MtmState | None, now: datetime) -> str:
    """A moment that didn't happen: offer the next one (the journey's next plan step, sooner if wanted)."""
    steps = list(journey.steps)
    after = steps[steps.index(journey.step(mtm.plan_step_id)) + 1:] if mtm is not None else []
    nxt = next((s for s in after if isinstance(s, MtmPlanStep)), None)
    due = due_time(journey, enrollment, nxt, enrollment.person) if nxt is not None else None
    if nxt is not None and due is not None and due > now:
        return (f"\n\nPlenty of planned moments don't come off; the next one can. “{nxt.title}” comes "
                f"{format_day(local_date(due, tz_of(journey, enrollment.person)))}: type `{PLAN_NOW}` to plan it today.")
    manager = f", and ask {first_name(enrollment.manager)} to help you find it" if enrollment.manager else ""
    return (f"\n\nPlenty of planned moments don't come off. Pick one small conversation in the next few "
            f"days to try the same habit{manager}.")


def _manager_task(journey: Journey, enrollment: EnrollmentState, prompt: PromptState, step: ManagerTaskStep,
                  choice: str, now: datetime, out: Outcome) -> Outcome:
    manager = enrollment.manager
    assert manager is not None
    if choice == "guide":
        out.replies.append(_reply(manager.id, fill(step.guide, journey, enrollment, None, manager), journey,
                                  title="A guide for this conversation"))
        out.events.append(JourneyEvent("guide_requested", enrollment.id, now, prompt.id, {"step": step.id}))
        return out
    if choice == "tomorrow":
        cal = calendar_for(journey, manager)
        tz = tz_of(journey, manager)
        later = cal.next_working_morning(now, tz)
        out.prompts.append(prompt.with_(next_at=later, reminders_sent=max(0, prompt.reminders_sent - 1)
                                        if prompt.reminders_sent else 0))
        out.replies.append(_reply(manager.id, f"OK, I'll remind you {format_local(later, tz)}.", journey))
        out.events.append(JourneyEvent("snoozed", enrollment.id, now, prompt.id, {"step": step.id}))
        return out
    if choice != "done":
        out.replies.append(_reply(manager.id, "That button doesn't belong to this prompt.", journey))
        return out
    answered = prompt.with_(status="answered", answers={"choice": "done"}, answered_at=now, next_at=None)
    out.prompts.append(answered)
    before_start = local_date(now, tz_of(journey, manager)) < enrollment.start
    out.events.append(JourneyEvent("answered", enrollment.id, now, prompt.id, {
        "step": step.id, "kind": step.kind, "choice": "done", "before_start": before_start,
        "response_s": int((now - (prompt.sent_at or now)).total_seconds())}))
    out.events.append(JourneyEvent("manager_task_done", enrollment.id, now, prompt.id,
                                   {"step": step.id, "before_start": before_start}))
    _close(journey, enrollment, answered, None, f"✅ Done ({format_local(now, tz_of(journey, manager))})", out)
    out.replies.append(_reply(manager.id, f"Marked “{prompt_title(journey, prompt)}” with "
                                          f"{first_name(enrollment.person)} as done.", journey))
    return out


def _manager_request(journey: Journey, enrollment: EnrollmentState, prompt: PromptState,
                     step: ManagerRequestStep, mtm: MtmState | None, choice: str, now: datetime,
                     out: Outcome) -> Outcome:
    manager = enrollment.manager
    assert manager is not None
    if choice not in ("approve", "coach"):
        out.replies.append(_reply(manager.id, "That button doesn't belong to this prompt.", journey))
        return out
    answered = prompt.with_(status="answered", answers={"choice": choice}, answered_at=now, next_at=None)
    out.prompts.append(answered)
    response: Literal["approved", "coach"] = "approved" if choice == "approve" else "coach"
    if mtm is not None:
        mtm = replace(mtm, manager_response=response, manager_responded_at=now)
        out.mtms.append(mtm)
    data = {"step": step.id, "kind": step.kind, "choice": choice, "mtm": mtm.id if mtm else None,
            "response_s": int((now - (prompt.sent_at or now)).total_seconds())}
    out.events.append(JourneyEvent("answered", enrollment.id, now, prompt.id, data))
    out.events.append(JourneyEvent(f"manager_{response}", enrollment.id, now, prompt.id, data))
    label = "Approved" if choice == "approve" else "Coaching"
    _close(journey, enrollment, answered, mtm, f"✅ {label} ({format_local(now, tz_of(journey, manager))})", out)
    mname = first_name(manager)
    read = read_on(journey, enrollment.person, now)  # the day it reaches them, in their hours
    when = f" for {day_words(mtm.when, read)}" if mtm else ""
    text = (f"{mname} approved your plan{when}. Go for it!" if choice == "approve"
            else f"{mname} would like to coach you before your moment{' ' + on_day(mtm.when, read) if mtm else ''}. "
                 "Expect a short chat; bring your plan and one question.")
    told = Message(recipient_id=enrollment.person.id, title="Your manager responded", text=text,
                   journey_title=journey.title, context=journey.title)
    if mtm is not None:  # it never expires: a late delivery says the day as read then (reread.py)
        told = dated(told, [(DAY if choice == "approve" else ON, mtm.when.isoformat())], read,
                     tz_of(journey, enrollment.person))
    out.outgoing.append(notice(journey, enrollment.person, f"{prompt.id}:notice", told, now))
    if choice == "coach":
        out.replies.append(_reply(manager.id, fill(step.coach_guide, journey, enrollment, mtm, manager), journey,
                                  title="Coaching guide"))
        if mtm is not None:
            cal = calendar_for(journey, manager)
            tz = tz_of(journey, manager)
            check_day = cal.add_working_days(mtm.when, 1)
            due = cal.local_slot(check_day, cal.day_start, tz)
            out.prompts.append(PromptState(prompt_id(enrollment.id, step.id + COACH_CHECK), enrollment.id,
                                           step.id + COACH_CHECK, manager.id, "scheduled", due, due, mtm_id=mtm.id))
    else:
        out.replies.append(_reply(manager.id, f"Thanks! I've let {first_name(enrollment.person)} know.", journey))
    return out


# --- snooze / pause / resume / stop -------------------------------------------------------


def snooze(journey: Journey, enrollment: EnrollmentState, prompts: list[PromptState], until: datetime,
           now: datetime) -> Outcome:
    """Hold open prompts until `until`: they come back as a fresh message then."""
    out = Outcome()
    for p in prompts:
        if p.status == "open":
            out.prompts.append(p.with_(status="scheduled", due_at=until, next_at=until))
            out.events.append(JourneyEvent("snoozed", enrollment.id, now, p.id, {"step": p.step_id}))
    return out


def pause(enrollment: EnrollmentState, prompts: list[PromptState], now: datetime) -> Outcome:
    out = Outcome(enrollments=[replace(enrollment, status="paused", paused_at=now)])
    out.prompts = [p.with_(next_at=None) for p in prompts if p.status in ("scheduled", "open")]
    out.cancel_pending_for.append(enrollment.id)
    out.events.append(JourneyEvent("paused", enrollment.id, now))
    return out


def resume(journey: Journey, enrollment: EnrollmentState, prompts: list[PromptState], now: datetime) -> Outcome:
    """Shift what was still to come by the working days spent paused, so nothing arrives in a burst."""
    cal = calendar_for(journey, enrollment.person)
    tz = tz_of(journey, enrollment.person)
    paused_at = enrollment.paused_at or now
    shift = cal.working_days_between(local_date(paused_at, tz), local_date(now, tz))
    out = Outcome(enrollments=[replace(enrollment, status="active", paused_at=None)])
    for p in prompts:
        if p.status == "scheduled":
            recipient = enrollment.manager if enrollment.manager and p.recipient_id == enrollment.manager.id \
                else enrollment.person
            rcal = calendar_for(journey, recipient)
            rtz = tz_of(journey, recipient)
            loc = p.due_at.astimezone(rtz)
            day = rcal.add_working_days(loc.date(), shift) if shift else loc.date()
            due = rcal.local_slot(day, loc.time().replace(second=0, microsecond=0), rtz)
            due = max(due, now)
            out.prompts.append(p.with_(due_at=due, next_at=due))
        elif p.status == "open":
            out.prompts.append(p.with_(next_at=after_working_days(journey, enrollment.person, now, 1)))
    out.events.append(JourneyEvent("resumed", enrollment.id, now, data={"shift_days": shift}))
    return out


def stop(enrollment: EnrollmentState, prompts: list[PromptState], now: datetime,
         status: str = "stopped") -> Outcome:
    new_status: Literal["unenrolled", "stopped"] = "unenrolled" if status == "unenrolled" else "stopped"
    out = Outcome(enrollments=[replace(enrollment, status=new_status)])
    out.prompts = [p.with_(status="cancelled", next_at=None) for p in prompts if p.status in ("scheduled", "open")]
    out.cancel_pending_for.append(enrollment.id)
    out.events.append(JourneyEvent(new_status, enrollment.id, now))
    return out


