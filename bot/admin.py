"""The admin commands: one implementation behind Slack's `/journey`, Teams messages and the console.

`run_admin_command` parses a command line (journeys.commands), checks authorization in one place
(`_authorize`), resolves user references to stored people and runs the command against the store.
Every answer is a `HandlerResult` whose replies go to the acting admin only. Errors name the
argument that is wrong; nothing is changed when a command fails.
"""

from __future__ import annotations

import csv
import inspect
import io
import json
import logging
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy import text as sa_text

from adapters.port import HandlerResult
from bot import directory
from journeys import engine
from journeys.calendar import WorkCalendar
from journeys.commands import (
    COMMANDS,
    Admins,
    Audit,
    Command,
    CommandError,
    Dashboard,
    Enroll,
    Export,
    Forget,
    Help,
    Journeys,
    Pause,
    Report,
    Resume,
    Status,
    Unenroll,
    UserRef,
    help_text,
    parse_command,
)
from journeys.definition import Journey
from journeys.messages import Link, Message
from journeys.state import Outcome
from journeys.text import mention
from store.inbound import claim_inbound, release_inbound
from store.models import (
    AdminRow,
    AuditRow,
    DigestRow,
    EnrollmentRow,
    EventRow,
    InboundRow,
    MtmRow,
    OutboxRow,
    PersonRow,
    PromptRow,
)
from store.repo import _insert, load_enrollments, person_state, prompt_state, save_outcome

log = logging.getLogger("hplj.bot")
audit_log = logging.getLogger("hplj.audit")

LIST_LIMIT = 20  # beyond this many people, replies summarise instead of listing everyone
ANON_PERSON_ID = "anon"  # the placeholder that forgotten enrollments point at, so counts survive
FORGOTTEN = "forgotten"
DEFAULT_STUCK_DAYS = 3


class AdminError(Exception):
    """A command that can't run as given; the message is shown to the admin verbatim."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class _Ctx:
    service: Any
    platform: str
    user_id: str
    actor: PersonRow
    now: datetime
    today: date

    def reply(self, text: str, title: str = "", *, facts: tuple[tuple[str, str], ...] = (),
              attachment_name: str = "", attachment_text: str = "", links: tuple[Link, ...] = ()) -> HandlerResult:
        return HandlerResult(replies=(Message(recipient_id=self.actor.id, title=title, text=text, facts=facts,
                                              attachment_name=attachment_name, attachment_text=attachment_text,
                                              links=links, audience="admin"),))


# --------------------------------------------------------------------------- entry point


async def run_admin_command(service: Any, platform: str, user_id: str, text: str, key: str) -> HandlerResult:
    now = service.clock.now()
    today = now.astimezone(UTC).date()
    try:
        command: Command | None = parse_command(text, today)
        error: CommandError | None = None
    except CommandError as exc:
        command, error = None, exc
    name = command.command if command is not None else _command_word(text)

    refusal = await _authorize(service, platform, user_id, name)
    if refusal is not None:
        return refusal
    # only admins are stored on sight: a stranger asking for `help` leaves no trace
    admin = await service.is_admin(platform, user_id)
    actor = await _actor(service, platform, user_id, create=admin)
    ctx = _Ctx(service, platform, user_id, actor, now, today)
    if error is not None:
        return ctx.reply(error.message, "Command not understood")
    assert command is not None
    # An admin's command redelivered (same slash-command trigger, same Teams activity id) runs
    # once. Bad input changes nothing, not even this table: a refused command gives its key back.
    claimed = f"{platform}:{key}" if key and admin else None
    if claimed and not await claim_inbound(service.db, claimed, actor.id, now):
        log.info("duplicate command %s ignored", key)
        return HandlerResult()
    try:
        return await _HANDLERS[type(command)](ctx, command)
    except AdminError as exc:
        if claimed:
            await release_inbound(service.db, claimed)
        return ctx.reply(exc.message, f"`{name}` not done")


def _command_word(text: str) -> str | None:
    words = text.strip().split()
    if words and words[0].lower() in ("journey", "/journey"):
        words = words[1:]
    if not words:
        return "help"
    word = words[0].lower()
    if word in ("?", "--help", "-h"):
        return "help"
    return word if word in COMMANDS else None


async def _authorize(service: Any, platform: str, user_id: str, name: str | None) -> HandlerResult | None:
    """The one authorization check: every command but `help` is for admins.

    Unknown command words are let through to the parser's answer (it only explains the grammar).
    Denials are logged with the platform and the command name, never with personal content.
    """
    if name is None or name == "help":
        return None
    if await service.is_admin(platform, user_id):
        return None
    audit_log.warning("admin command refused: platform=%s command=%s", platform, name)
    you = f"@{user_id}" if platform == "console" else mention(user_id)
    actor = await _actor(service, platform, user_id, create=False)
    return HandlerResult(replies=(Message(
        recipient_id=actor.id, title="Not allowed",
        text=f"Sorry, `{name}` is for journey admins. Ask an admin to run `admins add {you}`.",
        audience="admin"),))


async def _actor(service: Any, platform: str, user_id: str, *, create: bool) -> PersonRow:
    if create:
        return await service.ensure_person(platform, user_id)
    row = await _person_by_platform_id(service, platform, user_id)
    if row is not None:
        return row
    # not stored and nothing may change: an unsaved stand-in, only used to address the reply
    return PersonRow(id=user_id, platform=platform, platform_user_id=user_id, name=user_id)


# --------------------------------------------------------------------------- users


async def _person_by_platform_id(service: Any, platform: str, user_id: str) -> PersonRow | None:
    """By platform user id; on Teams also by the channel account id (`29:...`) in the stored
    conversation reference, since mentions often carry only that and not the AAD object id."""
    async with service.db.read() as s:
        row = (await s.execute(select(PersonRow).where(PersonRow.platform == platform,
                                                       PersonRow.platform_user_id == user_id))).scalar_one_or_none()
        if row is None and platform == "teams" and user_id.startswith("29:"):
            row = (await s.execute(select(PersonRow).where(
                PersonRow.platform == platform,
                PersonRow.address["user_id"].as_string() == user_id))).scalars().first()
        return row


@dataclass
class _Found:
    """A resolved user: a stored row, or a profile still to be stored (so errors change nothing)."""

    ref: UserRef
    row: PersonRow | None = None
    platform: str = ""
    user_id: str = ""
    name: str | None = None
    email: str | None = None
    tz: str | None = None

    async def store(self, service: Any) -> PersonRow:
        if self.row is None or self.name or self.email or self.tz:
            self.row = await service.ensure_person(self.platform or self.row.platform,  # type: ignore[union-attr]
                                                   self.user_id or self.row.platform_user_id,  # type: ignore[union-attr]
                                                   name=self.name, email=self.email, tz=self.tz)
        return self.row


async def _find(ctx: _Ctx, command: str, ref: UserRef, *, create: bool) -> _Found:
    """Resolve a user reference; `create` allows people the platform knows but the bot doesn't yet."""
    service, platform = ctx.service, ctx.platform
    port = service.ports.get(platform)
    if ref.kind == "mention":
        row = await _person_by_platform_id(service, platform, ref.value)
        if row is not None and row.platform_user_id != ref.value:
            return _Found(ref, row)  # known under an alias (a Teams channel account id)
        if port is not None and create:
            try:
                profile = await port.resolve_profile(ref.value)
            except Exception:  # noqa: BLE001 - any platform failure means we can't vouch for the user
                profile = None
            if profile is not None:
                return _Found(ref, row, platform, ref.value, profile.name, profile.email, profile.tz)
        if row is not None:
            return _Found(ref, row)
        raise AdminError(f"`{command}`: unknown user {ref.display} (the {platform} workspace doesn't know them)")
    if ref.kind == "email":
        async with service.db.read() as s:
            rows = (await s.execute(select(PersonRow).where(func.lower(PersonRow.email) == ref.value))).scalars().all()
        rows = sorted(rows, key=lambda r: (r.platform != platform, r.created_at))
        if rows:
            return _Found(ref, rows[0])
        profile = None
        if port is not None:
            try:
                profile = await port.find_user_by_email(ref.value)
            except Exception:  # noqa: BLE001
                profile = None
        if profile is not None:
            row = await _person_by_platform_id(service, platform, profile.user_id)
            if row is not None and not create:
                return _Found(ref, row)
            if create:
                return _Found(ref, row, platform, profile.user_id, profile.name, profile.email or ref.value, profile.tz)
        raise AdminError(f"`{command}`: no {platform} user has the e-mail {ref.value}")
    # kind == "name": a console user name on the acting platform
    row = await _person_by_platform_id(service, platform, ref.value)
    if create and port is not None:
        try:
            profile = await port.resolve_profile(ref.value)
        except Exception:  # noqa: BLE001
            profile = None
        if profile is not None:
            return _Found(ref, row, platform, ref.value, profile.name, profile.email, profile.tz)
    if row is not None:
        return _Found(ref, row)
    if create and platform == "console":
        return _Found(ref, None, platform, ref.value)
    raise AdminError(f"`{command}`: unknown user {ref.display} (expected someone who has talked to the bot)")


