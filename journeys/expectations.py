"""The before phase joined up (`manager_support.expectations`).

The participant's line-of-sight answers (their focus, their picture of success) are kept on the
enrollment's notes as they arrive, and reach the manager only once the participant says yes to
the consent question: in the expectations-conversation card, and as a short note if the card was
already sent. The manager records what they agreed (a sentence, not just "Done"); later prompts
remind the participant of it through the `{agreed}` placeholder. Everything typed goes through
`typed()`, so it is inert on every platform.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from journeys import timekeeping
from journeys.definition import ExpectationsDef, Journey, ManagerTaskStep, QuestionStep, Step
from journeys.forms import AGREED_FIELD
from journeys.messages import Message, Reply
from journeys.state import EnrollmentState, JourneyEvent, Outcome, PromptState
from journeys.text import clean, typed

AGREED = AGREED_FIELD.id
CARD_SENT = "card_sent"  # set on the notes when the expectations card goes out (engine._fire)
_LIMIT = 500


def config(journey: Journey) -> ExpectationsDef | None:
    return journey.manager_support.expectations


def is_agreement_step(journey: Journey, step: Step) -> bool:
    ex = config(journey)
    return ex is not None and isinstance(step, ManagerTaskStep) and step.id == ex.step


def agreed_text(enrollment: EnrollmentState) -> str:
    """The `{agreed}` placeholder: "You and Ben agreed: “…”." or nothing before it is recorded."""
    agreed = enrollment.notes.get(AGREED)
    if not agreed:
        return ""
    return f"You and {timekeeping.first_name(enrollment.manager)} agreed: “{typed(agreed)}”."


def _shown(journey: Journey, step_id: str, value: Any) -> str:
    step = journey.step(step_id)
    if isinstance(step, QuestionStep) and step.options:
        labels = {o.value: o.label for o in step.options}
        return labels.get(str(value), str(value))  # the journey's own words
    return f"“{typed(value)}”"


def _label(journey: Journey, step_id: str, enrollment: EnrollmentState) -> str:
    """A share question's title as the manager reads it: the participant's "Your focus" is
    "Ana's focus" (a title not addressed to the participant is kept as written)."""
    title = journey.step(step_id).title or step_id
    if title.lower().startswith("your "):
        return f"{timekeeping.first_name(enrollment.person)}'s {title[5:]}"
    return title


def shared_lines(journey: Journey, enrollment: EnrollmentState) -> list[str]:
    """What the participant shared, for the manager; nothing without their yes."""
    ex = config(journey)
    if ex is None or enrollment.notes.get("consent") != "yes":
        return []
    shared: dict[str, Any] = enrollment.notes.get("shared", {})
    return [f"*{_label(journey, sid, enrollment)}:* {_shown(journey, sid, shared[sid])}"
            for sid in ex.shares if sid in shared]


def card_section(journey: Journey, enrollment: EnrollmentState, step: Step) -> str:
    """Added to the expectations card (and its reminders) for the manager."""
    if not is_agreement_step(journey, step):
        return ""
    name = timekeeping.first_name(enrollment.person)
    lines = shared_lines(journey, enrollment)
    if lines:
        return f"\n\nWhat {name} shared with you for this conversation:\n" + "\n".join(lines)
    if enrollment.notes.get("consent") == "no":
        return f"\n\n{name} chose to keep their line-of-sight answers private: ask them in the conversation."
    return ""


def after_participant_answer(journey: Journey, enrollment: EnrollmentState, step: Step, values: dict[str, Any],
                             now: datetime, out: Outcome) -> None:
    """Keep a line-of-sight answer or the consent on the notes; pass new shares to the manager."""
    ex = config(journey)
    if ex is None or "answer" not in values or step.id not in (ex.consent_step, *ex.shares):
        return
    notes = dict(enrollment.notes)
    if step.id == ex.consent_step:
        notes["consent"] = "yes" if values["answer"] == "yes" else "no"
    else:
        notes["shared"] = {**notes.get("shared", {}), step.id: values["answer"]}
    updated = replace(enrollment, notes=notes)
    out.enrollments.append(updated)
    manager = enrollment.manager
    if manager is None or notes.get(AGREED) or notes.get("consent") != "yes":
        return  # nobody to tell, the conversation is already recorded, or no consent
    if not notes.get(CARD_SENT):
        return  # the card, still to come, carries it: no separate note
    new = shared_lines(journey, updated) if step.id == ex.consent_step else \
        [line for line in shared_lines(journey, updated) if line.startswith(f"*{_label(journey, step.id, updated)}:*")]
    if not new:
        return
    name = timekeeping.first_name(enrollment.person)
    title_of = journey.step(ex.step).title or ex.step
    out.outgoing.append(timekeeping.notice(journey, manager, f"{enrollment.id}.{step.id}:shared", Message(
        recipient_id=manager.id, title=f"{name} shared their line of sight",
        text=f"For your “{title_of}” with {name}:\n" + "\n".join(new),
        journey_title=journey.title, context=f"{journey.title} about {typed(enrollment.person.name)} · shared by {name}",
        audience="manager"), now, enrollment.id))


def on_manager_answer(journey: Journey, enrollment: EnrollmentState, prompt: PromptState, step: ManagerTaskStep,
                      reply: Reply, now: datetime, mark_done: Callable[[], Outcome]) -> Outcome | None:
    """Done on the expectations card needs what was agreed; None leaves other buttons to the engine."""
    if not is_agreement_step(journey, step):
        return None
    raw = reply.values.get(AGREED)
    agreed = clean(raw).strip() if isinstance(raw, str) else ""
    text = (reply.text or "").strip()
    awaiting = prompt.answers.get("awaiting") == AGREED
    if not agreed and awaiting and text and text.lower().rstrip(".!") not in ("done", "tomorrow", "guide"):
        agreed = clean(text).strip()
    done = reply.button == "done" or text.lower().rstrip(".!") == "done"
    if not agreed and not done:
        return None
    manager = enrollment.manager
    assert manager is not None
    name = timekeeping.first_name(enrollment.person)
    if not agreed:
        out = Outcome(prompts=[prompt.with_(answers={**prompt.answers, "awaiting": AGREED})])
        out.replies.append(Message(
            recipient_id=manager.id, prompt_id=prompt.id, journey_title=journey.title, fields=(AGREED_FIELD,),
            form_label="Record what we agreed", audience="manager",
            text=f"Almost done: what did you and {name} agree? Type it in a sentence or two, and I'll remind "
                 f"{name} of it along the way."))
        return out
    if len(agreed) > _LIMIT:
        return Outcome(replies=[Message(recipient_id=manager.id, journey_title=journey.title,
                                        text=f"That's {len(agreed)} characters; please keep it under {_LIMIT}. "
                                             "Nothing was saved yet.")])
    out = mark_done()
    out.enrollments.append(replace(enrollment, notes={**enrollment.notes, AGREED: agreed}))
    out.events.append(JourneyEvent("expectation_agreed", enrollment.id, now, prompt.id, {"step": step.id}))
    out.replies = [Message(recipient_id=manager.id, journey_title=journey.title,
                           text=f"Thanks, saved what you and {name} agreed. I'll remind {name} of it along the way.")]
    return out
