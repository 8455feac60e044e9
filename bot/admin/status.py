"""`status`: all cohorts, one person, or one cohort with who is stuck (journeys/stuck.py)."""

from __future__ import annotations

from collections import Counter, defaultdict
from zoneinfo import ZoneInfo

from bot.admin.context import LIST_LIMIT, AdminError, Ctx, as_admin_reads, existing, label, table
from bot.services.access import describe
from bot.services.facilitators import status_lines as facilitator_lines
from journeys import rendering, timekeeping
from journeys.admin.commands import Status, UserRef
from journeys.definition import Journey
from journeys.ending import CLOSE_STEP
from journeys.progress import progress_of
from journeys.state import PromptState
from journeys.stuck import is_stuck, stuck_after
from journeys.text import typed
from ports.chat import HandlerResult
from store.forget import FORGOTTEN
from store.people import PersonRecord
from store.records import EnrollmentRecord


async def status(ctx: Ctx, cmd: Status) -> HandlerResult:
    if cmd.target is None:
        return await _overview(ctx)
    if isinstance(cmd.target, UserRef):
        return await _person(ctx, await existing(ctx, "status", cmd.target))
    return await _cohort(ctx, cmd.target)


async def _overview(ctx: Ctx) -> HandlerResult:
    async with ctx.service.uow.read() as uow:
        rows, failed = await uow.views.status_overview()
        revoked = await uow.access.all()
    # Lost access first (an uninstall, a revoked token: bot/services/access.py): it may be the only place an
    # admin learns of it when no admin could be told on another platform.
    tz = ctx.actor.tz or ctx.service.default_tz
    lost = "".join(f"Access lost: {describe(r, tz)}\n" for r in revoked)
    if not rows:
        return ctx.reply(lost + "No enrollments yet. Start with `enroll <journey-id> <user>... manager <user>`.",
                         "Status")
    cohorts: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for cohort, journey_id, state, n in rows:
        cohorts[(cohort, journey_id)][state] += n
    lines = [[c, j, str(n["active"]), str(n["paused"]), str(n["stopped"] + n["unenrolled"] + n[FORGOTTEN]),
              str(n["completed"]), str(failed.get(c, 0))] for (c, j), n in sorted(cohorts.items())]
    text = table(["cohort", "journey", "active", "paused", "stopped", "completed", "failed deliveries"], lines)
    return ctx.reply(lost + text + "\nType `status <cohort>` or `status <user>` for details.", "Status: all cohorts")


def _step_title(journey: Journey | None, step_id: str) -> str:
    if journey is None:
        return step_id
    if step_id == CLOSE_STEP:
        return "the end of the journey (closing message)"
    base = step_id.split(rendering.COACH_CHECK)[0]
    try:
        return journey.step(base).title
    except KeyError:
        return step_id


async def _person(ctx: Ctx, person: PersonRecord) -> HandlerResult:
    async with ctx.service.uow.read() as uow:
        view = await uow.views.person_status(person.id)
        me = uow.people.state(person)
    lines = [(f"*{label(person)}* ({person.platform} {person.platform_user_id}, "
             f"time zone {person.tz or ctx.service.default_tz})")]
    if person.opted_out_at:
        lines.append(f"Opted out on {person.opted_out_at.date().isoformat()}.")
    if not view.enrollments:
        lines.append("Not enrolled in any journey.")
    for e in view.enrollments:
        journey = ctx.service.library.get(e.journey_id)
        tz = timekeeping.tz_of(journey, me) if journey else ZoneInfo("UTC")
        mine = [p for p in view.prompts if p.enrollment_id == e.id]
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
            lines.append(f"• Next: {_step_title(journey, nxt.step_id)} {as_admin_reads(ctx, nxt.due_at, tz, me)}")
        else:
            lines.append("• Next: nothing scheduled")
        lines.append(f"• Reminders sent: {sum(p.reminders_sent for p in mine)}")
    lines.append("")
    if view.failed:
        lines.append(f"Failed deliveries ({len(view.failed)}):")
        lines.extend(f"• {f.title}: {f.error}" for f in view.failed[:LIST_LIMIT])
    else:
        lines.append("Failed deliveries: none")
    return ctx.reply("\n".join(lines), f"Status: {label(person)}")


async def _cohort(ctx: Ctx, cohort: str) -> HandlerResult:
    async with ctx.service.uow.read() as uow:
        rows = await uow.views.cohort(cohort)
        if not rows.enrollments:
            known = await uow.enrollments.cohorts(limit=LIST_LIMIT)
            raise AdminError(f"`status`: unknown cohort '{cohort}' (known cohorts: {', '.join(known) or 'none'})")
        roles = await facilitator_lines(uow, ctx.service.library, cohort)
    by_enrollment: dict[str, list[PromptState]] = defaultdict(list)
    for p in rows.prompts:
        by_enrollment[p.enrollment_id].append(p)
    people = rows.people
    lines: list[list[str]] = []
    stuck_count = 0
    limits: set[int] = set()
    for e in sorted(rows.enrollments, key=lambda e: (label(people[e.person_id]) if e.person_id in people else "",
                                                     e.id)):
        person = people.get(e.person_id)
        journey = ctx.service.library.get(e.journey_id)
        mine = [p for p in by_enrollment[e.id] if person is not None and p.recipient_id == person.id]
        done = (progress_of(journey, person.id, mine).text().removesuffix(" of their steps done")
                if journey is not None and person is not None else "-")
        open_ = [p for p in mine if p.status == "open"]
        answered = [p.answered_at for p in mine if p.answered_at is not None]
        last = max(answered) if answered else None
        stuck = False
        if e.status == "active" and person is not None and journey is not None:
            limits.add(stuck_after(journey))
            me = rows.states[person.id]
            stuck = any(is_stuck(journey, me, p, ctx.now) for p in open_)
        stuck_count += stuck
        name = "(forgotten)" if e.status == FORGOTTEN or person is None else label(person)
        lines.append([name, e.status, done, str(len(open_)), last.date().isoformat() if last else "-",
                      "STUCK" if stuck else ""])
    text = table(["person", "status", "done", "open", "last response", "stuck"], lines)
    days = "/".join(str(n) for n in sorted(limits)) if limits else "the journey's"
    summary = (f"{len(rows.enrollments)} enrollments, {stuck_count} stuck (an open prompt without a response for "
               f"{days}+ working days).")
    summary = "\n".join([summary, *roles])
    return ctx.reply(summary + "\n" + text + stopped_lines(rows.enrollments, people), f"Status: cohort {cohort}")


def stopped_lines(enrollments: list[EnrollmentRecord], people: dict[str, PersonRecord]) -> str:
    """Who left the journey themselves, when, and why if they said (`stop yes <reason>`)."""
    out: list[str] = []
    for e in enrollments:
        stop = e.notes.get("stopped")
        if e.status != "stopped" or not isinstance(stop, dict) or e.person_id not in people:
            continue
        when = str(stop.get("at", ""))[:10]
        reason = f": “{typed(str(stop['reason']))}”" if stop.get("reason") else " (no reason given)"
        out.append(f"• {label(people[e.person_id])} stopped on {when}{reason}")
    return ("\n\nStopped by the participant:\n" + "\n".join(out)) if out else ""
