"""The demo's second Success Case stage: an L&D admin ranks and invites candidates (their times held
on her calendar), the candidates answer the consent request with its buttons (one declines, which
frees her times), and she records three interviews: two through the notes form (a success story
with its value a month, and what got in the way of a non-success case), one by command; all through
the same admin commands and inbound path Slack, Teams and the console use."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from bot.app.service import BotService
from bot.services.clock import SimulatedClock
from journeys.evaluation.interview_notes import notes_enrollment
from journeys.evaluation.interviews import NO, consent_enrollment
from journeys.text import plain
from ports.chat import InboundAction

INTERVIEWER = "lena"  # the demo's L&D admin (bot.devtools.demo.PEOPLE)
DECLINES = {"eli"}  # candidates who say "No, thanks" to the consent request; the others take the first time


@dataclass(frozen=True)
class ScriptedInterview:
    user_id: str
    classification: str
    outcome: str | None = None
    units: float | None = None
    # the interview notes form's other fields (the story with consent, evidence, enablers,
    # barriers); None: recorded by command instead
    notes: dict[str, Any] | None = field(default=None, compare=False)


# Ana's renewal story is verified through the notes form, with a value a month in the sample
# journey's measured outcome; Fatima's is verified by command, in an outcome without a measure (a
# verified case, no value); Dev (tried, did not work out) tells what got in the way.
INTERVIEWS = (
    ScriptedInterview("ana", "success", "fewer-escalations", 6, notes={
        "consent": "yes",
        "situation": "Renewal call with a key account that had escalated twice this quarter",
        "behaviour": "Let the customer finish, then paraphrased their three complaints before offering anything",
        "result": "Renewed for two years; escalations from her accounts down from about 8 to 2 a month",
        "evidence": "the CRM escalation log for March and April",
        "enablers": ["manager", "practice"]}),
    ScriptedInterview("fatima", "success", "early-concerns"),
    ScriptedInterview("dev", "tried_no_success", notes={
        "consent": "yes",
        "situation": "Support calls during an outage week",
        "behaviour": "Tried to pause before solving; fell back to quick fixes under the queue's pressure",
        "result": "No change yet",
        "barriers": ["no_time", "no_manager_support"]}),
)


def verdict_lines() -> list[str]:
    """The commands of the interviews recorded by command (the others go through the form)."""
    lines = []
    for i in INTERVIEWS:
        if i.notes is not None:
            continue
        tail = (f" outcome {i.outcome}" if i.outcome else "") + (f" value {i.units:g}" if i.units is not None else "")
        lines.append(f"interview @{i.user_id} {i.classification}{tail}")
    return lines


def form_values(i: ScriptedInterview) -> dict[str, Any]:
    values: dict[str, Any] = {**(i.notes or {}), "classification": i.classification}
    if i.outcome:
        values["outcome"] = i.outcome
    if i.units is not None:
        values["units"] = f"{i.units:g}"
    return values


async def _admin(service: BotService, clock: SimulatedClock, line: str, n: int, write: Callable[[str], None],
                 quiet: bool) -> None:
    result = await service.handle_command("console", INTERVIEWER, line, f"demo-interview-{n}")
    await service.tick(clock.now())
    if not quiet:
        write(f"{clock.now():%a %d %b %H:%M} UTC ⌨ (L&D admin) /journey {line}")
        for r in result.replies:
            write("  " + plain(r.text).replace("\n", "\n  "))


async def _tick_hours(service: BotService, clock: SimulatedClock, hours: int, per_hour: int = 1) -> None:
    for _ in range(hours * per_hour):
        clock.set(clock.now() + timedelta(hours=1) / per_hour)
        await service.tick(clock.now())


async def run_interviews(service: BotService, clock: SimulatedClock, cohort: str, *,
                         write: Callable[[str], None], quiet: bool) -> None:
    """Select and invite, let the candidates click (in their working hours), then record the
    interviews a few days later; finally deliver what is still waiting for someone's hours."""
    sent = getattr(service.ports["console"], "sent", [])
    profiles = getattr(service.ports["console"], "profiles", {})
    seen = len(sent)
    clock.set(clock.now() + timedelta(hours=20))
    await _admin(service, clock, f"interviews {cohort}", 0, write, quiet)
    for _ in range(24):  # each request reaches its candidate in their working hours; they answer within the hour
        await _tick_hours(service, clock, 1)
        for d in sent[seen:]:
            msg = d.message
            if consent_enrollment(msg.prompt_id) is None or not msg.buttons:
                continue
            user = d.conversation_id.removeprefix("D-")
            choice = NO if user in DECLINES else msg.buttons[0].value
            if not quiet:
                label = next(b.label for b in msg.buttons if b.value == choice)
                who = getattr(profiles.get(user), "name", user)  # named as the transcript names everyone
                write(f"{clock.now():%a %d %b %H:%M} UTC ← {who} answers “{msg.title}”: {label}")
            await service.handle_action(InboundAction("console", user, f"demo-consent-{user}", msg.prompt_id, choice))
            await service.settle()
        seen = len(sent)
    await _admin(service, clock, f"interviews {cohort}", 90, write, quiet)  # the calendar, now booked
    await _tick_hours(service, clock, 60, per_hour=4)  # the interviews happen; the day's reminders on time
    await _tick_hours(service, clock, 12)  # the interviewer records them the next morning, in her hours
    for n, line in enumerate(verdict_lines(), start=1):
        clock.set(clock.now() + timedelta(hours=1))
        await _admin(service, clock, line, n, write, quiet)
    for n, i in enumerate([i for i in INTERVIEWS if i.notes is not None], start=50):
        clock.set(clock.now() + timedelta(hours=1))
        before = len(sent)
        await _admin(service, clock, f"interview @{i.user_id} notes", n, write, quiet)
        await service.settle()
        form = next((d.message for d in reversed(sent[before:]) if notes_enrollment(d.message.prompt_id)
                     and d.conversation_id == f"D-{INTERVIEWER}"), None)
        if form is None:  # an author's own journey may not have interviewed this person: the reply said why
            continue
        result = await service.handle_action(InboundAction("console", INTERVIEWER, f"demo-notes-{i.user_id}",
                                                           form.prompt_id, None, form_values(i)))
        await service.settle()
        if not quiet:
            write(f"{clock.now():%a %d %b %H:%M} UTC ⌨ (L&D admin) fills in “{form.title}”: "
                  + "; ".join(f"{k}={v if isinstance(v, str) else ','.join(v)}" for k, v in form_values(i).items()))
            for r in result.replies:
                write("  " + plain(r.text))
    await _tick_hours(service, clock, 24)  # deliver what still waits for someone's working hours
