"""A journey lived by simulated people, through the real service, store, scheduler and console adapter.

`hplj audit` and `hplj preview` both run a journey file here: a SQLite file in a temporary
folder, the console adapter (built by the composition root) recording every delivery, and a
simulated clock that jumps from one due moment to the next. Only the people are scripted, each by
a behaviour (`Persona.behaviour`); what they receive is recorded as a `journeys.transcript`.
"""

from __future__ import annotations

import heapq
import itertools
import tempfile
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Literal

from bot.app.service import BotService
from bot.app.wiring import console_port
from bot.services.clock import SimulatedClock
from bot.services.facilitators import assign
from journeys import timekeeping
from journeys.calendar import zone
from journeys.day_of import TITLE as MOMENT_TODAY
from journeys.definition import Journey, is_follow_up_survey
from journeys.endorsement import SENTENCE
from journeys.messages import Message
from journeys.progress import journey_weeks
from journeys.state import Person
from journeys.text import plain
from journeys.transcript import INTERVIEW, REPLY, Action, Role, Sent, Transcript, classify
from ports.chat import InboundAction
from store.db import Database
from store.migrate import upgrade_async

Behaviour = Literal["diligent", "ignores", "free_text", "stops"]
AGREED = "One low-stakes moment in the first two weeks, then a real one; we check in on Fridays."
BARRIER = "I don't really have time for this, my team is swamped"
STOP_CONFIRM = "stop yes, no time this quarter"  # `stop` asks to confirm with `stop yes [reason]`
ENDORSEMENT = "This is how we keep our customers: please make the time for it."  # the leader's sentence


@dataclass(frozen=True)
class Persona:
    user: str
    name: str
    tz: str
    country: str | None
    role: Role
    behaviour: Behaviour
    describe: str
    manager: str | None = None  # a participant's manager, a manager's own manager (their leader)
    late: bool = False  # enrolled on the Friday evening (UTC) before a Monday start
    added: timedelta | None = None  # enrolled this long after the others, in an `enroll` of their own
    delay: timedelta = timedelta(hours=1)
    story: str | None = None  # their answer to the Success Case survey's classification (default: not applied)
    consent_delay: timedelta | None = None  # how long they take over an interview request (default: `delay`)
    asks_status: bool = False  # types `status` half an hour after their moment's morning message
    clicks_twice: bool = False  # presses their first answered button again ten minutes later


def audit_cast() -> list[Persona]:
    """Everyone `hplj audit` runs: a leader over three managers (one silent, one with five
    reports), participants who behave differently, in three time zones with their holidays."""
    return [
        Persona("lea", "Lea Fischer", "Europe/London", "GB", "leader", "diligent", "leader over three managers"),
        Persona("max", "Max Turner", "Europe/London", "GB", "manager", "diligent", "manager with five reports",
                manager="lea"),
        Persona("sol", "Sol Ortega", "America/New_York", "US", "manager", "ignores", "silent manager",
                manager="lea"),
        Persona("tomo", "Tomo Sato", "Asia/Tokyo", "JP", "manager", "diligent", "manager in Tokyo",
                manager="lea", delay=timedelta(hours=3)),
        # Dina answers the interview request in the afternoon, in the same minute as Ada in New York
        Persona("dina", "Dina Lowe", "Europe/London", "GB", "participant", "diligent", "diligent participant",
                manager="max", story="success", consent_delay=timedelta(hours=6)),
        Persona("ivan", "Ivan Grey", "America/New_York", "US", "participant", "ignores",
                "ignores everything; added a day after the others", manager="max", added=timedelta(days=1)),
        Persona("fay", "Fay Reed", "Europe/London", "GB", "participant", "free_text", "types instead of pressing",
                manager="max"),
        Persona("stan", "Stan Cole", "Europe/London", "GB", "participant", "stops", "stops the journey",
                manager="max"),
        Persona("kai", "Kai Ito", "Asia/Tokyo", "JP", "participant", "diligent", "diligent participant in Tokyo",
                manager="max", delay=timedelta(hours=5), story="success", clicks_twice=True),
        Persona("ada", "Ada Moss", "America/New_York", "US", "participant", "diligent",
                "participant of the silent manager; checks `status` on her moment's morning", manager="sol",
                story="success", asks_status=True),
        Persona("ned", "Ned Park", "America/New_York", "US", "participant", "ignores",
                "ignores everything, under the silent manager", manager="sol"),
        Persona("lia", "Lia Tan", "Asia/Tokyo", "JP", "participant", "diligent", "late enrollment",
                manager="tomo", late=True),
        Persona("rae", "Rae Quinn", "Europe/London", "GB", "facilitator", "diligent", "workshop facilitator"),
        Persona("oli", "Oli Ward", "Europe/Paris", "FR", "interviewer", "diligent",
                "L&D lead who runs the Success Case interviews"),
    ]