async def _existing(ctx: _Ctx, command: str, ref: UserRef) -> PersonRow:
    found = await _find(ctx, command, ref, create=False)
    if found.row is None:  # pragma: no cover - create=False always yields a row or an error
        raise AdminError(f"`{command}`: unknown user {ref.display}")
    return found.row


def _label(p: PersonRow) -> str:
    return p.name or p.platform_user_id


def _names(people: list[PersonRow] | list[str], limit: int = LIST_LIMIT) -> str:
    names = [p if isinstance(p, str) else _label(p) for p in people]
    if len(names) <= limit:
        return ", ".join(names)
    return f"{', '.join(names[:limit])} and {len(names) - limit} more"


# --------------------------------------------------------------------------- help, journeys


async def _help(ctx: _Ctx, cmd: Help) -> HandlerResult:
    return ctx.reply(help_text(cmd.topic), "Journey admin commands" if cmd.topic is None else f"help {cmd.topic}")


async def _journeys(ctx: _Ctx, cmd: Journeys) -> HandlerResult:
    async with ctx.service.db.read() as s:
        counts = dict((await s.execute(select(EnrollmentRow.journey_id, func.count()).where(
            EnrollmentRow.status == "active").group_by(EnrollmentRow.journey_id))).all())
    lib: dict[str, Journey] = ctx.service.library
    if not lib:
        return ctx.reply("No journeys are loaded.", "Journeys")
    lines = [f"• `{j.id}` — {j.title} (version {j.version}): {counts.get(j.id, 0)} active enrollments"
             for j in sorted(lib.values(), key=lambda j: j.id)]
    return ctx.reply("\n".join(lines), "Journeys")


# --------------------------------------------------------------------------- enroll


def _journey(ctx: _Ctx, command: str, journey_id: str) -> Journey:
    journey = ctx.service.library.get(journey_id)
    if journey is None:
        known = ", ".join(sorted(ctx.service.library)) or "none loaded"
        raise AdminError(f"`{command}`: unknown journey '{journey_id}' (known journeys: {known})")
    return journey


