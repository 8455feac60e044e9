"""The composition of engine, store and ports: what every adapter's inbound request ends up calling.

Each inbound action runs in one write transaction: the idempotency key is inserted first (a
retried request hits the unique constraint and changes nothing), then the engine's decision is
saved with its outbox rows. Delivery happens after, outside the request.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.exc import IntegrityError

from adapters.port import BotHandler, ChatPort, HandlerResult, InboundAction, Profile
from bot.clock import Clock, SystemClock
from journeys import engine
from journeys.conversation import PersonView, handle_text
from journeys.definition import Journey
from journeys.messages import Message, Reply
from journeys.state import EnrollmentState, Outcome
from journeys.text import clean
from scheduler.delivery import DeliveryResult, Dispatcher
from scheduler.tick import TickResult, process_due
from store.db import Database
from store.models import AdminRow, DigestRow, EnrollmentRow, InboundRow, MtmRow, PersonRow, PromptRow
from store.repo import (
    _insert,
    enrollment_state,
    load_enrollments,
    mtm_state,
    new_id,
    person_state,
    prompt_state,
    save_outcome,
)

log = logging.getLogger("hplj.bot")

# How long a kick waits before draining, so one pass delivers what a burst of actions queued.
KICK_DELAY = 0.05
ADDRESS_TTL = 30.0  # seconds an address looked up for a proactive send is reused

# The hot path's reads, built once (Core: rows, no ORM identity map).
_PEOPLE = PersonRow.__table__
_PERSON_BY_PLATFORM_ID = select(_PEOPLE).where(_PEOPLE.c.platform == bindparam("platform"),
                                              _PEOPLE.c.platform_user_id == bindparam("uid"))
_PEOPLE_BY_IDS = select(_PEOPLE).where(_PEOPLE.c.id.in_(bindparam("ids", expanding=True)))
_PROMPT_BY_ID = select(PromptRow.__table__).where(PromptRow.__table__.c.id == bindparam("id"))
_ENROLLMENT_BY_ID = select(EnrollmentRow.__table__).where(EnrollmentRow.__table__.c.id == bindparam("id"))
_MTM_BY_ID = select(MtmRow.__table__).where(MtmRow.__table__.c.id == bindparam("id"))
_ADDRESS_BY_USER = (select(PersonRow.address, PersonRow.tz, PersonRow.email, PersonRow.name)
                    .where(PersonRow.platform == bindparam("platform"),
                           or_(PersonRow.platform_user_id == bindparam("uid"), PersonRow.id == bindparam("uid")))
                    .limit(1))
TZ_RECHECK = timedelta(hours=12)  # a time zone seen again is re-stamped at most this often

PROMPT_GONE = "That prompt is no longer available. Type `status` to see what's open."
NOT_YOURS = "Sorry, that was sent to someone else, so it can't act for you. Nothing was changed."


def _person_changes(row: PersonRow, now: datetime, *, name: str | None, email: str | None, tz: str | None,
                    address: dict[str, Any] | None, dm_id: str | None) -> dict[str, Any]:
    """The columns a profile seen now would change (nothing when it says what is stored)."""
    changes: dict[str, Any] = {}
    if name and row.name != name:
        changes["name"] = name
    if email and row.email != email:
        changes["email"] = email
    if tz and (row.tz != tz or row.tz_checked_at is None or now - row.tz_checked_at > TZ_RECHECK):
        changes["tz"], changes["tz_checked_at"] = tz, now
    if address and row.address != address:
        changes["address"] = address
    if dm_id and row.dm_id != dm_id:
        changes["dm_id"] = dm_id
    return changes


async def _insert_person(s: Any, platform: str, user_id: str, now: datetime, *, name: str | None,
                         email: str | None, tz: str | None, address: dict[str, Any] | None = None,
                         dm_id: str | None = None) -> None:
    """A new person; ON CONFLICT: a concurrent first action of the same user (PostgreSQL) is not an error."""
    await s.execute(_insert(s)(PersonRow).values(
        id=new_id("p_"), platform=platform, platform_user_id=user_id, name=name or user_id, email=email,
        tz=tz, tz_checked_at=now if tz else None, address=address, dm_id=dm_id, created_at=now,
        greeted=False).on_conflict_do_nothing(index_elements=["platform", "platform_user_id"]))


@dataclass
class EnrollResult:
    enrolled: list[tuple[str, str]] = field(default_factory=list)  # (person id, enrollment id)
    already: list[tuple[str, date]] = field(default_factory=list)  # (person id, since)
    opted_out: list[str] = field(default_factory=list)
    prompts: int = 0
    cohort: str = ""


class BotService(BotHandler):
    def __init__(self, db: Database, library: dict[str, Journey], ports: Mapping[str, ChatPort],
                 clock: Clock | None = None, *, default_tz: str = "UTC", bootstrap_admins: set[str] | None = None,
                 settings: Any = None) -> None:
        self.db = db
        self.library = library
        self.ports = dict(ports)
        self.clock = clock or SystemClock()
        self.default_tz = default_tz
        self.bootstrap_admins = bootstrap_admins or set()
        self.settings = settings
        self.dispatcher = Dispatcher(db, self.ports, library=library, default_tz=default_tz)
        self._kick_lock = asyncio.Lock()
        self._background: set[asyncio.Task[Any]] = set()
        self._kick_waiting = False
        self.kick_delay = KICK_DELAY
        # addresses for proactive sends, by (platform, user id): cleared whenever a person changes here
        self._addresses: dict[tuple[str, str], tuple[float, dict[str, Any] | None]] = {}

    # --- people -----------------------------------------------------------------------------

    async def ensure_person(self, platform: str, user_id: str, *, name: str | None = None,
                            email: str | None = None, tz: str | None = None, address: dict[str, Any] | None = None,
                            dm_id: str | None = None) -> PersonRow:
        now = self.clock.now()
        # Most calls find the person stored and unchanged: a read, no write transaction.
        async with self.db.read() as s:
            row = (await s.execute(select(PersonRow).where(PersonRow.platform == platform,
                                                           PersonRow.platform_user_id == user_id))).scalar_one_or_none()
            if row is not None and not _person_changes(row, now, name=name, email=email, tz=tz, address=address,
                                                       dm_id=dm_id):
                s.expunge(row)
                return row
        async with self.db.write() as s:
            row = await self._upsert_person(s, platform, user_id, now, name=name, email=email, tz=tz,
                                            address=address, dm_id=dm_id)
            s.expunge(row)
        self._addresses.clear()
        return row

    async def _upsert_person(self, s: Any, platform: str, user_id: str, now: datetime, *, name: str | None = None,
                             email: str | None = None, tz: str | None = None,
                             address: dict[str, Any] | None = None, dm_id: str | None = None) -> PersonRow:
        """The person, created or brought up to date inside the caller's write transaction."""
        where = (PersonRow.platform == platform, PersonRow.platform_user_id == user_id)
        row = (await s.execute(select(PersonRow).where(*where))).scalar_one_or_none()
        if row is None:
            await _insert_person(s, platform, user_id, now, name=name, email=email, tz=tz, address=address,
                                 dm_id=dm_id)
            row = (await s.execute(select(PersonRow).where(*where))).scalar_one()
            return row
        changes = _person_changes(row, now, name=name, email=email, tz=tz, address=address, dm_id=dm_id)
        for key, value in changes.items():
            setattr(row, key, value)
        if changes:
            await s.flush()
        return row

    async def is_admin(self, platform: str, user_id: str) -> bool:
        async with self.db.read() as s:
            row = (await s.execute(select(PersonRow).where(PersonRow.platform == platform,
                                                           PersonRow.platform_user_id == user_id))).scalar_one_or_none()
            if row is not None and (row.email or "") in self.bootstrap_admins:
                return True
            if user_id in self.bootstrap_admins:
                return True
            if row is None:
                return False
            return (await s.get(AdminRow, row.id)) is not None

    # --- enrollment ---------------------------------------------------------------------------

    async def enroll(self, journey_id: str, participant_ids: list[str], manager_id: str | None, start: date,
                     *, events: dict[str, date] | None = None, cohort: str | None = None,
                     actor_id: str | None = None) -> EnrollResult:
        journey = self.library[journey_id]
        now = self.clock.now()
        cohort_name = cohort or f"{journey_id}-{start.isoformat()}"
        result = EnrollResult(cohort=cohort_name)
        from store.models import AuditRow

        async with self.db.write() as s:
            people = {p.id: p for p in (await s.execute(select(PersonRow).where(
                PersonRow.id.in_([*participant_ids, *([manager_id] if manager_id else [])])))).scalars().all()}
            existing = {e.person_id: e for e in (await s.execute(select(EnrollmentRow).where(
                EnrollmentRow.journey_id == journey_id, EnrollmentRow.person_id.in_(participant_ids),
                EnrollmentRow.status.in_(("active", "paused"))))).scalars().all()}
            manager_row = people.get(manager_id or "")
            combined = Outcome()
            for pid in participant_ids:
                person = people[pid]
                if pid in existing:
                    result.already.append((pid, existing[pid].start))
                    continue
                if person.opted_out_at is not None:
                    result.opted_out.append(pid)
                    continue
                eid = new_id("e_")
                s.add(EnrollmentRow(id=eid, journey_id=journey_id, journey_version=journey.version, person_id=pid,
                                    manager_id=manager_id, start=start,
                                    events={k: v.isoformat() for k, v in (events or {}).items()},
                                    status="active", cohort=cohort_name, created_at=now))
                state = EnrollmentState(eid, journey_id, person_state(person, self.default_tz),
                                        person_state(manager_row, self.default_tz) if manager_row else None,
                                        start, dict(events or {}), "active", cohort_name)
                out = engine.schedule_enrollment(journey, state, now)
                out.enrollments.clear()  # the row was just added
                combined.extend(out)
                result.enrolled.append((pid, eid))
                s.add(AuditRow(at=now, actor_id=actor_id, action="enroll", target_id=pid,
                               detail={"enrollment": eid, "journey": journey_id, "cohort": cohort_name}))
            await s.flush()
            await save_outcome(s, combined, now)
            result.prompts = len(combined.prompts)
            if manager_row is not None and journey.manager_digest is not None and result.enrolled:
                nxt = engine.next_digest_at(journey, person_state(manager_row, self.default_tz), now)
                stmt = _insert(s)(DigestRow).values(manager_id=manager_row.id, journey_id=journey_id, next_at=nxt,
                                                   sent=0).on_conflict_do_nothing()
                await s.execute(stmt)
        return result

    # --- state for one person -----------------------------------------------------------------

    async def person_view(self, s: Any, person: PersonRow) -> PersonView:
        rows = (await s.execute(select(EnrollmentRow).where(
            or_(EnrollmentRow.person_id == person.id, EnrollmentRow.manager_id == person.id),
            EnrollmentRow.status != "unenrolled"))).scalars().all()
        ids = [r.id for r in rows]
        enrollments = await load_enrollments(s, ids, self.default_tz)
        prompts = (await s.execute(select(PromptRow).where(PromptRow.enrollment_id.in_(ids)))).scalars().all() if ids else []
        mtms = (await s.execute(select(MtmRow).where(MtmRow.enrollment_id.in_(ids)))).scalars().all() if ids else []
        return PersonView(person_state(person, self.default_tz), self.library,
                          [e for e in enrollments.values() if e.journey_id in self.library],
                          [prompt_state(p) for p in prompts], {m.id: mtm_state(m) for m in mtms})

    # --- inbound ------------------------------------------------------------------------------

    async def handle_action(self, action: InboundAction) -> HandlerResult:
        """One write transaction: the person (only written when new or changed), the idempotency
        key, the engine's decision with its outbox rows. A button or form answer loads only its
        prompt, that prompt's enrollment (with the two people) and its MTM; typed text loads the
        person's whole view, since it is routed to one of their open prompts. The reads are Core
        statements built once (no ORM identity map on the hot path)."""
        action = action.cleaned()  # control characters never get past the port
        profile = action.profile
        now = self.clock.now()
        reply = Reply("", action.key, action.prompt_id, action.button,
                      {k: v for k, v in action.values.items() if not k.startswith("_")}, action.text)
        try:
            async with self.db.write(urgent=True) as s:
                person = await self._action_person(s, action.platform, action.user_id, now, profile)
                inserted = await (await s.connection()).execute(
                    _insert(s)(InboundRow).on_conflict_do_nothing(index_elements=["key"]),
                    {"key": f"{action.platform}:{action.key}", "person_id": person.id, "at": now})
                if not inserted.rowcount:
                    log.info("duplicate inbound %s ignored", action.key)
                    return HandlerResult()
                reply = replace(reply, person_id=person.id)
                if reply.prompt_id is not None and (reply.button is not None or reply.values):
                    outcome = await self._answer_prompt(s, person, reply, now)
                else:
                    view = await self.person_view(s, person)  # type: ignore[arg-type]
                    exists = (reply.prompt_id is not None and reply.prompt_id not in {p.id for p in view.prompts}
                              and await s.get(PromptRow, reply.prompt_id) is not None)
                    outcome = self._decide(view, reply, now, someone_elses=exists)
                await save_outcome(s, outcome, now)
        except IntegrityError:
            log.info("duplicate inbound %s ignored", action.key)
            return HandlerResult()
        self.kick()
        return HandlerResult(updated=outcome.updated, replies=tuple(outcome.replies))

    async def _action_person(self, s: Any, platform: str, user_id: str, now: datetime,
                             profile: Profile | None) -> SimpleNamespace:
        """The acting person's columns, created or brought up to date in the caller's transaction."""
        name, email, tz = (profile.name, profile.email, profile.tz) if profile else (None, None, None)
        params = {"platform": platform, "uid": user_id}
        row = (await s.execute(_PERSON_BY_PLATFORM_ID, params)).first()
        if row is None:
            await _insert_person(s, platform, user_id, now, name=name, email=email, tz=tz)
            row = (await s.execute(_PERSON_BY_PLATFORM_ID, params)).one()
            return SimpleNamespace(**row._mapping)
        person = SimpleNamespace(**row._mapping)
        changes = _person_changes(person, now, name=name, email=email, tz=tz, address=None,  # type: ignore[arg-type]
                                  dm_id=None)
        if changes:
            await s.execute(update(PersonRow).where(PersonRow.id == person.id).values(**changes))
            for key, value in changes.items():
                setattr(person, key, value)
            self._addresses.clear()
        return person

    async def _answer_prompt(self, s: Any, person: Any, reply: Reply, now: datetime) -> Outcome:
        """A button or form on one prompt: what `_decide` does with a full view, from a few reads."""
        prompt_row = (await s.execute(_PROMPT_BY_ID, {"id": reply.prompt_id})).first()
        e_row = (await s.execute(_ENROLLMENT_BY_ID, {"id": prompt_row.enrollment_id})).first() if prompt_row else None
        if prompt_row is None or e_row is None:
            return Outcome(replies=[Message(person.id, PROMPT_GONE)])
        if e_row.status == "unenrolled" or person.id not in (e_row.person_id, e_row.manager_id):
            # a button or form of a prompt addressed to someone else entirely
            return Outcome(replies=[Message(person.id, NOT_YOURS)])
        journey = self.library.get(e_row.journey_id)
        if journey is None:
            return Outcome(replies=[Message(person.id, PROMPT_GONE)])
        people: dict[str, Any] = {person.id: person}
        missing = [i for i in (e_row.person_id, e_row.manager_id) if i and i not in people]
        if missing:
            people.update((r.id, r) for r in (await s.execute(_PEOPLE_BY_IDS, {"ids": missing})).all())
        enrollment = enrollment_state(e_row, people[e_row.person_id], people.get(e_row.manager_id or ""),
                                      self.default_tz)
        mtm = None
        if prompt_row.mtm_id:
            m = (await s.execute(_MTM_BY_ID, {"id": prompt_row.mtm_id})).first()
            mtm = mtm_state(m) if m is not None and m.enrollment_id == e_row.id else None
        return engine.answer(journey, enrollment, prompt_state(prompt_row), mtm, reply, now)

    def _decide(self, view: PersonView, reply: Reply, now: datetime, *, someone_elses: bool = False) -> Outcome:
        """Typed text (buttons and forms go to `_answer_prompt`)."""
        if someone_elses:
            # a button or form of a prompt addressed to someone else entirely
            return Outcome(replies=[Message(view.person.id, NOT_YOURS)])
        if reply.prompt_id is not None and reply.prompt_id not in {p.id for p in view.prompts}:
            return Outcome(replies=[Message(view.person.id, PROMPT_GONE)])
        return handle_text(view, reply, now)

    async def handle_command(self, platform: str, user_id: str, text: str, key: str) -> HandlerResult:
        from bot.admin import run_admin_command

        return await run_admin_command(self, platform, user_id, clean(text), key)

    async def remember_user(self, platform: str, profile: Profile, address: dict[str, Any]) -> bool:
        profile = profile.cleaned()
        person = await self.ensure_person(platform, profile.user_id, name=profile.name, email=profile.email,
                                          tz=profile.tz, address=address)
        if person.greeted:
            return False
        async with self.db.write() as s:
            row = await s.get(PersonRow, person.id)
            if row is None or row.greeted:
                return False
            row.greeted = True
        return True

    async def address_of(self, platform: str, user_id: str) -> dict[str, Any] | None:
        """How to reach a user proactively (a Teams ConversationReference), with their cached profile.

        `user_id` is the platform's user id or the bot's own person id: the dispatcher addresses
        outbox rows by person id, and must reach people after a restart when nothing is cached."""
        key = (platform, user_id)
        cached = self._addresses.get(key)
        if cached is not None and cached[0] > time.monotonic():
            return dict(cached[1]) if cached[1] is not None else None
        async with self.db.read() as s:
            row = (await s.execute(_ADDRESS_BY_USER, {"platform": platform, "uid": user_id})).first()
        found = None if row is None or row.address is None else {
            **row.address, "tz": row.tz, "email": row.email, "user_name": row.name}
        if found is not None:  # (a person not reachable yet may become reachable any moment)
            if len(self._addresses) > 10000:
                self._addresses.clear()
            self._addresses[key] = (time.monotonic() + ADDRESS_TTL, found)
        return dict(found) if found is not None else None

    async def home_view(self, platform: str, user_id: str) -> list[Message] | None:
        """The Slack App Home: the same status a person gets by typing `status`."""
        from journeys.conversation import status_message

        async with self.db.read() as s:
            row = (await s.execute(select(PersonRow).where(PersonRow.platform == platform,
                                                           PersonRow.platform_user_id == user_id))).scalar_one_or_none()
            if row is None:
                return None
            view = await self.person_view(s, row)
        return [status_message(view, self.clock.now())]

    async def prompt_message(self, prompt_id: str, *, platform: str | None = None,
                             user_id: str | None = None) -> Message | None:
        async with self.db.read() as s:
            row = await s.get(PromptRow, prompt_id)
            if row is None:
                return None
            if user_id is not None:  # only its addressee may open a prompt (its form shows their text)
                asker = (await s.execute(_PERSON_BY_PLATFORM_ID, {"platform": platform, "uid": user_id})).first()
                if asker is None or asker.id != row.recipient_id:
                    raise PermissionError(NOT_YOURS)
            enrollments = await load_enrollments(s, [row.enrollment_id], self.default_tz)
            e = enrollments[row.enrollment_id]
            journey = self.library.get(e.journey_id)
            if journey is None:
                return None
            mtm = mtm_state(m) if row.mtm_id and (m := await s.get(MtmRow, row.mtm_id)) else None
            return engine.render_prompt(journey, e, prompt_state(row), mtm)

    # --- scheduler ----------------------------------------------------------------------------

    async def tick(self, now: datetime | None = None) -> tuple[TickResult, DeliveryResult]:
        """One full pass: due prompts -> outbox -> platforms. `hplj tick --at` calls this."""
        at = now or self.clock.now()
        result = await process_due(self.db, self.library, at, default_tz=self.default_tz,
                                   min_group=getattr(self.settings, "min_group_size", None) if self.settings else None)
        delivered = await self.drain(at)
        return result, delivered

    async def drain(self, now: datetime | None = None) -> DeliveryResult:
        total = DeliveryResult()
        async with self._kick_lock:
            for _ in range(1000):
                r = await self.dispatcher.deliver(now or self.clock.now())
                total.add(r)
                if not (r.sent or r.failed or r.expired or r.retried):
                    break
                if r.retried and not (r.sent or r.failed or r.expired):
                    break
        return total

    def kick(self) -> None:
        """Deliver what an inbound action queued, soon, without holding up the response.

        Kicks are coalesced: at most one drain is waiting to start (after `kick_delay`, so a burst
        of actions is delivered by one pass); a kick while a drain runs schedules exactly one more
        after it, so rows committed after that drain's claim are not left for the scheduler."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        if self._kick_waiting:
            return
        self._kick_waiting = True
        task = loop.create_task(self._kicked())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _kicked(self) -> None:
        try:
            if self.kick_delay > 0:
                await asyncio.sleep(self.kick_delay)
        finally:
            self._kick_waiting = False  # actions committed from here on need (and get) another pass
        await self._safe_drain()

    async def _safe_drain(self) -> None:
        try:
            await self.drain()
        except Exception:  # noqa: BLE001 - the scheduler retries; a kick must never crash a request
            log.exception("background delivery failed; the scheduler will retry")

    def track(self, task: asyncio.Task[Any]) -> None:
        """Background work an adapter started after answering (e.g. a Teams reply message):
        `settle()` waits for it too."""
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def settle(self) -> None:
        """Wait for background deliveries (tests, demo)."""
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)
