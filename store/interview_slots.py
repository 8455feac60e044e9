"""The interviewer's calendar: interview times held for a candidate, then booked by their answer.

An interview covers whole quarter hours; each is one row, unique per interviewer
(`uq_interview_slots_cell`), so the database itself refuses two candidates the same or overlapping
times, whichever process writes first (SQLite or PostgreSQL). A hold lasts until the candidate
answers or `expires_at` passes; an expired hold is free again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import InterviewSlotRow
from store.sql import dialect_insert

QUARTER = timedelta(minutes=15)


def cells(start: datetime, minutes: int) -> list[datetime]:
    """The quarter hours an interview starting at `start` covers."""
    n = max(1, -(-minutes // 15))
    return [start + QUARTER * i for i in range(n)]


@dataclass(frozen=True)
class Held:
    slot_at: datetime
    enrollment_id: str
    state: str  # held | booked
    expires_at: datetime | None


class InterviewSlotsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    def _live(self, now: datetime) -> object:
        return or_(InterviewSlotRow.state == "booked", InterviewSlotRow.expires_at > now)

    async def taken(self, interviewer_id: str, now: datetime) -> set[datetime]:
        """The interviewer's quarter hours held (and not expired) or booked, from `now` on."""
        rows = await self.s.execute(select(InterviewSlotRow.cell_at).where(
            InterviewSlotRow.interviewer_id == interviewer_id, InterviewSlotRow.cell_at >= now - QUARTER * 8,
            self._live(now)))  # type: ignore[arg-type]
        return set(rows.scalars().all())

    async def hold(self, interviewer_id: str, enrollment_id: str, slots: Sequence[datetime], minutes: int,
                   expires: Callable[[datetime], datetime], now: datetime) -> list[datetime]:
        """Hold each slot's quarter hours for the candidate until `expires(slot)`; returns the slots
        held. A slot of which any quarter hour is already someone else's (a concurrent hold
        included) is skipped whole."""
        await self.s.execute(delete(InterviewSlotRow).where(
            InterviewSlotRow.interviewer_id == interviewer_id, InterviewSlotRow.state == "held",
            InterviewSlotRow.expires_at <= now))  # expired holds are free again
        insert = dialect_insert(self.s)
        held: list[datetime] = []
        for slot in slots:
            got: list[datetime] = []
            for cell in cells(slot, minutes):
                result = await self.s.execute(insert(InterviewSlotRow).values(
                    interviewer_id=interviewer_id, cell_at=cell, slot_at=slot, enrollment_id=enrollment_id,
                    state="held", expires_at=expires(slot)).on_conflict_do_nothing(
                    index_elements=["interviewer_id", "cell_at"]))
                if result.rowcount != 1:  # type: ignore[attr-defined]
                    break
                got.append(cell)
            if len(got) == len(cells(slot, minutes)):
                held.append(slot)
            elif got:
                await self.s.execute(delete(InterviewSlotRow).where(
                    InterviewSlotRow.enrollment_id == enrollment_id, InterviewSlotRow.slot_at == slot,
                    InterviewSlotRow.cell_at.in_(got)))
        return held

    async def book(self, enrollment_id: str, slot: datetime, now: datetime) -> bool:
        """Turn the candidate's live hold on `slot` into a booking and free their other times;
        False when the hold is gone (expired, withdrawn): the time may be someone else's now."""
        live = await self.s.execute(select(InterviewSlotRow.id).where(
            InterviewSlotRow.enrollment_id == enrollment_id, InterviewSlotRow.slot_at == slot,
            or_(InterviewSlotRow.state == "booked",
                and_(InterviewSlotRow.state == "held", InterviewSlotRow.expires_at > now))))
        if not live.scalars().first():
            return False
        await self.s.execute(update(InterviewSlotRow).where(
            InterviewSlotRow.enrollment_id == enrollment_id, InterviewSlotRow.slot_at == slot).values(
            state="booked", expires_at=None))
        await self.release(enrollment_id, keep_booked=True)
        return True

    async def release(self, enrollment_id: str, *, keep_booked: bool = False) -> None:
        """Free the candidate's held times (an answer, a decline, a swap); with `keep_booked` the
        booked one stays."""
        cond = [InterviewSlotRow.enrollment_id == enrollment_id]
        if keep_booked:
            cond.append(InterviewSlotRow.state == "held")
        await self.s.execute(delete(InterviewSlotRow).where(*cond))

    async def calendar(self, interviewer_id: str, now: datetime) -> list[Held]:
        """The interviewer's live holds and bookings from now on, one per interview time."""
        rows = (await self.s.execute(select(InterviewSlotRow).where(
            InterviewSlotRow.interviewer_id == interviewer_id, InterviewSlotRow.slot_at >= now - QUARTER * 8,
            self._live(now)).order_by(InterviewSlotRow.slot_at))).scalars().all()  # type: ignore[arg-type]
        out: dict[tuple[datetime, str], Held] = {}
        for r in rows:
            out.setdefault((r.slot_at, r.enrollment_id), Held(r.slot_at, r.enrollment_id, r.state, r.expires_at))
        return list(out.values())
