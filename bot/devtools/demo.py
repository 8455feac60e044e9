"""`hplj demo`: a small cohort runs the whole sample journey on a simulated clock, in seconds.

Everything goes through the real code paths: enrollment, the scheduler tick, the outbox, the
console adapter, and answers through the same handler Slack and Teams call. Only the people are
scripted: some apply the skill, some don't, and one manager never responds. Both managers report to
a senior leader, who gets a kickoff brief before the start, hears by name when the silent manager
leaves a request unanswered, and then gets the weekly accountability digest about them.
"""

from __future__ import annotations

import heapq
import itertools
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from adapters.console import ConsoleChat
from bot.app.service import BotService
from bot.app.wiring import build_service, console_settings
from bot.devtools.demo_changes import edit_recommendations
from bot.devtools.demo_end import completion_lines
from bot.devtools.demo_interviews import INTERVIEWER, run_interviews
from bot.devtools.demo_roles import PICTURES, SPONSOR, closing_lines, endorsement, name_facilitator
from bot.services.clock import SimulatedClock
from bot.services.reports import cohort_report_lines
from journeys.definition import Journey
from journeys.endorsement import endorse_target
from journeys.loader import default_library_path, load_library
from journeys.messages import Message
from journeys.text import plain
from ports.chat import InboundAction

DEMO_START = date(2027, 4, 12)  # a Monday; the six weeks include two English bank holidays


@dataclass
class Persona:
    user_id: str
    name: str
    tz: str
    manager: str | None = None
    country: str | None = None
    responds: bool = True
    delay_hours: float = 2.0
    ignores: tuple[str, ...] = ()  # step ids they never answer
    late: tuple[str, ...] = ()  # step ids they answer only after reminders
    happened: str = "yes"
    classification: str = "success"
    barriers: tuple[str, ...] = ()
    request_choice: str = "approve"
    share: str = "yes"
    situations: tuple[str, str] = ("", "")
    reflections: tuple[str, str] = ("", "")
    story: tuple[str, str] = ("", "")  # a success case's survey answers: what they did, what resulted
    reports_to: str | None = None  # their own manager (a manager's manager is a senior leader)
    outcome: str = ""  # the PPP outcome a success case's story moved (survey role scm_outcome)
    follow_up: str = ""  # their answer to the follow-up survey (default: the same as the first)


PEOPLE = [
    Persona("hana", "Hana Kobayashi", "Europe/London"),
    Persona("lena", "Lena Moreau", "Europe/Paris"),  # L&D admin: runs the Success Case interviews
    Persona("olu", "Olu Adeyemi", "Europe/London"),  # facilitates the cohort's workshop (bot/devtools/demo_roles.py)
    Persona("ben", "Ben Okafor", "Europe/London", delay_hours=3, request_choice="approve", reports_to="hana"),
    Persona("grace", "Grace Liu", "America/New_York", responds=False, reports_to="hana"),
    Persona("ana", "Ana Silva", "Europe/London", manager="ben", delay_hours=1.5,
            situations=("Weekly 1:1 with Sam, who has been quiet lately",
                        "Escalation call with an unhappy key account on the renewal"),
            reflections=("I paraphrased before answering; Sam opened up about the workload.",
                         "I let the customer finish and summarised their concern; we agreed a fix and they renewed."),
            story=(("On the renewal call I let the customer finish, then paraphrased their three complaints "
                    "before offering anything."),
                   "They renewed for two years, and the account has not escalated since."),
            outcome="fewer-escalations"),
    Persona("chen", "Chen Wei", "Asia/Singapore", manager="ben", delay_hours=5, classification="applied_no_result",
            follow_up="success",  # the result showed only after six weeks
            barriers=("no_opportunity",), share="no",
            situations=("Team stand-up when two engineers disagree on priorities",
                        "Quarterly review with a frustrated stakeholder"),
            reflections=("Asked open questions first; the discussion was calmer.",
                         "The review moved to next month, so I practised in a smaller meeting instead.")),
    Persona("dev", "Dev Patel", "America/New_York", manager="grace", delay_hours=8, happened="no",
            classification="tried_no_success", barriers=("no_time", "no_manager_support"),
            situations=("Support call with a customer who had an outage", "Budget conversation with my director"),
            reflections=("The call was rushed and I jumped to solutions again.",
                         "It got cancelled at the last minute.")),
    Persona("eli", "Eli Haddad", "Asia/Kolkata", manager="grace", delay_hours=30,
            late=("mtm-safe", "success-case"), ignores=("reflect-safe", "reflect-real", "mtm-real"),
            classification="not_applied", barriers=("no_opportunity", "unclear_how")),
    Persona("fatima", "Fatima Zahra", "Europe/Berlin", manager="ben", country="DE", delay_hours=2,
            situations=("Handover meeting with a new colleague", "Difficult performance conversation"),
            reflections=("Summarised back what I heard; the handover had no gaps.",
                         "I paused before solving; they proposed their own improvement plan."),
            story=(("In a performance conversation I paused and asked open questions instead of proposing "
                    "a plan."),
                   "My colleague proposed their own improvement plan and hit its first milestone a week early."),
            outcome="early-concerns"),
]
# What a manager records after the expectations conversation.
AGREED = "One low-stakes moment in the first two weeks, then a real customer call; we check in on Fridays."
# Ben coaches Fatima's real moment instead of approving it.
COACH = {("ben", "fatima", "support-real")}