async def _enroll(ctx: _Ctx, cmd: Enroll) -> HandlerResult:
    journey = _journey(ctx, "enroll", cmd.journey_id)
    declared = [e.id for e in journey.events]
    for name in cmd.events:
        if name not in declared:
            expected = ", ".join(declared) if declared else "this journey declares no events"
            raise AdminError(f"`enroll`: unknown event '{name}' for journey {journey.id} (expected: {expected})")
    # resolve everyone before storing anyone: an unknown user leaves nothing behind
    participants = [await _find(ctx, "enroll", ref, create=True) for ref in cmd.users]
    if cmd.manager.kind == "auto":
        groups, above = await _own_managers(ctx, participants)
    else:
        groups, above = [(await _find(ctx, "enroll", cmd.manager, create=True), participants)], []

    def ident(f: _Found) -> tuple[str, str]:
        return (f.row.platform, f.row.platform_user_id) if f.row is not None else (f.platform, f.user_id)

    for manager, members in groups:
        for f in members:
            if ident(f) == ident(manager):
                raise AdminError(f"`enroll`: the manager can't also be a participant ({manager.ref.display} is "
                                 f"{f.ref.display})")
    start = cmd.start
    if start is None:
        cal = WorkCalendar.from_definition(journey.calendar, None, None)
        start = cal.roll_forward(ctx.today + timedelta(days=7))

    stored: list[tuple[PersonRow, list[PersonRow]]] = []
    seen: set[str] = set()
    for manager, members in groups:
        people: list[PersonRow] = []
        for f in members:
            row = await f.store(ctx.service)
            if row.id not in seen:
                seen.add(row.id)
                people.append(row)
        stored.append((await manager.store(ctx.service), people))
    for f in above:
        await f.store(ctx.service)
    # their own calendars and managers, from the directory, before their prompts are scheduled
    await directory.apply(ctx.service, [r.email or "" for m, ps in stored for r in (m, *ps)]
                          + [f.email or (f.row.email if f.row else "") or "" for f in above])
    lines: list[str] = []
    totals = [0, 0, 0, 0]
    cohort = ""
    for manager_row, people in stored:
        result = await ctx.service.enroll(journey.id, [p.id for p in people], manager_row.id, start,
                                          events=dict(cmd.events), cohort=cmd.cohort, actor_id=ctx.actor.id)
        lines.extend(_enroll_lines(journey, start, manager_row, people, result))
        cohort = result.cohort
        for i, n in enumerate((len(result.enrolled), len(result.already), len(result.opted_out), result.prompts)):
            totals[i] += n
    facts = (("Journey", journey.id), ("Cohort", cohort), ("Start", start.isoformat()),
             ("Enrolled", str(totals[0])), ("Already enrolled", str(totals[1])),
             ("Opted out", str(totals[2])), ("Prompts scheduled", str(totals[3])))
    return ctx.reply("\n".join(lines), "Enrollment", facts=facts)


def _enroll_lines(journey: Journey, start: date, manager_row: PersonRow, people: list[PersonRow],
                  result: Any) -> list[str]:
    by_id = {p.id: p for p in people}
    lines: list[str] = []
    if result.enrolled:
        enrolled = [by_id[pid] for pid, _ in result.enrolled]
        lines.append(f"Enrolled {len(enrolled)} in {journey.title} starting {start.isoformat()}: {_names(enrolled)}.")
    else:
        lines.append("Nobody new was enrolled.")
    if result.already:
        lines.append("Already enrolled (unchanged): " + "; ".join(
            f"{_label(by_id[pid])} already enrolled since {since.isoformat()}"
            for pid, since in result.already[:LIST_LIMIT]) + (
            f"; and {len(result.already) - LIST_LIMIT} more" if len(result.already) > LIST_LIMIT else "") + ".")
    if result.opted_out:
        lines.append(f"Not enrolled, opted out: {_names([by_id[p] for p in result.opted_out])}.")
    lines.append(f"Manager: {_label(manager_row)}. Cohort: `{result.cohort}` (use `status {result.cohort}` and "
                 f"`report {result.cohort}`). Prompts scheduled: {result.prompts}.")
    return lines


async def _own_managers(ctx: _Ctx, participants: list[_Found]) -> tuple[list[tuple[_Found, list[_Found]]],
                                                                        list[_Found]]:
    """`manager auto`: each participant's manager from the directory, grouped; and the managers'
    own managers (for accountability digests) where the platform knows them."""
    by_manager: dict[str, tuple[_Found, list[_Found]]] = {}
    for f in participants:
        email = (f.email or (f.row.email if f.row is not None else None) or "").lower()
        if not email:
            raise AdminError(f"`enroll`: {f.ref.display} has no e-mail address the directory could be asked "
                             "about; name their manager with `manager <user>`")
        entry = await directory.lookup(ctx.service, ctx.platform, email)
        if entry is None or not entry.manager_email:
            raise AdminError(f"`enroll`: the directory has no manager for {email} (Microsoft Graph, Slack profile "
                             "fields or `hplj people sync`); name one with `manager <user>`. Nobody was enrolled.")
        if entry.manager_email not in by_manager:
            manager = await _find(ctx, "enroll", UserRef("email", entry.manager_email), create=True)
            by_manager[entry.manager_email] = (manager, [])
        by_manager[entry.manager_email][1].append(f)
    above: list[_Found] = []
    for manager_email in by_manager:
        entry = await directory.lookup(ctx.service, ctx.platform, manager_email)
        if entry is not None and entry.manager_email and entry.manager_email not in by_manager:
            try:
                above.append(await _find(ctx, "enroll", UserRef("email", entry.manager_email), create=True))
            except AdminError:
                pass  # their own manager is not reachable here: no senior-leader digest for them
    return list(by_manager.values()), above


# --------------------------------------------------------------------------- status


async def _status(ctx: _Ctx, cmd: Status) -> HandlerResult:
    if cmd.target is None:
        return await _status_overview(ctx)
    if isinstance(cmd.target, UserRef):
        return await _status_person(ctx, await _existing(ctx, "status", cmd.target))
    return await _status_cohort(ctx, cmd.target)


def _table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    out = [fmt.format(*header), fmt.format(*("-" * w for w in widths))]
    out += [fmt.format(*(str(c) for c in r)) for r in rows]
    return "```\n" + "\n".join(line.rstrip() for line in out) + "\n```"


