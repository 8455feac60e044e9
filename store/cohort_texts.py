"""Text the L&D lead wrote for a cohort's report, one per cohort and kind (the edited "What to
change" section: `recommendations`). The text is stored as typed; every renderer shows it inert."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import CohortTextRow
from store.sql import dialect_insert


@dataclass(frozen=True)
class CohortText:
    text: str
    updated_at: datetime


class CohortTextsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def get(self, cohort: str, kind: str) -> CohortText | None:
        row = (await self.s.execute(select(CohortTextRow).where(
            CohortTextRow.cohort == cohort, CohortTextRow.kind == kind))).scalar_one_or_none()
        return CohortText(row.text, row.updated_at) if row is not None else None

    async def put(self, cohort: str, kind: str, text: str, now: datetime) -> None:
        """Replace the cohort's text of this kind (a second `set` overwrites the first; two at once:
        the later write wins, never a duplicate-key error)."""
        stmt = dialect_insert(self.s)(CohortTextRow).values(cohort=cohort, kind=kind, text=text, updated_at=now)
        await self.s.execute(stmt.on_conflict_do_update(index_elements=["cohort", "kind"], set_={
            "text": stmt.excluded.text, "updated_at": stmt.excluded.updated_at}))

    async def clear(self, cohort: str, kind: str) -> bool:
        """Remove it (the draft shows again); False when there was none."""
        result = await self.s.execute(delete(CohortTextRow).where(
            CohortTextRow.cohort == cohort, CohortTextRow.kind == kind))
        return bool(getattr(result, "rowcount", 0))
