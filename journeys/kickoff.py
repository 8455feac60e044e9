"""The senior leader's kickoff brief (`manager_support.leader_brief`), sent before the start.

A leader's first message about a journey is not a digest of zeros: it says, in business words,
why the journey exists (the PPP's goal and outcomes), what their managers will be asked to do and
when, and gives two lines they can send those managers. Aggregates only: no participant's answer.
"""

from __future__ import annotations

from datetime import date, datetime

from journeys import endorsement, timekeeping
from journeys.definition import Journey, ManagerRequestStep, ManagerTaskStep, When
from journeys.messages import Message
from journeys.state import Person
from journeys.text import typed


def brief_at(journey: Journey, leader: Person, start: date) -> datetime | None:
    """When the brief is due, in the leader's calendar and zone (None: the journey has none)."""
    brief = journey.manager_support.leader_brief
    if brief is None:
        return None
    w = When.parse(brief.when)
    cal = timekeeping.calendar_for(journey, leader)
    return cal.local_slot(cal.add_working_days(start, w.days), w.at, timekeeping.tz_of(journey, leader))


def _names(names: list[str]) -> str:
    shown = [typed(n) for n in sorted(names)]
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]


def asks_of_managers(journey: Journey, start: date) -> list[str]:
    """What the journey asks of managers, in the order it happens."""
    asks: list[str] = []
    for s in journey.steps:
        if isinstance(s, ManagerTaskStep) and s.when:
            w = When.parse(s.when)
            timing = "before the start" if w.anchor == "start" and w.days < 0 else "during the journey"
            asks.append(f"• {s.title or s.id}, {timing} (by {timekeeping.format_day(start)} at the latest)"
                        if timing == "before the start" else f"• {s.title or s.id}, {timing}")
    if any(isinstance(s, ManagerRequestStep) for s in journey.steps):
        asks.append("• Back each moment that matters their people plan: Approve, Coach, or say they can't "
                    "this time, within a working day")
    if journey.manager_digest is not None:
        asks.append("• Read a short weekly digest of their people's progress and check in with anyone stuck")
    days = journey.manager_support.escalate_after
    if days:
        asks.append(f"If a manager leaves one of these unanswered for {days} working days, you'll hear about it "
                    "by name, once.")
    return asks


def build_leader_brief(journey: Journey, leader: Person, managers: list[str], participants: int,
                       start: date) -> Message:
    """The brief itself: goal, outcomes, the managers' part, two lines to forward, and (when the
    journey's welcome quotes it) the request for the leader's endorsement."""
    asks = endorsement.welcome_step(journey) is not None
    ppp = journey.ppp
    day = timekeeping.format_day(start)
    custom = journey.manager_support.leader_brief.message if journey.manager_support.leader_brief else ""
    forward = custom or (f"{journey.title} starts {day}, and it only pays off if you back it. Please hold the "
                         "expectations conversation with each of your people before then, and answer their "
                         "support requests within a working day.")
    people = f"{participants} {'person' if participants == 1 else 'people'}"
    text = "\n".join([
        f"*Why it matters:* {ppp.business_goal}",
        "*What should change:*",
        *(f"• {o}" for o in ppp.outcomes),
        "",
        f"*What {_names(managers)} will be asked to do* ({people} in the journey):",
        *asks_of_managers(journey, start),
        "",
        "*Two lines you could send them:*",
        f"> {forward}",
        *(endorsement.ask_lines(journey) if asks else []),
    ])
    return Message(
        recipient_id=leader.id, title=f"{journey.title} starts {day}: your brief", text=text,
        journey_title=journey.title,
        prompt_id=endorsement.endorse_prompt_id(journey.id, leader.id) if asks else None,
        fields=endorsement.fields() if asks else (), form_label="Endorse" if asks else "",
        context=f"{journey.title} · for you as the leader of these managers · weekly digests follow after the start",
        audience="manager",
    )