async def _status_overview(ctx: _Ctx) -> HandlerResult:
    async with ctx.service.db.read() as s:
        rows = (await s.execute(select(EnrollmentRow.cohort, EnrollmentRow.journey_id, EnrollmentRow.status,
                                       func.count()).group_by(EnrollmentRow.cohort, EnrollmentRow.journey_id,
                                                              EnrollmentRow.status))).all()
        failed = dict((await s.execute(select(EnrollmentRow.cohort, func.count()).join(
            OutboxRow, OutboxRow.enrollment_id == EnrollmentRow.id).where(OutboxRow.state == "failed")
            .group_by(EnrollmentRow.cohort))).all())
    if not rows:
        return ctx.reply("No enrollments yet. Start with `enroll <journey-id> <user>... manager <user>`.", "Status")
    cohorts: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for cohort, journey_id, status, n in rows:
        cohorts[(cohort, journey_id)][status] += n
    table = [[c, j, str(n["active"]), str(n["paused"]), str(n["stopped"] + n["unenrolled"] + n[FORGOTTEN]),
              str(n["completed"]), str(failed.get(c, 0))] for (c, j), n in sorted(cohorts.items())]
    text = _table(["cohort", "journey", "active", "paused", "stopped", "completed", "failed deliveries"], table)
    return ctx.reply(text + "\nType `status <cohort>` or `status <user>` for details.", "Status: all cohorts")


def _step_title(journey: Journey | None, step_id: str) -> str:
    if journey is None:
        return step_id
    base = step_id.split(engine.COACH_CHECK)[0]
    try:
        return journey.step(base).title
    except KeyError:
        return step_id


async def _status_person(ctx: _Ctx, person: PersonRow) -> HandlerResult:
    async with ctx.service.db.read() as s:
        enrollments = (await s.execute(select(EnrollmentRow).where(EnrollmentRow.person_id == person.id)
                                       .order_by(EnrollmentRow.created_at))).scalars().all()
        ids = [e.id for e in enrollments]
        prompts = (await s.execute(select(PromptRow).where(or_(PromptRow.enrollment_id.in_(ids),
                                                               PromptRow.recipient_id == person.id))
                                   )).scalars().all()
        failed = (await s.execute(select(OutboxRow).where(
            or_(OutboxRow.recipient_id == person.id, OutboxRow.enrollment_id.in_(ids)),
            OutboxRow.state == "failed").order_by(OutboxRow.id))).scalars().all()
    me = person_state(person, ctx.service.default_tz)
    lines = [f"*{_label(person)}* ({person.platform} {person.platform_user_id}, time zone {person.tz or ctx.service.default_tz})"]
    if person.opted_out_at:
        lines.append(f"Opted out on {person.opted_out_at.date().isoformat()}.")
    if not enrollments:
        lines.append("Not enrolled in any journey.")
    for e in enrollments:
        journey = ctx.service.library.get(e.journey_id)
        tz = engine.tz_of(journey, me) if journey else ZoneInfo("UTC")
        mine = [p for p in prompts if p.enrollment_id == e.id]
        lines.append("")
        lines.append(f"*{journey.title if journey else e.journey_id}* — {e.status}, cohort `{e.cohort}`, "
                     f"start {e.start.isoformat()}")
        sent = sorted((p for p in mine if p.sent_at is not None), key=lambda p: p.sent_at)  # type: ignore[arg-type,return-value]
        if sent:
            lines.append(f"• Current step: {_step_title(journey, sent[-1].step_id)}")
        open_ = [p for p in mine if p.status == "open"]
        lines.append("• Open prompts: " + (", ".join(
            f"{_step_title(journey, p.step_id)}{' (to the manager)' if p.recipient_id != person.id else ''}"
            for p in open_) if open_ else "none"))
        upcoming = sorted((p for p in mine if p.status == "scheduled" and p.recipient_id == person.id),
                          key=lambda p: p.due_at)
        if e.status == "paused":
            lines.append(f"• Paused since {e.paused_at.date().isoformat() if e.paused_at else '?'}: nothing is sent "
                         "until `resume`.")
        elif upcoming:
            nxt = upcoming[0]
            lines.append(f"• Next: {_step_title(journey, nxt.step_id)} on {engine.format_local(nxt.due_at, tz)}")
        else:
            lines.append("• Next: nothing scheduled")
        lines.append(f"• Reminders sent: {sum(p.reminders_sent for p in mine)}")
    if failed:
        lines.append("")
        lines.append(f"Failed deliveries ({len(failed)}):")
        for o in failed[:LIST_LIMIT]:
            title = (o.payload or {}).get("title") or o.key
            lines.append(f"• {title}: {o.error or 'unknown error'}")
    else:
        lines.append("")
        lines.append("Failed deliveries: none")
    return ctx.reply("\n".join(lines), f"Status: {_label(person)}")


async def _status_cohort(ctx: _Ctx, cohort: str) -> HandlerResult:
    async with ctx.service.db.read() as s:
        enrollments = (await s.execute(select(EnrollmentRow).where(EnrollmentRow.cohort == cohort))).scalars().all()
        if not enrollments:
            known = (await s.execute(select(EnrollmentRow.cohort).distinct().order_by(EnrollmentRow.cohort)
                                     .limit(LIST_LIMIT))).scalars().all()
            raise AdminError(f"`status`: unknown cohort '{cohort}' (known cohorts: {', '.join(known) or 'none'})")
        ids = [e.id for e in enrollments]
        prompts = (await s.execute(select(PromptRow).where(PromptRow.enrollment_id.in_(ids)))).scalars().all()
        people = {p.id: p for p in (await s.execute(select(PersonRow).where(
            PersonRow.id.in_({e.person_id for e in enrollments})))).scalars().all()}
    by_enrollment: dict[str, list[PromptRow]] = defaultdict(list)
    for p in prompts:
        by_enrollment[p.enrollment_id].append(p)
    rows: list[list[str]] = []
    stuck_count = 0
    for e in sorted(enrollments, key=lambda e: (_label(people[e.person_id]) if e.person_id in people else "", e.id)):
        person = people.get(e.person_id)
        journey = ctx.service.library.get(e.journey_id)
        mine = [p for p in by_enrollment[e.id] if person is not None and p.recipient_id == person.id]
        done = sum(1 for p in mine if p.status in ("answered", "done"))
        open_ = [p for p in mine if p.status == "open"]
        answered = [p.answered_at for p in mine if p.answered_at is not None]
        last = max(answered) if answered else None
        stuck = False
        if e.status == "active" and person is not None and journey is not None:
            me = person_state(person, ctx.service.default_tz)
            cal, tz = engine.calendar_for(journey, me), engine.tz_of(journey, me)
            limit = journey.manager_digest.stuck_after if journey.manager_digest and getattr(
                journey.manager_digest, "stuck_after", None) else DEFAULT_STUCK_DAYS
            for p in open_:
                since = p.sent_at or p.due_at
                if (last is None or last < since) and cal.working_days_between(
                        engine.local_date(since, tz), engine.local_date(ctx.now, tz)) >= limit:
                    stuck = True
        stuck_count += stuck
        name = "(forgotten)" if e.status == FORGOTTEN or person is None else _label(person)
        rows.append([name, e.status, str(done), str(len(open_)), last.date().isoformat() if last else "-",
                     "STUCK" if stuck else ""])
    text = _table(["person", "status", "done", "open", "last response", "stuck"], rows)
    summary = f"{len(enrollments)} enrollments, {stuck_count} stuck (an open prompt without a response for " \
              f"{DEFAULT_STUCK_DAYS}+ working days)."
    return ctx.reply(summary + "\n" + text, f"Status: cohort {cohort}")


