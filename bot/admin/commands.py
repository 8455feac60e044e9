"""The admin commands: one implementation behind Slack's `/journey`, Teams messages and the console.

`run_admin_command` parses a command line (journeys.admin.commands), checks authorization in one place
(`_authorize`), resolves user references to stored people (bot/admin/context.py) and runs the
command through a unit of work. Every answer is a `HandlerResult` whose replies go to the acting
admin only. Errors name the argument that is wrong; nothing is changed when a command fails.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from bot.admin.context import (
    AdminError,
    Ctx,
    actor,
    existing,
    find,
    label,
    table,
)
from bot.admin.enrollments import enroll, pause, resume, unenroll
from bot.admin.interviews import interview, interviews
from bot.admin.recommendations import recommendations
from bot.admin.status import status
from bot.dashboard.links import EXPORT_TTL, make_export_link, make_link
from bot.dashboard.report_links import REPORT_TTL, make_report_link, report_filename
from bot.services.export import export_filename, export_json, export_person, record_export
from bot.services.exports import NO_XAPI_KEY, evaluation_csv, xapi_json, xapi_key
from bot.services.host import Services
from bot.services.reports import cohort_evaluation, cohort_events, cohort_report_lines
from journeys.admin.commands import (
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
    Interview,
    Interviews,
    Journeys,
    Pause,
    Report,
    Resume,
    Status,
    Unenroll,
    parse_command,
)
from journeys.admin.help_surface import reader_help
from journeys.messages import Link, Message
from journeys.text import mention
from ports.chat import HandlerResult

log = logging.getLogger("hplj.bot")
audit_log = logging.getLogger("hplj.audit")

async def run_admin_command(service: Services, platform: str, user_id: str, text: str, key: str) -> HandlerResult:
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
    admin = await service.people.is_admin(platform, user_id)
    acting = await actor(service, platform, user_id, create=admin)
    ctx = Ctx(service, platform, user_id, acting, now, today)
    if error is not None:
        return ctx.reply(error.message, "Command not understood")
    assert command is not None
    # An admin's command redelivered (same slash-command trigger, same Teams activity id) runs
    # once. Bad input changes nothing, not even this table: a refused command gives its key back.
    claimed = f"{platform}:{key}" if key and admin else None
    if claimed and not await _claim(service, claimed, acting.id, now):
        log.info("duplicate command %s ignored", key)
        return HandlerResult()
    try:
        return await _HANDLERS[type(command)](ctx, command)
    except AdminError as exc:
        if claimed:
            async with service.uow() as uow:
                await uow.inbound.release(claimed)
                await uow.commit()
        return ctx.reply(exc.message, f"`{name}` not done")


async def _claim(service: Services, key: str, person_id: str, now: datetime) -> bool:
    """True the first time an inbound key is seen; False for a replay (nothing runs again)."""
    async with service.uow(urgent=True) as uow:
        fresh = await uow.inbound.claim(key, person_id, now)
        await uow.commit()
    return fresh


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


async def _authorize(service: Services, platform: str, user_id: str, name: str | None) -> HandlerResult | None:
    """The one authorization check: every command but `help` is for admins.

    Unknown command words are let through to the parser's answer (it only explains the grammar).
    Denials are logged with the platform and the command name, never with personal content.
    """
    if name is None or name == "help":
        return None
    if await service.people.is_admin(platform, user_id):
        return None
    audit_log.warning("admin command refused: platform=%s command=%s", platform, name)
    you = f"@{user_id}" if platform == "console" else mention(user_id)
    stranger = await actor(service, platform, user_id, create=False)
    return HandlerResult(replies=(Message(
        recipient_id=stranger.id, title="Not allowed",
        text=f"Sorry, `{name}` is for journey admins. Ask an admin to run `admins add {you}`.",
        audience="admin"),))


async def _help(ctx: Ctx, cmd: Help) -> HandlerResult:
    """Help in the reader's platform syntax; the admin commands only for admins."""
    admin = await ctx.service.people.is_admin(ctx.platform, ctx.user_id)
    text, title = reader_help(ctx.platform, admin=admin, topic=cmd.topic)
    return ctx.reply(text, title)


async def _journeys(ctx: Ctx, cmd: Journeys) -> HandlerResult:
    async with ctx.service.uow.read() as uow:
        counts = await uow.enrollments.active_counts()
    lib = ctx.service.library
    if not lib:
        return ctx.reply("No journeys are loaded.", "Journeys")
    lines = [f"• `{j.id}` — {j.title} (version {j.version}): {counts.get(j.id, 0)} active enrollments"
             for j in sorted(lib.values(), key=lambda j: j.id)]
    return ctx.reply("\n".join(lines), "Journeys")


