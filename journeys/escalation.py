"""The escalation chain: a manager who leaves a support request or a manager task unanswered.

Two things happen around the engine's `fire` of a manager's prompt (`around_fire`):

* a support request expires at its moment's date: no reminder goes out after it, and the
  participant is told kindly and offered the journey's fallback (`support.expire_request`);
* once the request or task has waited `manager_support.escalate_after` working days in the
  manager's calendar, the manager's own manager (the senior leader) hears of it once, by name, in
  the leader's working hours. Nothing the participant typed goes to the leader.

Pure like the engine: it takes `now` and returns what to send.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from journeys import before_phase, escalation_groups, rendering, support, timekeeping
from journeys.definition import Journey, ManagerRequestStep, ManagerTaskStep, Step
from journeys.messages import Message, Outgoing
from journeys.relative import on_day, starts_phrase
from journeys.state import EnrollmentState, JourneyEvent, MtmState, Outcome, PromptState

Fire = Callable[[Journey, EnrollmentState, PromptState, "MtmState | None", datetime], Outcome]


def _manager_step(journey: Journey, prompt: PromptState) -> Step | None:
    if prompt.step_id.endswith(rendering.COACH_CHECK):
        return None
    step = journey.step(prompt.step_id)
    return step if isinstance(step, (ManagerTaskStep, ManagerRequestStep)) else None


def escalate_at(journey: Journey, enrollment: EnrollmentState, prompt: PromptState) -> datetime | None:
    """When this manager prompt goes to the leader if still unanswered (None: never)."""
    days = journey.manager_support.escalate_after
    manager, leader = enrollment.manager, enrollment.leader
    # never to someone in the same enrollment (a bent chain could make the participant the "leader")
    if days <= 0 or manager is None or leader is None or leader.id in (manager.id, enrollment.person.id) \
            or prompt.escalated \
            or prompt.sent_at is None or _manager_step(journey, prompt) is None:
        return None
    return timekeeping.after_working_days(journey, manager, prompt.sent_at, days)


def around_fire(journey: Journey, enrollment: EnrollmentState, prompt: PromptState, mtm: MtmState | None,
                now: datetime, fire: Fire) -> Outcome:
    """`fire`, with request expiry before it and the leader's escalation after it."""
    if enrollment.manager is None or prompt.recipient_id != enrollment.manager.id:
        return fire(journey, enrollment, prompt, mtm, now)  # the hot path: a participant's prompt
    step = _manager_step(journey, prompt)
    due = prompt.next_at is not None and prompt.next_at <= now
    if step is None or not due or enrollment.status != "active" or prompt.status not in ("scheduled", "open"):
        return fire(journey, enrollment, prompt, mtm, now)
    ends: datetime | None = None
    if isinstance(step, ManagerRequestStep) and mtm is not None:
        ends = support.expires_at(journey, enrollment, mtm)
        if now >= ends:
            return support.expire_request(journey, enrollment, prompt, mtm, now)
    out = fire(journey, enrollment, prompt, mtm, now)
    if ends is not None:  # a request's card or reminder held in the outbox past its moment is not sent
        out.outgoing = [replace(o, stale_at_iso=min(o.stale_at_iso or ends.isoformat(), ends.isoformat()))
                        if o.message.prompt_id == prompt.id and o.replaces_key is None else o for o in out.outgoing]
    mine = [p for p in out.prompts if p.id == prompt.id]
    after = mine[-1] if mine else prompt
    if after.status != "open":
        return out
    at = escalate_at(journey, enrollment, after)
    assert enrollment.manager is not None
    close = before_phase.closes_at(journey, enrollment, step, enrollment.manager, after)
    leader = enrollment.leader
    started = None if close is None or leader is None else before_phase.closes_at(
        journey, enrollment, step, leader, after)
    if at is not None and leader is not None:
        # at the leader's working morning, so that a day's escalations go out as one message
        # (journeys/escalation_groups.py; a reminder then due goes out with it), unless that
        # morning comes too late to act (the moment, or the start): then as soon as it is due
        morning = escalation_groups.morning_of(journey, leader, at, prompt.next_at or now, enrollment.manager)
        too_late = [t for t in (ends, started) if t is not None]
        at = morning if not too_late or morning < min(too_late) else at
    if at is not None and now >= at:
        note = _leader_notice(journey, enrollment, after, step, mtm, now)
        arrives = datetime.fromisoformat(note.not_before_iso) if note.not_before_iso else now
        # the leader can still act before the moment, or before the start for a before-phase task
        if (ends is None or arrives < ends) and (started is None or arrives < started):
            out.outgoing.append(note)
            out.events.append(JourneyEvent("escalated_to_leader", enrollment.id, now, prompt.id,
                                           {"step": step.id, "kind": step.kind}))
        after = after.with_(escalated=True)
        at = None
    # The next reminder or the escalation (the leader's morning), whichever comes first; a
    # reminder due after that morning goes out with the escalation.
    reminder_due = after.next_at is not None and (close is None or after.next_at < close)
    checks = [t for t in (after.next_at if reminder_due else None, at, close) if t is not None and t > now]
    if isinstance(step, ManagerRequestStep) and mtm is not None:
        checks.append(support.expires_at(journey, enrollment, mtm))
    after = after.with_(next_at=min(checks) if checks else None)
    out.prompts = [p for p in out.prompts if p.id != prompt.id] + [after]
    return out


def _leader_notice(journey: Journey, enrollment: EnrollmentState, prompt: PromptState, step: Step,
                   mtm: MtmState | None, now: datetime) -> Outgoing:
    leader, manager = enrollment.leader, enrollment.manager
    assert leader is not None and manager is not None
    m, p = timekeeping.first_name(manager), timekeeping.first_name(enrollment.person)
    ltz = timekeeping.tz_of(journey, leader)
    asked = timekeeping.format_day(timekeeping.local_date(prompt.sent_at or now, ltz))
    if isinstance(step, ManagerRequestStep):
        moment = f" {on_day(mtm.when, timekeeping.read_on(journey, leader, now))}" if mtm is not None else ""
        title = f"{m} hasn't answered {p}'s support request"
        text = (f"{m} hasn't answered {p}'s request to back a moment that matters{moment} "
                f"(asked {asked}). A word from you helps: ask {m} to Approve, Coach, or say "
                f"they can't this time, so {p} knows where they stand.")
    else:
        title_of = step.title or step.id
        title = f"{m} hasn't done “{title_of}” for {p}"
        text = (f"{m} hasn't marked “{title_of}” with {p} as done (asked {asked}); {p}'s journey "
                f"{starts_phrase(enrollment.start, timekeeping.read_on(journey, leader, now), timekeeping.calendar_for(journey, leader))}. People whose manager holds this "
                f"conversation before the start apply far more of what they learn: a nudge from you counts.")
    message = Message(
        recipient_id=leader.id, title=title, text=text, journey_title=journey.title,
        context=f"{journey.title} · {m} reports to you · sent once; nothing {p} wrote is shared",
        audience="manager",
    )
    return timekeeping.notice(journey, leader, f"{prompt.id}:leader", message, now, enrollment.id)
