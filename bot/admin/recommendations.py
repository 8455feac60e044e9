"""`report <cohort> recommendations [set <text>|reset]`: the L&D lead reads and edits the report's
"What to change" before it goes out (to the dashboard, the report and the leader's final digest)."""

from __future__ import annotations

from bot.admin.context import AdminError, Ctx
from bot.services.recommendations import section_lines, set_recommendations
from bot.services.reports import cohort_recommendations
from journeys.admin.commands import Report
from ports.chat import HandlerResult


async def recommendations(ctx: Ctx, cmd: Report) -> HandlerResult:
    command = f"report {cmd.cohort} recommendations"
    current = await cohort_recommendations(ctx.service, cmd.cohort)
    if current is None:  # nothing is stored for a cohort that does not exist
        raise AdminError(f"`{command}`: unknown cohort '{cmd.cohort}' (see `status` for the cohorts)")
    title = f"What to change: {cmd.cohort}"
    if cmd.recommendations == "show":
        how = ("Replace it with `report {c} recommendations set <text>` (one line per recommendation)."
               if not current.edited else "`report {c} recommendations reset` goes back to the draft.")
        return ctx.reply("\n".join([*section_lines(current), "", how.format(c=cmd.cohort)]), title)
    if cmd.recommendations == "reset":
        if not current.edited:
            return ctx.reply(f"Cohort {cmd.cohort} already shows the draft. Nothing changed.", title)
        await set_recommendations(ctx.service, cmd.cohort, None, ctx.actor.id, ctx.now)
    else:
        await set_recommendations(ctx.service, cmd.cohort, cmd.text, ctx.actor.id, ctx.now)
    saved = await cohort_recommendations(ctx.service, cmd.cohort)
    assert saved is not None
    head = ("✅ Saved: cohort {c}'s report and dashboard now show your text instead of the draft."
            if cmd.recommendations == "set" else
            "✅ Back to the draft: cohort {c}'s report and dashboard show the text drafted from the evidence again.")
    return ctx.reply("\n".join([head.format(c=cmd.cohort), *section_lines(saved)]), title)