# --------------------------------------------------------------------------- pause, resume, unenroll


async def _change_enrollments(ctx: _Ctx, command: str, person: PersonRow, statuses: tuple[str, ...],
                              journey_id: str | None, decide: Any) -> list[tuple[EnrollmentRow, Outcome]]:
    done: list[tuple[EnrollmentRow, Outcome]] = []
    async with ctx.service.db.write() as s:
        stmt = select(EnrollmentRow).where(EnrollmentRow.person_id == person.id, EnrollmentRow.status.in_(statuses))
        if journey_id is not None:
            stmt = stmt.where(EnrollmentRow.journey_id == journey_id)
        rows = (await s.execute(stmt)).scalars().all()
        if not rows:
            return []
        states = await load_enrollments(s, [r.id for r in rows], ctx.service.default_tz)
        prompts = (await s.execute(select(PromptRow).where(PromptRow.enrollment_id.in_([r.id for r in rows])))
                   ).scalars().all()
        for r in rows:
            state = states[r.id]
            mine = [prompt_state(p) for p in prompts if p.enrollment_id == r.id]
            out: Outcome = decide(ctx.service.library.get(r.journey_id), state, mine, ctx.now)
            await save_outcome(s, out, ctx.now)
            s.add(AuditRow(at=ctx.now, actor_id=ctx.actor.id, action=command, target_id=person.id,
                           detail={"enrollment": r.id, "journey": r.journey_id}))
            done.append((r, out))
    return done


async def _pause(ctx: _Ctx, cmd: Pause) -> HandlerResult:
    person = await _existing(ctx, "pause", cmd.user)
    done = await _change_enrollments(ctx, "pause", person, ("active",), None,
                                     lambda j, e, ps, now: engine.pause(e, ps, now))
    if not done:
        raise AdminError(f"`pause`: {cmd.user.display} has no active enrollment to pause")
    journeys = ", ".join(ctx.service.library[r.journey_id].title if r.journey_id in ctx.service.library
                         else r.journey_id for r, _ in done)
    return ctx.reply(f"Paused {_label(person)} in {journeys}. Nothing is sent to them until `resume`; "
                     "what was still to come will shift by the working days spent paused.", "Paused")


async def _resume(ctx: _Ctx, cmd: Resume) -> HandlerResult:
    person = await _existing(ctx, "resume", cmd.user)

    def decide(journey: Journey | None, e: Any, ps: Any, now: datetime) -> Outcome:
        if journey is None:
            raise AdminError(f"`resume`: journey '{e.journey_id}' is no longer loaded")
        return engine.resume(journey, e, ps, now)

    done = await _change_enrollments(ctx, "resume", person, ("paused",), None, decide)
    if not done:
        raise AdminError(f"`resume`: {cmd.user.display} has no paused enrollment to resume")
    lines = []
    me = person_state(person, ctx.service.default_tz)
    for r, out in done:
        journey = ctx.service.library[r.journey_id]
        upcoming = sorted(p.due_at for p in out.prompts if p.status == "scheduled")
        nxt = f"; next prompt {engine.format_local(upcoming[0], engine.tz_of(journey, me))}" if upcoming else ""
        shift = next((ev.data.get("shift_days") for ev in out.events if ev.kind == "resumed"), 0)
        lines.append(f"Resumed {_label(person)} in {journey.title}: the schedule moved {shift} working days{nxt}.")
    return ctx.reply("\n".join(lines), "Resumed")


async def _unenroll(ctx: _Ctx, cmd: Unenroll) -> HandlerResult:
    if cmd.journey_id is not None:
        _journey(ctx, "unenroll", cmd.journey_id)
    person = await _existing(ctx, "unenroll", cmd.user)
    done = await _change_enrollments(ctx, "unenroll", person, ("active", "paused"), cmd.journey_id,
                                     lambda j, e, ps, now: engine.stop(e, ps, now, status="unenrolled"))
    if not done:
        where = f" in {cmd.journey_id}" if cmd.journey_id else ""
        raise AdminError(f"`unenroll`: {cmd.user.display} has no active or paused enrollment{where}")
    names = ", ".join(r.journey_id for r, _ in done)
    return ctx.reply(f"Unenrolled {_label(person)} from {names}. Their data stays until `forget`.", "Unenrolled")


# --------------------------------------------------------------------------- export, forget