def preview_cast() -> list[Persona]:
    """One participant who answers everything, their manager, the manager's leader and the cohort's
    facilitator (`hplj preview`)."""
    return [
        Persona("lea", "Lea Fischer", "Europe/London", None, "leader", "diligent", "leader"),
        Persona("max", "Max Turner", "Europe/London", None, "manager", "diligent", "manager", manager="lea"),
        Persona("ana", "Ana Silva", "Europe/London", None, "participant", "diligent", "participant", manager="max"),
        Persona("rae", "Rae Quinn", "Europe/London", None, "facilitator", "diligent", "facilitator"),
    ]


@dataclass(order=True)
class _Planned:
    at: datetime
    seq: int
    user: str = field(compare=False)
    action: InboundAction | None = field(compare=False, default=None)
    record: Action | None = field(compare=False, default=None)
    enroll: bool = field(compare=False, default=False)
    group: tuple[str, ...] = field(compare=False, default=())  # whom an `enroll` adds (default: the late)
    command: str | None = field(compare=False, default=None)  # an admin command the user types
    typed: bool = False  # `command` is a person's own command (`status`), typed in their DM
    again: bool = False  # `action` repeats a press already made: its reply is recorded (`reply:click`)


def _answer(journey: Journey, msg: Message, today: date, story: str | None = None) -> dict[str, Any] | None:
    """A sensible answer to a card: a button (Done with what was agreed, Approve, yes to sharing,
    else the first choice) or the form's fields filled in."""
    step_id = (msg.prompt_id or "").split(".", 1)[-1]
    step = next((s for s in journey.steps if s.id == step_id), None)
    kind = step.kind if step else None
    values = [b.value for b in msg.buttons]
    if kind == "manager_task" and "done" in values:
        also = [b.prompt_id for b in msg.buttons if b.value == "done" and b.prompt_id]
        return {"button": "done", "values": {"agreed": AGREED}, "also": also[1:]}
    for preferred in ("approve", "yes"):
        if preferred in values:
            return {"button": preferred}
    if msg.buttons and not msg.fields:
        return {"button": msg.buttons[0].value}
    out: dict[str, Any] = {}
    behaviours = [b.id for b in journey.ppp.behaviours]
    for f in msg.fields:
        if f.show_if_field and str(out.get(f.show_if_field)) not in f.show_if_values:
            continue
        if f.id == SENTENCE:  # the leader's endorsement (journeys/endorsement.py)
            out[f.id] = ENDORSEMENT
        elif f.id == "date" or f.kind == "date":
            out[f.id] = (today + timedelta(days=5)).isoformat()
        elif f.id == "behaviour" and behaviours:
            out[f.id] = behaviours[0]
        elif f.id == "happened":
            out[f.id] = "yes"
        elif f.kind in ("choice", "rating") and f.options:
            values_ = [o.value for o in f.options]
            out[f.id] = "yes" if "yes" in values_ else story if story in values_ else values_[min(len(values_) - 1, 3)]
        elif f.kind == "multi_choice" and f.options:
            out[f.id] = [f.options[0].value]
        elif f.kind in ("text", "long_text"):
            out[f.id] = "A customer call where I usually jump in too fast; I will paraphrase first."
    return {"values": out} if out or msg.buttons else None