async def _export(ctx: Ctx, cmd: Export) -> HandlerResult:
    person = await existing(ctx, "export", cmd.user)
    pid = person.id
    data = await export_person(ctx.service.uow, pid, ctx.now)
    if data is None:  # forgotten between the lookup and now
        raise AdminError(f"`export`: unknown user {cmd.user.display}")
    summary = (f"Everything stored about {label(person)}: {len(data['enrollments'])} enrollments, "
               f"{len(data['prompts'])} prompts, {len(data['mtms'])} moments that matter, "
               f"{len(data['messages'])} messages.")
    hours = max(1, round(EXPORT_TTL.total_seconds() / 3600))
    link = make_export_link(ctx.service, ctx.actor.id, pid)
    if link is not None:
        # The link carries ids and a signature only: the file is built from the database when it
        # is opened, so it is always complete and current, and nothing after a `forget`.
        await record_export(ctx.service.uow, ctx.actor.id, pid, ctx.now, "export_link")
        return ctx.reply(f"{summary} Download the complete JSON file with the link below. The link is yours "
                         f"alone, works for {hours} h and only for this person; don't forward it, and handle "
                         "the file as personal data.", "Export",
                         links=(Link(f"Download the export (JSON, expires in {hours} h)", link),))
    name, text = export_filename(pid), export_json(data)
    reply = ctx.reply(f"{summary} The JSON file is attached; handle it as personal data.", "Export",
                      attachment_name=name, attachment_text=text)
    port = ctx.service.ports.get(ctx.platform)
    if port is not None and not port.fits(reply.replies[0]):
        return ctx.reply(f"{summary} The export is {len(text):,} characters: too large to show here in full, "
                         "and this installation has no public web address (HPLJ_PUBLIC_URL) for a download "
                         "link. Nothing was sent. On the server, run "
                         f"`hplj export {pid} --out {name}` to get the complete file.", "Export too large for chat")
    await record_export(ctx.service.uow, ctx.actor.id, pid, ctx.now)
    return reply


async def _forget(ctx: Ctx, cmd: Forget) -> HandlerResult:
    person = await existing(ctx, "forget", cmd.user)
    if person.id == ctx.actor.id:
        raise AdminError(f"`forget`: you can't forget yourself ({cmd.user.display}); ask another admin")
    async with ctx.service.uow() as uow:
        count = await uow.forget(person, ctx.now, ctx.actor.id)
        await uow.commit()
    await ctx.service.uow.compact()
    return ctx.reply(f"Forgot {cmd.user.display}: removed their profile, {count} enrollments with their answers, "
                     "reflections and messages. Their journey facts remain only as anonymous numbers in reports.",
                     "Forgotten")


async def _report(ctx: Ctx, cmd: Report) -> HandlerResult:
    if cmd.recommendations:
        return await recommendations(ctx, cmd)
    lines = await cohort_report_lines(ctx.service, cmd.cohort)
    ev, _title = await cohort_evaluation(ctx.service, cmd.cohort)
    if ev is None:
        raise AdminError(f"`report`: unknown cohort '{cmd.cohort}' (see `status` for the cohorts)")
    if cmd.xapi:
        _, _, journey_id = await cohort_events(ctx.service, cmd.cohort)
        journey = ctx.service.library.get(journey_id or "")
        if journey is None:
            raise AdminError(f"`report`: the journey '{journey_id}' is not loaded")
        key = xapi_key(ctx.service)
        if key is None:
            raise AdminError(NO_XAPI_KEY)
        text, n = await xapi_json(ctx.service, cmd.cohort, journey, key)
        async with ctx.service.uow() as uow:  # audited by ids only, like every export
            uow.audit.record(ctx.now, ctx.actor.id, "export_xapi", None, {"cohort": cmd.cohort})
            await uow.commit()
        return ctx.reply(f"{n} xAPI statements for cohort {cmd.cohort} (schema: docs/exports.md).",
                         f"xAPI: {cmd.cohort}", attachment_name=f"xapi-{cmd.cohort}.json", attachment_text=text)
    if not cmd.csv:
        return ctx.reply("\n".join(lines), f"Report: {cmd.cohort}")
    name = report_filename(cmd.cohort)
    port = ctx.service.ports.get(ctx.platform)
    link = make_report_link(ctx.service, ctx.actor.id, cmd.cohort)
    if port is not None and not port.capabilities.file_attachments:
        if link is None:
            raise AdminError("`report`: this installation has no public web address (HPLJ_PUBLIC_URL) for a "
                             f"download link; on the server, `report {cmd.cohort} csv` in `hplj chat` saves the file")
        hours = max(1, round(REPORT_TTL.total_seconds() / 3600))
        return ctx.reply("\n".join(lines) + f"\n\nDownload {name} with the link below; it is yours alone and "
                         f"works for {hours} h.", f"Report: {cmd.cohort}",
                         links=(Link(f"Download {name} (expires in {hours} h)", link),))
    return ctx.reply("\n".join(lines), f"Report: {cmd.cohort}", attachment_name=name,
                     attachment_text=await evaluation_csv(ctx.service, cmd.cohort, ev, ctx.now))