@dataclass(order=True)
class _Planned:
    at: datetime
    seq: int
    action: InboundAction = field(compare=False)
    note: str = field(compare=False, default="")


@dataclass
class DemoSummary:
    delivered: dict[str, list[Message]]
    service: BotService
    cohort: str
    report: list[str]
    end: datetime
    completion: list[str] = field(default_factory=list)  # how the journeys ended (bot/devtools/demo_end.py)


def _local_day(now: datetime, tz: str) -> date:
    return now.astimezone(ZoneInfo(tz)).date()


class Script:
    """Decides what each persona answers to a delivered message, and when."""

    def __init__(self, journey: Journey) -> None:
        self.journey = journey
        self.by_id = {p.user_id: p for p in PEOPLE}
        self.seen_prompts: dict[tuple[str, str], int] = {}

    def respond(self, who: Persona, msg: Message, now: datetime) -> tuple[timedelta, dict[str, Any]] | None:
        if msg.prompt_id is None or msg.closed or not (msg.buttons or msg.fields) or endorse_target(msg.prompt_id):
            return None  # (the leader's endorsement is scripted in bot/devtools/demo_roles.py)
        step_id = msg.prompt_id.split(".", 1)[-1]
        count = self.seen_prompts.get((who.user_id, step_id), 0) + 1
        self.seen_prompts[(who.user_id, step_id)] = count
        if not who.responds or step_id in who.ignores or step_id == "interview-consent":
            return None  # (consent to an interview is scripted in bot/devtools/demo_interviews.py)
        if step_id in who.late and count < 2:
            return None  # answers after the first reminder
        delay = timedelta(hours=who.delay_hours)
        step = self.journey.step(step_id)
        if step.kind == "manager_task":
            # Done, with what they agreed (journeys/expectations.py); a grouped card (several
            # reports) has a Done button per report: press each
            done = [b.prompt_id for b in msg.buttons if b.value == "done" and b.prompt_id]
            return delay, {"button": "done", "values": {"agreed": AGREED}, "also": done[1:]}
        if step.kind == "manager_request":
            # The request's small print names whom it is about ("... about Fatima Zahra · step ...").
            participant = next((p for p in PEOPLE if f"about {p.name}" in plain(msg.context)), None)
            coach = participant is not None and (who.user_id, participant.user_id, step_id) in COACH
            return delay, {"button": "coach" if coach else who.request_choice}
        consent = self.journey.manager_support.expectations
        if consent is not None and step_id == consent.consent_step:
            return delay, {"button": who.share}  # shares their line of sight as they share their plans
        if msg.buttons:
            # single-choice questions: pick a stable, persona-dependent option
            idx = (sum(map(ord, who.user_id)) + len(step_id)) % len(msg.buttons)
            return delay, {"button": msg.buttons[idx].value}
        values: dict[str, Any] = {}
        today = _local_day(now, who.tz)
        cycle = 0 if step_id.endswith("safe") else 1
        for f in msg.fields:
            if f.show_if_field and str(values.get(f.show_if_field)) not in f.show_if_values:
                continue
            if step.kind == "mtm_plan":
                values.update(situation=who.situations[cycle] or "A customer call where I usually jump in too fast",
                              date=(today + timedelta(days=4 + cycle * 3)).isoformat(),
                              behaviour=self.journey.ppp.behaviours[cycle % len(self.journey.ppp.behaviours)].id,
                              practice="safe" if cycle == 0 else "real", share=who.share)
                break
            if step.kind == "mtm_follow_up":
                values["happened"] = who.happened
                if who.happened == "yes":
                    values["rating"] = "4" if who.classification == "success" else "3"
                values["reflection"] = who.reflections[cycle] or "It was harder than I expected."
                values["share"] = who.share
                break
            if f.kind in ("choice", "rating"):
                if step.kind == "survey" and f.id == "applied":
                    later = getattr(step, "evaluation", None) == "follow_up" and who.follow_up
                    values[f.id] = who.follow_up if later else who.classification
                elif f.id == "contact":
                    values[f.id] = "yes"
                elif f.id == "outcome" and who.outcome:
                    values[f.id] = who.outcome
                else:
                    values[f.id] = f.options[min(len(f.options) - 1, 3)].value
            elif f.kind == "multi_choice":
                values[f.id] = list(who.barriers) or [f.options[0].value]
            elif f.kind in ("text", "long_text"):
                if f.id == "barrier-other" and "other" not in who.barriers:
                    continue
                values[f.id] = (PICTURES[who.user_id] if step_id == "success-picture" and who.user_id in PICTURES
                                else _canned_text(who, f.id))
            elif f.kind == "date":
                values[f.id] = (today + timedelta(days=3)).isoformat()
        return delay, {"values": values}


