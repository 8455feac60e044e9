"""A cohort's "What to change": the draft from the evidence, or the L&D lead's edited text.

`bot.services.reports.cohort_recommendations(service, cohort)` is the one entry point every reader
uses (the report in chat and CSV, the dashboard, the senior leader's final digest); it calls
`recommendations_for` here, which returns the edited text when the L&D lead stored one
(`report <cohort> recommendations set <text>`), else the draft (journeys/evaluation/recommendations.py). Edited text was typed by a person, so its lines are
marked typed and every renderer shows them inert.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.services.host import Services
from journeys.evaluation.plain_words import Pooled
from journeys.evaluation.recommendations import HEADING, TEXT_KIND, draft
from journeys.evaluation.success_case import Evaluation
from journeys.text import clean, plain
from scheduler.cohort_reads import stored_recommendations

KIND = TEXT_KIND


@dataclass(frozen=True)
class Recommendations:
    cohort: str
    lines: tuple[str, ...]  # what to show: edited lines marked typed, or the draft
    draft: tuple[str, ...]  # the draft from the evidence, also when an edit replaces it
    edited_at: datetime | None = None  # when the L&D lead last set it; None: the draft is shown

    @property
    def edited(self) -> bool:
        return self.edited_at is not None

    def plain_lines(self) -> list[str]:
        """The lines without typed markers, for files (CSV) and HTML (escape them there)."""
        return [plain(line) for line in self.lines]


async def recommendations_for(service: Services, cohort: str, ev: Evaluation, pooled: Pooled | None) -> Recommendations:
    """The cohort's "What to change" (edited, or drafted from `ev`, the cohort's evaluation, and
    `pooled`, its support comparison over the journey's cohorts: `plain_report.cohort_pooled`)."""
    drafted = tuple(draft(ev, pooled))
    async with service.uow.read() as u:
        stored = await stored_recommendations(u, cohort)
    if stored is None:
        return Recommendations(cohort, drafted, drafted)
    return Recommendations(cohort, tuple(stored[0]), drafted, stored[1])


def section_lines(rec: Recommendations) -> list[str]:
    """The report's section: a heading that says whether it is the draft, then one bullet a line."""
    source = "edited by the L&D lead" if rec.edited else "drafted from the evidence; the L&D lead may edit it"
    return [f"{HEADING} ({source}):", *(f"• {line}" for line in rec.lines)]


def csv_rows(rec: Recommendations) -> list[list[str]]:
    """`recommendation:<n>` rows (value: the line; count: "edited" or "draft")."""
    origin = "edited" if rec.edited else "draft"
    return [[f"recommendation:{n}", _cell(line), origin, "", "", ""]
            for n, line in enumerate(rec.plain_lines(), start=1)]


def _cell(text: str) -> str:
    """Keep a spreadsheet from reading typed text as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


async def set_recommendations(service: Services, cohort: str, text: str | None, actor_id: str,
                              now: datetime) -> None:
    """Store the L&D lead's text (None: remove it, the draft shows again); audited by ids only."""
    async with service.uow() as uow:
        if text is None:
            await uow.cohort_texts.clear(cohort, KIND)
        else:
            await uow.cohort_texts.put(cohort, KIND, clean(text), now)
        uow.audit.record(now, actor_id, "recommendations_set" if text is not None else "recommendations_reset",
                         None, {"cohort": cohort})
        await uow.commit()