def _jsonable(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def _row_dict(row: Any, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    return {c.key: _jsonable(getattr(row, c.key)) for c in row.__table__.columns if c.key not in skip}


def _no_secrets(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _no_secrets(v) for k, v in value.items()
                if not any(w in k.lower() for w in ("token", "secret", "password"))}
    return value


async def export_person(db: Any, pid: str, now: datetime) -> dict[str, Any] | None:
    """Everything stored about person `pid` as JSON-ready data, read from the database now; None
    when nobody has that id (never existed, or forgotten). The one implementation behind the
    `export` command, the signed download link (`GET /dashboard/export`) and `hplj export`."""
    async with db.read() as s:
        person = await s.get(PersonRow, pid)
        if person is None:
            return None
        enrollments = (await s.execute(select(EnrollmentRow).where(EnrollmentRow.person_id == pid))).scalars().all()
        managed = (await s.execute(select(EnrollmentRow.id).where(EnrollmentRow.manager_id == pid))).scalars().all()
        ids = [e.id for e in enrollments]
        prompts = (await s.execute(select(PromptRow).where(or_(PromptRow.enrollment_id.in_(ids),
                                                               PromptRow.recipient_id == pid)))).scalars().all()
        mtms = (await s.execute(select(MtmRow).where(MtmRow.enrollment_id.in_(ids)))).scalars().all()
        outbox = (await s.execute(select(OutboxRow).where(OutboxRow.recipient_id == pid)
                                  .order_by(OutboxRow.id))).scalars().all()
        audit = (await s.execute(select(AuditRow).where(or_(AuditRow.target_id == pid, AuditRow.actor_id == pid))
                                 .order_by(AuditRow.id))).scalars().all()
        admin = await s.get(AdminRow, pid)
        digests = (await s.execute(select(DigestRow).where(DigestRow.manager_id == pid))).scalars().all()
        inbound = (await s.execute(select(InboundRow).where(InboundRow.person_id == pid))).scalars().all()
        person_data = _row_dict(person)
    person_data["address"] = _no_secrets(person_data.get("address"))
    return {
        "exported_at": now.isoformat(),
        "person": person_data,
        "admin": _row_dict(admin) if admin else None,
        "enrollments": [_row_dict(e) for e in enrollments],
        "manager_of_enrollments": list(managed),
        "prompts": [_row_dict(p, ("claimed_until",)) for p in prompts],
        "mtms": [_row_dict(m) for m in mtms],
        "messages": [_row_dict(o, ("lease_until", "lease_owner")) for o in outbox],
        "digests": [_row_dict(d) for d in digests],
        "inbound_actions": [_row_dict(i) for i in inbound],
        "audit": [_row_dict(a) for a in audit],
    }


def export_json(data: dict[str, Any]) -> str:
    """The export file's text (UTF-8 JSON)."""
    return json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def export_filename(pid: str) -> str:
    """`export-<person id>.json`, safe in a Content-Disposition header and on any file system."""
    return "export-" + "".join(c if c.isalnum() or c in "-_" else "_" for c in pid) + ".json"


async def record_export(db: Any, actor_id: str | None, pid: str, now: datetime, action: str = "export",
                        **detail: Any) -> None:
    """An audit row for an export: who and whom by id only, never the content."""
    async with db.write() as s:
        s.add(AuditRow(at=now, actor_id=actor_id, action=action, target_id=pid, detail=dict(detail)))


def _strings(value: Any) -> Any:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _strings(v)


def _shown_in_full(platform: str, msg: Message) -> bool:
    """Whether `platform` shows `msg`'s attachment inline without cutting or changing it.

    Slack (no files:write scope) and Teams (card size limits) render attachments as text and
    truncate them; the console prints them whole."""
    text = msg.attachment_text
    if platform == "slack":
        from adapters.slack.render import render_blocks

        if any(c in text for c in "&<>"):  # Slack would read these as markup
            return False
        rendered: Any = render_blocks(msg)
    elif platform == "teams":
        from adapters.teams.render import render_card

        rendered = render_card(msg)
    else:
        return True
    return any(text in s for s in _strings(rendered))


async def _export(ctx: _Ctx, cmd: Export) -> HandlerResult:
    from bot.dashboard import EXPORT_TTL, make_export_link

    person = await _existing(ctx, "export", cmd.user)
    pid = person.id
    data = await export_person(ctx.service.db, pid, ctx.now)
    if data is None:  # forgotten between the lookup and now
        raise AdminError(f"`export`: unknown user {cmd.user.display}")
    summary = (f"Everything stored about {_label(person)}: {len(data['enrollments'])} enrollments, "
               f"{len(data['prompts'])} prompts, {len(data['mtms'])} moments that matter, "
               f"{len(data['messages'])} messages.")
    hours = max(1, round(EXPORT_TTL.total_seconds() / 3600))
    link = make_export_link(ctx.service, ctx.actor.id, pid)
    if link is not None:
        # The link carries ids and a signature only: the file is built from the database when it
        # is opened, so it is always complete and current, and nothing after a `forget`.
        await record_export(ctx.service.db, ctx.actor.id, pid, ctx.now, "export_link")
        return ctx.reply(f"{summary} Download the complete JSON file with the link below. The link is yours "
                         f"alone, works for {hours} h and only for this person; don't forward it, and handle "
                         "the file as personal data.", "Export",
                         links=(Link(f"Download the export (JSON, expires in {hours} h)", link),))
    name, text = export_filename(pid), export_json(data)
    reply = ctx.reply(f"{summary} The JSON file is attached; handle it as personal data.", "Export",
                      attachment_name=name, attachment_text=text)
    if not _shown_in_full(ctx.platform, reply.replies[0]):
        return ctx.reply(f"{summary} The export is {len(text):,} characters: too large to show here in full, "
                         "and this installation has no public web address (HPLJ_PUBLIC_URL) for a download "
                         "link. Nothing was sent. On the server, run "
                         f"`hplj export {pid} --out {name}` to get the complete file.", "Export too large for chat")
    await record_export(ctx.service.db, ctx.actor.id, pid, ctx.now)
    return reply


def _scrub(value: Any, replace: dict[str, str | None]) -> Any:
    """Replace every string (or substring) equal to a forgotten id inside JSON data."""
    if isinstance(value, dict):
        return {k: _scrub(v, replace) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v, replace) for v in value]
    if isinstance(value, str):
        if value in replace:
            return replace[value]
        for old, new in replace.items():
            if old in value:
                value = value.replace(old, new or "anon")
        return value
    return value


def _mentions(data: Any, needles: list[str]) -> bool:
    text = json.dumps(data, ensure_ascii=False, default=str).lower()
    return any(n and n.lower() in text for n in needles)


async def _forget(ctx: _Ctx, cmd: Forget) -> HandlerResult:
    person = await _existing(ctx, "forget", cmd.user)
    pid = person.id
    if pid == ctx.actor.id:
        raise AdminError(f"`forget`: you can't forget yourself ({cmd.user.display}); ask another admin")
    async with ctx.service.db.write() as s:
        if ctx.service.db.is_sqlite:
            await s.execute(sa_text("PRAGMA secure_delete=ON"))
        enrollments = (await s.execute(select(EnrollmentRow).where(EnrollmentRow.person_id == pid))).scalars().all()
        ids = [e.id for e in enrollments]
        tokens = {eid: f"anon-{uuid.uuid4().hex[:16]}" for eid in ids}
        replace: dict[str, str | None] = {**tokens, pid: None}
        needles = [pid, person.email or "", *ids]

        # aggregates survive as anonymous numbers: facts move to an anonymous enrollment id
        events = (await s.execute(select(EventRow).where(EventRow.enrollment_id.in_(ids)))).scalars().all() if ids else []
        for ev in events:
            ev.enrollment_id = tokens[ev.enrollment_id]
            ev.prompt_id = None
            ev.data = _scrub(dict(ev.data or {}), replace)

        # their own data
        if ids:
            await s.execute(delete(MtmRow).where(MtmRow.enrollment_id.in_(ids)))
        await s.execute(delete(PromptRow).where(or_(PromptRow.enrollment_id.in_(ids), PromptRow.recipient_id == pid)))
        await s.execute(delete(OutboxRow).where(or_(OutboxRow.recipient_id == pid, OutboxRow.enrollment_id.in_(ids))))
        # other people's messages that quote them: their managers' digests, their own team's requests
        quoting = [pid, person.email or ""]
        if len(person.platform_user_id) >= 6:  # short console names would match ordinary words
            quoting.append(person.platform_user_id)
        if person.name and len(person.name) >= 4:
            quoting.append(person.name)
        related = {e.manager_id for e in enrollments if e.manager_id} | set((await s.execute(
            select(EnrollmentRow.person_id).where(EnrollmentRow.manager_id == pid))).scalars().all())
        others = (await s.execute(select(OutboxRow.id, OutboxRow.payload).where(
            OutboxRow.recipient_id.in_(related)))).all() if related else []
        doomed = [oid for oid, payload in others if _mentions(payload, quoting)]
        if doomed:
            await s.execute(delete(OutboxRow).where(OutboxRow.id.in_(doomed)))
        await s.execute(delete(InboundRow).where(InboundRow.person_id == pid))
        await s.execute(delete(DigestRow).where(DigestRow.manager_id == pid))
        await s.execute(delete(AdminRow).where(AdminRow.person_id == pid))
        await s.execute(update(AdminRow).where(AdminRow.granted_by == pid).values(granted_by=None))
        await s.execute(update(EnrollmentRow).where(EnrollmentRow.manager_id == pid).values(manager_id=None))
        await s.execute(update(PersonRow).where(PersonRow.manager_id == pid).values(manager_id=None))

        # their enrollments become anonymous rows, so cohort counts stay right
        if enrollments:
            await s.execute(_insert(s)(PersonRow).values(
                id=ANON_PERSON_ID, platform="anon", platform_user_id=ANON_PERSON_ID, name="(forgotten)",
                created_at=ctx.now, greeted=True).on_conflict_do_nothing(index_elements=["id"]))
            for e in enrollments:
                s.add(EnrollmentRow(id=tokens[e.id], journey_id=e.journey_id, journey_version=e.journey_version,
                                    person_id=ANON_PERSON_ID, manager_id=None, start=e.start, events=dict(e.events or {}),
                                    status=FORGOTTEN, cohort=e.cohort, paused_at=None, created_at=e.created_at))
            await s.flush()
            await s.execute(delete(EnrollmentRow).where(EnrollmentRow.id.in_(ids)))

        # the audit trail keeps what happened, not to whom
        audits = (await s.execute(select(AuditRow).where(or_(AuditRow.target_id == pid, AuditRow.actor_id == pid))
                                  )).scalars().all()
        for a in audits:
            touched = False
            if a.target_id == pid or a.target_id in tokens:
                a.target_id, touched = None, True
            if a.actor_id == pid:
                a.actor_id, touched = None, True
            if touched or _mentions(a.detail, needles):
                a.detail = _scrub(dict(a.detail or {}), replace)
        await s.execute(delete(PersonRow).where(PersonRow.id == pid))
        s.add(AuditRow(at=ctx.now, actor_id=ctx.actor.id, action="forget", target_id=None,
                       detail={"enrollments": len(ids)}))
    await _compact(ctx.service.db)
    return ctx.reply(f"Forgot {cmd.user.display}: removed their profile, {len(ids)} enrollments with their answers, "
                     "reflections and messages. Their journey facts remain only as anonymous numbers in reports.",
                     "Forgotten")


async def _compact(db: Any) -> None:
    """SQLite keeps deleted bytes in free pages and the WAL: checkpoint, rebuild, truncate the WAL."""
    if not db.is_sqlite:
        return
    try:
        async with db.engine.connect() as conn:
            raw = await conn.get_raw_connection()
            driver = raw.driver_connection
            for sql in ("PRAGMA wal_checkpoint(TRUNCATE)", "VACUUM", "PRAGMA wal_checkpoint(TRUNCATE)"):
                cursor = await driver.execute(sql)
                await cursor.fetchall()
                await cursor.close()
    except Exception:
        log.exception("could not compact the SQLite file after forget")


# --------------------------------------------------------------------------- report, dashboard


async def _report(ctx: _Ctx, cmd: Report) -> HandlerResult:
    from bot.reports import cohort_evaluation, cohort_events, cohort_report_lines
    from journeys.accountability import request_steps
    from journeys.evaluation import per_person_rows, to_csv_rows

    lines = await cohort_report_lines(ctx.service, cmd.cohort)
    ev, _title = await cohort_evaluation(ctx.service, cmd.cohort)
    if ev is None:
        raise AdminError(f"`report`: unknown cohort '{cmd.cohort}' (see `status` for the cohorts)")
    if not cmd.csv:
        return ctx.reply("\n".join(lines), f"Report: {cmd.cohort}")
    ids, events, journey_id = await cohort_events(ctx.service, cmd.cohort)
    journey = ctx.service.library.get(journey_id or "")
    async with ctx.service.db.read() as s:
        rows = (await s.execute(select(EnrollmentRow.id, PersonRow.name).join(
            PersonRow, PersonRow.id == EnrollmentRow.person_id).where(EnrollmentRow.id.in_(ids)))).all()
    names = {eid: ("" if eid.startswith("anon-") else name) for eid, name in rows}
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerows(to_csv_rows(ev))
    writer.writerow([])
    writer.writerows(per_person_rows(events, names, enrollment_ids=ids, as_of=ctx.now,
                                     request_steps=request_steps(journey) if journey else ()))
    return ctx.reply("\n".join(lines), f"Report: {cmd.cohort}", attachment_name=f"report-{cmd.cohort}.csv",
                     attachment_text=buf.getvalue())


async def _dashboard(ctx: _Ctx, cmd: Dashboard) -> HandlerResult:
    try:
        from bot import dashboard  # type: ignore[attr-defined]

        make_link = getattr(dashboard, "make_link", None)
    except ImportError:
        make_link = None
    if make_link is None:
        return ctx.reply("The dashboard is not configured on this installation.", "Dashboard")
    link = make_link(ctx.service, ctx.actor.id)
    if inspect.isawaitable(link):
        link = await link
    return ctx.reply(f"Your dashboard link (personal and expiring; don't forward it): {link}", "Dashboard",
                     links=(Link("Open the dashboard", str(link)),))


# --------------------------------------------------------------------------- admins, audit


async def _admins(ctx: _Ctx, cmd: Admins) -> HandlerResult:
    service = ctx.service
    if cmd.action == "list":
        async with service.db.read() as s:
            rows = (await s.execute(select(AdminRow, PersonRow).join(PersonRow, PersonRow.id == AdminRow.person_id)
                                    .order_by(AdminRow.granted_at))).all()
        lines = [f"• {_label(p)} ({p.platform} {p.platform_user_id}) since {a.granted_at.date().isoformat()}"
                 for a, p in rows]
        if service.bootstrap_admins:
            lines.append(f"Bootstrap admins (HPLJ_ADMINS): {', '.join(sorted(service.bootstrap_admins))}")
        return ctx.reply("\n".join(lines) or "No admins.", "Admins")
    assert cmd.user is not None
    command = f"admins {cmd.action}"
    if cmd.action == "add":
        found = await _find(ctx, command, cmd.user, create=True)
        target = await found.store(service)
        async with service.db.write() as s:
            if await s.get(AdminRow, target.id) is not None:
                return ctx.reply(f"{_label(target)} is already an admin. Nothing changed.", "Admins")
            s.add(AdminRow(person_id=target.id, granted_by=ctx.actor.id, granted_at=ctx.now))
            s.add(AuditRow(at=ctx.now, actor_id=ctx.actor.id, action="admin_grant", target_id=target.id, detail={}))
        return ctx.reply(f"{_label(target)} is now a journey admin.", "Admins")
    target = await _existing(ctx, command, cmd.user)
    async with service.db.write() as s:
        row = await s.get(AdminRow, target.id)
        if row is None:
            if target.platform_user_id in service.bootstrap_admins or (target.email or "") in service.bootstrap_admins:
                raise AdminError(f"`{command}`: {cmd.user.display} is a bootstrap admin; remove them from HPLJ_ADMINS")
            raise AdminError(f"`{command}`: {cmd.user.display} is not an admin")
        count = (await s.execute(select(func.count()).select_from(AdminRow))).scalar_one()
        actor_bootstrap = ctx.user_id in service.bootstrap_admins or (ctx.actor.email or "") in service.bootstrap_admins
        if target.id == ctx.actor.id and count <= 1 and not actor_bootstrap:
            raise AdminError(f"`{command}`: you are the last admin; add another admin before removing yourself")
        await s.delete(row)
        s.add(AuditRow(at=ctx.now, actor_id=ctx.actor.id, action="admin_revoke", target_id=target.id, detail={}))
    return ctx.reply(f"{_label(target)} is no longer a journey admin.", "Admins")


async def _audit(ctx: _Ctx, cmd: Audit) -> HandlerResult:
    async with ctx.service.db.read() as s:
        rows = (await s.execute(select(AuditRow).order_by(AuditRow.id.desc()).limit(cmd.limit))).scalars().all()
    if not rows:
        return ctx.reply("The audit log is empty.", "Audit log")
    table = [[a.at.strftime("%Y-%m-%d %H:%M"), a.actor_id or "-", a.action, a.target_id or "-"] for a in rows]
    return ctx.reply(_table(["time (UTC)", "actor", "action", "target"], table), f"Audit log: last {len(rows)}")


_HANDLERS: dict[type, Any] = {
    Help: _help,
    Journeys: _journeys,
    Enroll: _enroll,
    Status: _status,
    Report: _report,
    Pause: _pause,
    Resume: _resume,
    Unenroll: _unenroll,
    Forget: _forget,
    Export: _export,
    Dashboard: _dashboard,
    Admins: _admins,
    Audit: _audit,
}
