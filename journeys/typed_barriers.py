"""Typed text that is a person, not an answer: a barrier ("no time", "swamped", "not relevant"),
and leaving the journey on purpose (`stop`, then `stop yes` with an optional reason).

A barrier is recorded (an event with its kind, never the words typed) and answered with options:
hold the open questions for a week, let the manager know they'd like a word (nothing typed is
shared), or carry on. `stop` asks to confirm first; the reason, if given, is kept on the
enrollment's notes (erased by `forget`) for the L&D lead's `status`.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from journeys import engine, timekeeping
from journeys.messages import Message
from journeys.state import EnrollmentState, JourneyEvent, Outcome
from journeys.text import clean, typed

if TYPE_CHECKING:
    from journeys.person_view import PersonView

_NO_TIME = re.compile(r"\b(no time|(do ?n[o']?t|don’t|do not) have (the )?time|too busy|swamped|snowed under|"
                      r"overloaded|can'?t fit|no bandwidth|flat out)\b", re.IGNORECASE)
_NOT_RELEVANT = re.compile(r"\b(not relevant|irrelevant|no point|pointless|waste of (my )?time|"
                           r"(do ?n[o']?t|don’t|do not) see the point|not useful|doesn'?t apply)\b", re.IGNORECASE)
REASON_LIMIT = 200
TALK = ("talk", "talk to my manager", "talk to manager")


def barrier_kind(text: str) -> str | None:
    """'no_time', 'not_relevant' or None: what the text says gets in the way."""
    if _NOT_RELEVANT.search(text):
        return "not_relevant"
    if _NO_TIME.search(text):
        return "no_time"
    return None


def _active(view: PersonView) -> list[EnrollmentState]:
    return [e for e in view.own_enrollments() if e.status in ("active", "paused")]


def _msg(view: PersonView, text: str, title: str = "") -> Message:
    return Message(recipient_id=view.person.id, text=text, title=title)


def barrier(view: PersonView, kind: str, now: datetime) -> Outcome:
    """Record the barrier and offer a way forward."""
    out = Outcome()
    for e in _active(view):
        out.events.append(JourneyEvent("barrier", e.id, now, data={"kind": kind, "by": "participant"}))
    manager = next((e.manager for e in _active(view) if e.manager is not None), None)
    talk = (f"• `talk to my manager`: I'll tell {timekeeping.first_name(manager)} you'd like a word about making "
            "room for it (nothing you typed is shared)\n") if manager is not None else ""
    heard = ("Thanks for saying so: a full plate is the most common thing that gets in the way, and it's "
             "worth knowing." if kind == "no_time" else
             "Thanks for saying so: if it doesn't feel relevant, that's worth knowing.")
    out.replies.append(_msg(view, f"{heard} I've noted it. What would help?\n"
                                  "• `snooze week`: I'll hold your open questions for a week\n"
                                  f"{talk}"
                                  "• or just carry on: type `status` to see what's open.", "Noted"))
    return out


def talk_to_manager(view: PersonView, now: datetime) -> Outcome:
    """Let the manager know, in their hours, that the participant would like a word."""
    out = Outcome()
    told: list[str] = []
    for e in _active(view):
        journey = view.journeys[e.journey_id]
        if e.manager is None:
            continue
        name = timekeeping.first_name(e.person)
        out.outgoing.append(timekeeping.notice(journey, e.manager, f"{e.id}:talk:{now.date().isoformat()}", Message(
            recipient_id=e.manager.id, title=f"{name} would like a word",
            text=(f"{name} is finding it hard to make room for {journey.title} right now and would welcome a "
                  f"short conversation with you: what could come off their plate, or which moment this week "
                  f"could double as practice?"),
            journey_title=journey.title, context=f"{journey.title} about {typed(e.person.name)} · nothing they typed is shared",
            audience="manager"), now, e.id))
        out.events.append(JourneyEvent("barrier_talk", e.id, now, data={"by": "participant"}))
        told.append(timekeeping.first_name(e.manager))
    if not told:
        out.replies.append(_msg(view, "There's no manager on your journey to tell. Your L&D team can help instead."))
    else:
        out.replies.append(_msg(view, f"Done: I've let {' and '.join(sorted(set(told)))} know you'd like a word. "
                                      "Nothing you typed was shared."))
    return out


def confirm_stop(view: PersonView) -> Outcome:
    titles = ", ".join(view.journeys[e.journey_id].title for e in _active(view))
    if not titles:
        return Outcome(replies=[_msg(view, "You have no running journey to stop. Type `status` to see where you are.")])
    return Outcome(replies=[_msg(view, (
        f"Leave {titles}? Nothing more will be sent about it, and your L&D team will see that you stopped. "
        "To confirm, type `stop yes`, and add why if you like (e.g. `stop yes no time this quarter`): it "
        "helps them improve it. Anything else keeps you in. If it's only a busy patch, `pause` holds everything "
        "until you type `resume`."), "Leave the journey?")])


def stop_confirmed(view: PersonView, reason: str, now: datetime) -> Outcome:
    out = Outcome()
    reason = clean(reason).strip()[:REASON_LIMIT]
    left: list[str] = []
    for e in _active(view):
        prompts = [p for p in view.prompts if p.enrollment_id == e.id]
        stopped = engine.stop(e, prompts, now)
        notes = {**e.notes, "stopped": {"at": now.isoformat(), "reason": reason}}
        stopped.enrollments = [replace(s, notes=notes) for s in stopped.enrollments]
        stopped.events = [replace(ev, data={**ev.data, "by": "participant", "reason_given": bool(reason)})
                          if ev.kind == "stopped" else ev for ev in stopped.events]
        out.extend(stopped)
        left.append(view.journeys[e.journey_id].title)
    if not left:
        out.replies.append(_msg(view, "You have no running journey to stop. Type `status` to see where you are."))
        return out
    thanks = " Thank you for telling us why." if reason else ""
    out.replies.append(_msg(view, f"You've left: {', '.join(left)}. I won't send anything more about it.{thanks} "
                                  "If that was a mistake, ask your L&D team to enroll you again."))
    return out