async def _until_quiet(service: BotService, clock: SimulatedClock, *, days: int) -> None:
    """Run the scheduler from due time to due time until nothing is left (or `days` have passed)."""
    limit = clock.now() + timedelta(days=days)
    while True:
        async with service.uow.read() as uow:
            due = await uow.views.next_due_at()
        if due is None or due > limit:
            return
        clock.set(max(due, clock.now()))
        await service.tick(clock.now())


def _canned_text(who: Persona, field_id: str) -> str:
    if field_id == "what-did-you-do" and who.story[0]:
        return who.story[0]
    if field_id == "result" and who.story[1]:
        return who.story[1]
    texts = {
        "what-did-you-do": "Before every customer escalation I now paraphrase the problem and ask one open question.",
        "result": "Escalations in my queue fell from 9 to 4 a month, and two accounts renewed early.",
    }
    return texts.get(field_id, f"{who.name.split()[0]}: I want my team to feel heard before we fix things.")


async def run_demo(*, write: Callable[[str], None] = print, db_path: Path | None = None, quiet: bool = False,
                   progress: Callable[[float, str], None] | None = None,
                   library: dict[str, Journey] | None = None, journey_id: str = "active-listening") -> DemoSummary:
    library = library if library is not None else load_library(default_library_path())
    journey = library[journey_id]
    tmp = None
    if db_path is None:
        tmp = tempfile.TemporaryDirectory(prefix="hplj-demo-")
        db_path = Path(tmp.name) / "demo.db"
    start_clock = datetime(2027, 3, 29, 7, 0, tzinfo=UTC)  # two weeks before the start
    clock = SimulatedClock(start_clock)
    console = ConsoleChat(write=(lambda s: None) if quiet else write)
    for p in PEOPLE:
        console.add_user(p.user_id, p.name, f"{p.user_id}@example.com", p.tz)

    def stamp() -> str:
        return f"{clock.now():%a %d %b %H:%M} UTC"

    console.clock_label = stamp
    # built as `hplj serve` builds the bot (migrated, so `hplj serve` can serve the file later)
    service = await build_service(console_settings(db_path, {INTERVIEWER}), library, clock=clock, console=console)
    ids: dict[str, str] = {}
    for p in PEOPLE:
        row = await service.ensure_person("console", p.user_id, name=p.name, email=f"{p.user_id}@example.com",
                                          tz=p.tz)
        ids[p.user_id] = row.id
    async with service.uow() as uow:
        for p in PEOPLE:
            if p.country:
                await uow.people.change(ids[p.user_id], country=p.country)
            if p.reports_to:  # the reporting line above the managers (hplj enroll --csv: manager_manager_email)
                await uow.people.change(ids[p.user_id], manager_id=ids[p.reports_to])
        await uow.commit()
    cohort = ""
    for manager in ("ben", "grace"):
        reports = [ids[p.user_id] for p in PEOPLE if p.manager == manager]
        res = await service.enroll(journey_id, reports, ids[manager], DEMO_START,
                                   cohort="demo-cohort", actor_id=None)
        cohort = res.cohort
    if not quiet:
        leaders = sorted({by.name for p in PEOPLE if p.reports_to for by in PEOPLE if by.user_id == p.reports_to})
        write(f"Enrolled {len([p for p in PEOPLE if p.manager])} people with 2 managers in "
              f"“{journey.title}”, starting {DEMO_START:%a %d %b %Y}. The managers report to "
              f"{', '.join(leaders)}, who gets the weekly senior-leader accountability digest.\n")
    await name_facilitator(service, clock, journey_id, cohort, write=write, quiet=quiet)
    script = Script(journey)
    by_user = {p.user_id: p for p in PEOPLE}
    planned: list[_Planned] = []
    seq = itertools.count()
    if journey.manager_support.leader_brief and journey.manager_support.leader_brief.welcome_step:
        at, action, note = endorsement(journey_id, ids[SPONSOR], DEMO_START)
        heapq.heappush(planned, _Planned(at, next(seq), action, note))
    # the follow-up survey answered (start+50 working days); the interviews and the results follow
    end = datetime(2027, 6, 24, 18, 0, tzinfo=UTC)
    seen = 0
    steps = 0
    sent_at: list[tuple[datetime, str, Message]] = []
    while True:
        async with service.uow.read() as uow:
            due = await uow.views.next_due_at()
        candidates = [t for t in (due, planned[0].at if planned else None) if t is not None]
        if not candidates:
            break
        nxt = max(min(candidates), clock.now())
        if nxt > end:
            break
        clock.set(nxt)
        steps += 1
        if progress:
            progress((nxt - start_clock) / (end - start_clock), f"{nxt:%d %b}")
        while planned and planned[0].at <= clock.now():
            item = heapq.heappop(planned)
            if not quiet and item.note:
                write(f"{stamp()} ← {item.note}")
            result = await service.handle_action(item.action)
            await service.settle()
            for r in result.replies:
                if not quiet:
                    write(f"{stamp()} → (reply) {plain(r.text).splitlines()[0][:110]}")
        await service.tick(clock.now())
        for d in console.sent[seen:]:
            user = d.conversation_id.removeprefix("D-")
            sent_at.append((clock.now(), user, d.message))
            who = by_user.get(user)
            if who is None:
                continue
            decision = script.respond(who, d.message, clock.now())
            if decision is None:
                continue
            delay, act = decision
            action = InboundAction("console", user, f"demo-{next(seq)}", d.message.prompt_id,
                                   act.get("button"), act.get("values", {}))
            label = act.get("button") or ", ".join(f"{k}={str(v)[:24]}" for k, v in act.get("values", {}).items())
            heapq.heappush(planned, _Planned(clock.now() + delay, next(seq), action,
                                             f"{who.name} answers “{d.message.title}”: {label}"))
            for other in act.get("also", []):
                heapq.heappush(planned, _Planned(clock.now() + delay, next(seq), InboundAction(
                    "console", user, f"demo-{next(seq)}", other, "done", act.get("values", {})),
                    f"{who.name} answers “{d.message.title}”: done (next report)"))
        seen = len(console.sent)
        if steps > 20000:
            raise RuntimeError("demo did not converge")
    await run_interviews(service, clock, cohort, write=write, quiet=quiet)  # the SCM's second stage
    await edit_recommendations(service, cohort, write=write, quiet=quiet)  # "What to change", edited
    await _until_quiet(service, clock, days=30)  # the leader's final digest, after the interviews
    report = await cohort_report_lines(service, cohort)
    completion = await completion_lines(service, cohort, sent_at)
    completion += closing_lines(sent_at, {p.user_id: p.name for p in PEOPLE if p.manager})
    delivered: dict[str, list[Message]] = {}
    for d in console.sent:
        delivered.setdefault(d.conversation_id.removeprefix("D-"), []).append(d.current)
    await service.db.dispose()
    if tmp is not None:
        tmp.cleanup()
    return DemoSummary(delivered, service, cohort, report, clock.now(), completion)
