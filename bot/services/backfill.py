"""Enrollments made before journeys could end get their closing prompt (`journeys/lifecycle.py`).

Run when a process builds the bot, right after the migrations: one query finds the active or
paused enrollments without one; each gets the prompt enrollment now gives (a paused one gets it
on hold, for `resume` to move). Running it again finds nothing to do.
"""

from __future__ import annotations

from datetime import datetime

from journeys import lifecycle
from journeys.definition import Journey
from journeys.ending import CLOSE_STEP
from journeys.state import Outcome
from store.uow import UnitsOfWork


async def add_closing_prompts(uow: UnitsOfWork, library: dict[str, Journey], now: datetime) -> int:
    async with uow() as u:
        ids = await u.enrollments.open_without_step(CLOSE_STEP)
        if not ids:
            return 0
        out = Outcome()
        for e in (await u.enrollments.states(ids)).values():
            journey = library.get(e.journey_id)
            closing = lifecycle.closing_prompt(journey, e) if journey is not None else None
            if closing is not None:
                out.prompts.append(closing if e.status == "active" else closing.with_(next_at=None))
        await u.save(out, now)
        await u.commit()
    return len(out.prompts)