async def _dashboard(ctx: Ctx, cmd: Dashboard) -> HandlerResult:
    link = make_link(ctx.service, ctx.actor.id)
    return ctx.reply(f"Your dashboard link (personal and expiring; don't forward it): {link}", "Dashboard",
                     links=(Link("Open the dashboard", link),))


async def _admins(ctx: Ctx, cmd: Admins) -> HandlerResult:
    service = ctx.service
    bootstrap = service.people.bootstrap_admins
    if cmd.action == "list":
        async with service.uow.read() as uow:
            rows = await uow.admins.listing()
        lines = [f"• {label(p)} ({p.platform} {p.platform_user_id}) since {since.date().isoformat()}"
                 for p, since in rows]
        if bootstrap:
            lines.append(f"Bootstrap admins (HPLJ_ADMINS): {', '.join(sorted(bootstrap))}")
        return ctx.reply("\n".join(lines) or "No admins.", "Admins")
    assert cmd.user is not None
    command = f"admins {cmd.action}"
    if cmd.action == "add":
        found = await find(ctx, command, cmd.user, create=True)
        target = await found.store(service)
        async with service.uow() as uow:
            if await uow.admins.contains(target.id):
                return ctx.reply(f"{label(target)} is already an admin. Nothing changed.", "Admins")
            uow.admins.grant(target.id, ctx.actor.id, ctx.now)
            uow.audit.record(ctx.now, ctx.actor.id, "admin_grant", target.id)
            await uow.commit()
        return ctx.reply(f"{label(target)} is now a journey admin.", "Admins")
    target = await existing(ctx, command, cmd.user)
    async with service.uow() as uow:
        if not await uow.admins.contains(target.id):
            if service.people.is_bootstrap(target):
                raise AdminError(f"`{command}`: {cmd.user.display} is a bootstrap admin; remove them from HPLJ_ADMINS")
            raise AdminError(f"`{command}`: {cmd.user.display} is not an admin")
        count = await uow.admins.count()
        actor_bootstrap = ctx.user_id in bootstrap or (ctx.actor.email or "") in bootstrap
        if target.id == ctx.actor.id and count <= 1 and not actor_bootstrap:
            raise AdminError(f"`{command}`: you are the last admin; add another admin before removing yourself")
        await uow.admins.revoke(target.id)
        uow.audit.record(ctx.now, ctx.actor.id, "admin_revoke", target.id)
        await uow.commit()
    return ctx.reply(f"{label(target)} is no longer a journey admin.", "Admins")


async def _audit(ctx: Ctx, cmd: Audit) -> HandlerResult:
    async with ctx.service.uow.read() as uow:
        rows = await uow.audit.latest(cmd.limit)
    if not rows:
        return ctx.reply("The audit log is empty.", "Audit log")
    body = [[a.at.strftime("%Y-%m-%d %H:%M"), a.actor_id or "-", a.action, a.target_id or "-"] for a in rows]
    return ctx.reply(table(["time (UTC)", "actor", "action", "target"], body), f"Audit log: last {len(rows)}")


Handler = Callable[[Ctx, Any], Awaitable[HandlerResult]]
_HANDLERS: dict[type, Handler] = {
    Help: _help,
    Journeys: _journeys,
    Enroll: enroll,
    Status: status,
    Report: _report,
    Pause: pause,
    Resume: resume,
    Unenroll: unenroll,
    Forget: _forget,
    Export: _export,
    Dashboard: _dashboard,
    Admins: _admins,
    Audit: _audit,
    Interviews: interviews,
    Interview: interview,
}
