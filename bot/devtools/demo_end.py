"""How the demo's journeys ended: who completed when, with which closing message, and proof that
nobody appears in a manager's digest after completing (the lifecycle of `journeys/lifecycle.py`)."""

from __future__ import annotations

from datetime import datetime

from bot.app.service import BotService
from journeys.messages import Message
from journeys.text import plain

CLOSINGS = {"practised": "practised", "not_practised": "did not practise", "survey_open": "survey still open"}


async def completion_lines(service: BotService, cohort: str,
                           sent: list[tuple[datetime, str, Message]]) -> list[str]:
    """`sent`: (when, recipient platform user id, message) for everything the demo delivered."""
    async with service.uow.read() as uow:
        rows = await uow.enrollments.cohort_rows(cohort)
        events = await uow.events.of_enrollments([r.id for r in rows])
        people = await uow.people.by_ids({r.person_id for r in rows} | {r.manager_id for r in rows if r.manager_id})
    completed = {e.enrollment_id: e.at for e in events if e.kind == "completed"}
    closing = {e.enrollment_id: str(e.data.get("closing", "")) for e in events if e.kind == "closing_sent"}
    lines = [f"Journeys completed: {len(completed)} of {len(rows)}."]
    late_mentions = 0
    digests_after = 0
    for r in sorted(rows, key=lambda r: people[r.person_id].name or ""):
        person = people[r.person_id]
        at = completed.get(r.id)
        kind = CLOSINGS.get(closing.get(r.id, ""), "no closing message")
        if at is None:
            lines.append(f"  {person.name}: {r.status} (closing message: {kind})")
            continue
        lines.append(f"  {person.name}: completed {at:%a %d %b} (closing message: {kind})")
        manager = people.get(r.manager_id or "")
        for when, user, msg in sent:
            if manager is None or user != manager.platform_user_id or when < at or "weekly digest" not in msg.title:
                continue
            digests_after += 1
            late_mentions += (person.name or "") in plain(msg.text)
    lines.append(f"Manager digests after a report completed: {digests_after}, naming a completed report: "
                 f"{late_mentions}.")
    return lines