class Simulation:
    """One journey, one cohort of personas, one start date; `run` returns the transcript."""

    def __init__(self, journey: Journey, start: date, cast: list[Persona], *, default_tz: str = "Europe/London",
                 down: tuple[datetime, datetime] | None = None) -> None:
        """`down`: (from, until) UTC, the bot is down: nothing runs in between, what fell due runs
        in the first pass after it."""
        self.down = down
        self.journey = journey
        self.start = start
        self.cast = {p.user: p for p in cast}
        self.default_tz = default_tz
        self._clicked_twice: set[str] = set()
        self._answered: set[str] = set()  # who answered a card already (the one who stops does so next)
        self._interviews_planned = False
        self._asked_status: set[tuple[str, date]] = set()  # (who, UTC day) a `status` was typed
        self.begin = datetime.combine(start - timedelta(days=35), time(6, 0), UTC)
        self.stop_at = datetime.combine(start + timedelta(days=7 * journey_weeks(journey) + 84), time(0, 0), UTC)

    async def run(self) -> Transcript:
        with tempfile.TemporaryDirectory(prefix="hplj-audit-") as folder:
            db = Database(f"sqlite:///{Path(folder) / 'audit.db'}")
            try:
                return await self._run(db)
            finally:
                await db.dispose()

    async def _run(self, db: Database) -> Transcript:
        await upgrade_async(db)
        clock = SimulatedClock(self.begin)
        console = console_port()
        for p in self.cast.values():
            console.add_user(p.user, p.name, f"{p.user}@example.com", p.tz)
        service = BotService(db, {self.journey.id: self.journey}, {"console": console}, clock,
                             default_tz=self.default_tz,
                             bootstrap_admins={p.user for p in self.cast.values() if p.role == "interviewer"})
        ids: dict[str, str] = {}
        for p in self.cast.values():
            ids[p.user] = (await service.ensure_person("console", p.user, name=p.name, tz=p.tz,
                                                       email=f"{p.user}@example.com")).id
        async with service.uow() as uow:
            for p in self.cast.values():
                changes: dict[str, Any] = {}
                if p.country:
                    changes["country"] = p.country
                if p.role != "participant" and p.manager:
                    changes["manager_id"] = ids[p.manager]
                if changes:
                    await uow.people.change(ids[p.user], **changes)
            await uow.commit()
        users = {v: k for k, v in ids.items()}
        expectations = self.journey.manager_support.expectations
        t = Transcript(self.journey, self.start, self.start + timedelta(days=7 * journey_weeks(self.journey)),
                       {p.user: p.name for p in self.cast.values()},
                       {p.user for p in self.cast.values() if p.role == "participant"},
                       preparation=(expectations.consent_step, *expectations.shares) if expectations else (),
                       expectations_step=expectations.step if expectations else None,
                       personas={p.user: p.describe for p in self.cast.values()})
        planned: list[_Planned] = []
        seq = itertools.count()
        managers = sorted({p.manager for p in self.cast.values() if p.role == "participant" and p.manager})
        for m in managers:
            now_group = [p for p in self.cast.values() if p.manager == m and p.role == "participant" and not p.late
                         and p.added is None]
            for p in self.cast.values():
                if p.manager == m and p.role == "participant" and p.added is not None:
                    heapq.heappush(planned, _Planned(clock.now() + p.added, next(seq), m, enroll=True, group=(p.user,)))
            late_group = [p for p in self.cast.values() if p.manager == m and p.role == "participant" and p.late]
            if now_group:
                await self._enroll(service, ids, now_group, m, t, clock.now())
            if late_group:
                at = datetime.combine(self.start - timedelta(days=3), time(21, 0), UTC)
                heapq.heappush(planned, _Planned(at, next(seq), m, enroll=True))
        for p in self.cast.values():  # the cohort's facilitator (`enroll … facilitator`)
            if p.role == "facilitator":
                await assign(service.uow, self.journey, "audit", ids[p.user], clock.now(), None)
        started_stop: set[str] = set()
        keys: list[str] = []  # each recorded delivery's id, to find how it looks at the end
        seen = 0
        for _ in range(50000):
            async with service.uow.read() as uow:
                due = await uow.views.next_due_at()
            candidates = [x for x in (due, planned[0].at if planned else None) if x is not None]
            if not candidates:
                break
            nxt = max(min(candidates), clock.now())
            if self.down is not None and self.down[0] <= nxt < self.down[1]:
                nxt = self.down[1]
            if nxt > self.stop_at:
                break
            clock.set(nxt)
            while planned and planned[0].at <= clock.now():
                item = heapq.heappop(planned)
                if item.enroll:
                    group = ([self.cast[u] for u in item.group] if item.group else
                             [p for p in self.cast.values() if p.manager == item.user and p.late])
                    await self._enroll(service, ids, group, item.user, t, clock.now())
                    continue
                if item.command is not None:
                    await self._command(service, item, t, keys)
                    continue
                assert item.action is not None
                result = await service.handle_action(item.action)
                await service.settle()
                if item.again:
                    for r in result.replies:
                        t.sent.append(self._record(clock.now(), self.cast[item.user], f"{REPLY}click", r))
                        keys.append(f"{REPLY}click:{item.seq}")
                if item.record is not None and item.record.text == STOP_CONFIRM:
                    t.stopped[item.record.user] = clock.now()
                if item.record is not None:
                    t.actions.append(Action(clock.now(), item.record.user, item.record.step_id,
                                            item.record.text, item.record.prompt_id, item.record.button))
            await service.tick(clock.now())
            for d in console.sent[seen:]:
                user = d.conversation_id.removeprefix("D-")
                persona = self.cast.get(user)
                if persona is None:
                    continue
                t.sent.append(self._record(clock.now(), persona, d.delivery_id, d.message))
                keys.append(d.delivery_id)
                for when, user_, line in self._interviews_after(t.sent[-1]):
                    heapq.heappush(planned, _Planned(when, next(seq), user_, command=line))
                if persona.asks_status and plain(d.message.title) == MOMENT_TODAY \
                        and (user, clock.now().date()) not in self._asked_status:  # once that morning
                    self._asked_status.add((user, clock.now().date()))
                    heapq.heappush(planned, _Planned(clock.now() + timedelta(minutes=30), next(seq), user,
                                                     command="status", typed=True))
                    for admin in (p for p in self.cast.values() if p.role == "interviewer"):
                        # the L&D lead looks her up that day too, in their hours: when her next prompt comes
                        at = clock.now() + timedelta(minutes=35)
                        cal = timekeeping.calendar_for(self.journey, Person(admin.user, admin.name, admin.tz,
                                                                            admin.country))
                        if cal.is_open(at, zone(admin.tz)):
                            heapq.heappush(planned, _Planned(at, next(seq), admin.user, command=f"status @{user}"))
                invite = t.sent[-1].kind.name == f"{INTERVIEW}invite"
                for when, action, record in self._respond(persona, d.message, clock.now(), started_stop, seq, invite):
                    heapq.heappush(planned, _Planned(when, next(seq), user, action, record))
                    if persona.clicks_twice and action.prompt_id and user not in self._clicked_twice:
                        self._clicked_twice.add(user)  # a double click on a slow connection, once
                        heapq.heappush(planned, _Planned(when + timedelta(minutes=10), next(seq), user,
                                                         replace(action, key=f"{action.key}-again"), again=True))
            seen = len(console.sent)
        # whom each delivery is about, whether it came in the recipient's hours, how it looks now
        async with service.uow.read() as uow:
            people = await uow.people.by_ids(list(ids.values()))
            eids = sorted({s.kind.enrollment_id for s in t.sent if s.kind.enrollment_id})
            about = {eid: users.get(pid) for eid, pid, _ in await uow.enrollments.people_of(eids)}
            states = {users[pid]: uow.people.state(row) for pid, row in people.items()}
        finals = {(d.conversation_id.removeprefix("D-"), d.delivery_id): d.current for d in console.sent}
        for i, s in enumerate(t.sent):
            person = states[s.recipient]
            cal = timekeeping.calendar_for(self.journey, person)
            tz = timekeeping.tz_of(self.journey, person)
            who = about.get(s.kind.enrollment_id or "") or (s.recipient if s.role == "participant" else None)
            t.sent[i] = Sent(s.at, s.at.astimezone(tz), cal.is_open(s.at, tz), s.recipient, s.role, s.kind,
                             s.message, who, finals.get((s.recipient, keys[i])))
        return t

    async def _enroll(self, service: BotService, ids: dict[str, str], group: list[Persona], manager: str,
                      t: Transcript, now: datetime) -> None:
        await service.enroll(self.journey.id, [ids[p.user] for p in group], ids[manager], self.start,
                             cohort="audit")
        for p in group:
            t.enrolled_at[p.user] = now

    def _interviews_after(self, s: Sent) -> list[tuple[datetime, str, str]]:
        """The interviewer's `interviews <cohort>` a week after the Success Case survey first went
        out (candidates are asked for consent, their times held), and again the next working day
        (the calendar, now booked); at 09:30 their time."""
        step = s.kind.step_id
        if self._interviews_planned or s.kind.reminder or s.kind.step_kind != "survey" or step is None \
                or is_follow_up_survey(self.journey.step(step)):
            return []
        self._interviews_planned = True
        out = []
        for p in (x for x in self.cast.values() if x.role == "interviewer"):
            tz = zone(p.tz)
            day = timekeeping.local_date(s.at, tz) + timedelta(days=7)
            for _ in range(2):
                while day.weekday() >= 5:
                    day += timedelta(days=1)
                out.append((datetime.combine(day, time(9, 30), tz).astimezone(UTC), p.user, "interviews audit"))
                day += timedelta(days=1)
        return out

    async def _command(self, service: BotService, item: _Planned, t: Transcript, keys: list[str]) -> None:
        """An admin command (or a person's own, `typed`); its reply is recorded as the person reads
        it (`reply:<command>`)."""
        assert item.command is not None
        now = item.at
        key = f"sim-command-{item.seq}"
        result = (await service.handle_action(InboundAction("console", item.user, key, text=item.command))
                  if item.typed else await service.handle_command("console", item.user, item.command, key))
        await service.settle()
        name = item.command.split()[0]
        for r in result.replies:
            t.sent.append(self._record(now, self.cast[item.user], f"{REPLY}{name}", r))
            keys.append(f"{REPLY}{name}:{item.seq}")

    def _record(self, now: datetime, persona: Persona, delivery_id: str, message: Message) -> Sent:
        # local time, hours and subject are filled in once the run is over (they need the store)
        return Sent(now, now, True, persona.user, persona.role, classify(delivery_id, self.journey), message,
                    None, None)

    def _respond(self, p: Persona, msg: Message, now: datetime, stopped: set[str],
                 seq: itertools.count[int], invite: bool = False) -> list[tuple[datetime, InboundAction, Action]]:
        if p.behaviour == "ignores" or p.user in stopped:
            return []
        if msg.prompt_id is None or msg.closed or not (msg.buttons or msg.fields):
            return []
        when = now + (p.consent_delay if invite and p.consent_delay is not None else p.delay)
        today = timekeeping.local_date(now, zone(p.tz))
        step_id = msg.prompt_id.split(".", 1)[-1]

        def typed(text: str, at: datetime = when) -> tuple[datetime, InboundAction, Action]:
            return at, InboundAction("console", p.user, f"sim-{next(seq)}", text=text), Action(at, p.user, text=text)

        if p.behaviour == "stops" and self._answered_once(p):
            stopped.add(p.user)
            return [typed("stop"), typed(STOP_CONFIRM, when + timedelta(minutes=5))]
        if p.behaviour == "free_text":  # the barrier once, then numbers and "1: ..." as the bot suggests
            if p.user not in self._answered:
                self._answered.add(p.user)
                return [typed(BARRIER)]
            if msg.buttons:
                values = [b.value for b in msg.buttons]
                pick = next((values.index(v) for v in ("yes", "approve", "done") if v in values), 0)
                return [typed(str(pick + 1))]
            return [typed("1: A call with a customer next week, where I paraphrase before I answer.")]
        answer = _answer(self.journey, msg, today, p.story)
        if answer is None:
            return []
        out = [(when, InboundAction("console", p.user, f"sim-{next(seq)}", msg.prompt_id, answer.get("button"),
                                    answer.get("values", {})),
                Action(when, p.user, step_id, None, msg.prompt_id, answer.get("button")))]
        for other in answer.get("also", []):
            out.append((when, InboundAction("console", p.user, f"sim-{next(seq)}", other, "done",
                                            answer.get("values", {})),
                        Action(when, p.user, other.split(".", 1)[-1], None, other, "done")))
        self._answered.add(p.user)
        return out

    def _answered_once(self, p: Persona) -> bool:
        return p.user in self._answered


