"""The directory table: what each source says about a person by e-mail, and how it reaches the
people rows the engine reads (their calendar fields and their own manager)."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from journeys.chain import in_circles
from journeys.directory import (
    DirectoryEntry,
    format_days,
    format_hhmm,
    merged,
    parse_days,
    parse_hhmm,
)
from store.chain import id_links
from store.models import DirectoryRow, PersonRow

log = logging.getLogger("hplj.directory")

__all__ = ["SOURCE_ORDER", "apply_to_people", "load_entries", "load_source", "save_entries"]

# Field by field, the first source that says something wins: the admin's HR export over a live
# directory (Graph, Slack profile fields).
SOURCE_ORDER = ("hr", "graph", "slack")


def _entry(row: Any) -> DirectoryEntry:
    try:
        days = parse_days(row.work_days)
    except ValueError:
        days = None
    try:
        start, end = parse_hhmm(row.work_start), parse_hhmm(row.work_end)
    except ValueError:
        start = end = None
    return DirectoryEntry(email=row.email, name=row.name, manager_email=row.manager_email, country=row.country,
                          subdivision=row.subdivision, tz=row.tz, work_days=days, work_start=start, work_end=end,
                          locale=row.locale, external_id=row.external_id)


def _columns(e: DirectoryEntry) -> dict[str, Any]:
    return {"name": e.name, "manager_email": e.manager_email, "country": e.country, "subdivision": e.subdivision,
            "tz": e.tz, "work_days": format_days(e.work_days), "work_start": format_hhmm(e.work_start),
            "work_end": format_hhmm(e.work_end), "locale": e.locale, "external_id": e.external_id}


async def load_source(s: AsyncSession, source: str, emails: Iterable[str] | None = None) -> dict[str, DirectoryEntry]:
    """One source's rows as stored (expired ones included), e.g. to diff an HR export against."""
    stmt = select(DirectoryRow).where(DirectoryRow.source == source)
    wanted = None if emails is None else sorted({e.lower() for e in emails})
    if wanted is not None:
        stmt = stmt.where(DirectoryRow.email.in_(wanted))
    return {r.email: _entry(r) for r in (await s.execute(stmt)).scalars().all()}


async def load_entries(s: AsyncSession, emails: Iterable[str], now: datetime) -> dict[str, DirectoryEntry]:
    """Every source merged per e-mail, live lookups only while they have not expired."""
    wanted = sorted({e.lower() for e in emails if e})
    if not wanted:
        return {}
    rows = (await s.execute(select(DirectoryRow).where(
        DirectoryRow.email.in_(wanted),
        or_(DirectoryRow.expires_at.is_(None), DirectoryRow.expires_at > now)))).scalars().all()
    by_source: dict[str, dict[str, DirectoryEntry]] = {}
    for r in rows:
        by_source.setdefault(r.source, {})[r.email] = _entry(r)
    out: dict[str, DirectoryEntry] = {}
    for email in wanted:
        entry: DirectoryEntry | None = None
        for source in (*SOURCE_ORDER, *sorted(set(by_source) - set(SOURCE_ORDER))):
            entry = merged(entry, by_source.get(source, {}).get(email))
        if entry is not None:
            out[email] = entry
    return out


async def save_entries(s: AsyncSession, source: str, entries: Iterable[DirectoryEntry], now: datetime,
                       ttl: timedelta | None = None) -> None:
    """Replace this source's rows for these e-mails (a live lookup: with an expiry)."""
    items = {e.email.lower(): e for e in entries}
    if not items:
        return
    await s.execute(delete(DirectoryRow).where(DirectoryRow.source == source, DirectoryRow.email.in_(list(items))))
    s.add_all(DirectoryRow(email=email, source=source, fetched_at=now, expires_at=now + ttl if ttl else None,
                           **_columns(e)) for email, e in items.items())
    await s.flush()


async def apply_to_people(s: AsyncSession, emails: Iterable[str], now: datetime) -> int:
    """Bring the people rows with these e-mails up to what the directory says: holiday region,
    zone, working week, language and their own manager (when that manager is a known person,
    preferably on the same platform). Returns how many people rows changed."""
    wanted = sorted({e.lower() for e in emails if e})
    if not wanted:
        return 0
    entries = await load_entries(s, wanted, now)
    if not entries:
        return 0
    people = (await s.execute(select(PersonRow).where(func.lower(PersonRow.email).in_(list(entries))))).scalars().all()
    manager_emails = sorted({e.manager_email for e in entries.values() if e.manager_email})
    managers: Mapping[str, list[PersonRow]] = {}
    if manager_emails:
        found: dict[str, list[PersonRow]] = {}
        for m in (await s.execute(select(PersonRow).where(func.lower(PersonRow.email).in_(manager_emails)))
                  ).scalars().all():
            found.setdefault((m.email or "").lower(), []).append(m)
        managers = found
    changed = 0
    proposed = {p.id: _manager_of(p, entries, managers) for p in people
                if entries[(p.email or "").lower()].manager_email}
    # the last line of defence of the management chain: a link that would close a circle (someone
    # above their own manager) is not written, whichever directory proposed it
    bent = in_circles(await id_links(s), dict(proposed)) if proposed else {}
    for p in people:
        e = entries[(p.email or "").lower()]
        want: dict[str, Any] = {"country": e.country, "subdivision": e.subdivision,
                                "work_days": format_days(e.work_days), "work_start": format_hhmm(e.work_start),
                                "work_end": format_hhmm(e.work_end), "locale": e.locale}
        want = {k: v for k, v in want.items() if v is not None}
        if e.tz:
            want["tz"] = e.tz
        if e.manager_email and p.id in bent:
            log.warning("directory: a manager link of person %s would close a circle; not applied", p.id)
        elif e.manager_email:
            want["manager_id"] = proposed[p.id]
        diff = {k: v for k, v in want.items() if getattr(p, k) != v}
        if "tz" in diff:
            diff["tz_checked_at"] = now
        for k, v in diff.items():
            setattr(p, k, v)
        changed += bool(diff)
    await s.flush()
    return changed


def _manager_of(p: PersonRow, entries: Mapping[str, DirectoryEntry], managers: Mapping[str, list[PersonRow]]
                ) -> str | None:
    """The person id of `p`'s manager by the directory, preferably on the same platform; a manager
    the bot doesn't know yet is linked when they turn up (the old one is not theirs)."""
    e = entries[(p.email or "").lower()]
    candidates = sorted(managers.get(e.manager_email or "", []), key=lambda m: (m.platform != p.platform, m.created_at))
    return candidates[0].id if candidates and candidates[0].id != p.id else None


class DirectoryRepository:
    """The directory table through a unit of work (`uow.directory`)."""

    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def by_source(self, source: str, emails: Iterable[str] | None = None) -> dict[str, DirectoryEntry]:
        return await load_source(self._s, source, emails)

    async def fresh(self, emails: Iterable[str], now: datetime) -> dict[str, DirectoryEntry]:
        return await load_entries(self._s, emails, now)

    async def save(self, source: str, entries: Iterable[DirectoryEntry], now: datetime,
                   ttl: timedelta | None = None) -> None:
        await save_entries(self._s, source, entries, now, ttl)

    async def apply_to_people(self, emails: Iterable[str], now: datetime) -> int:
        """Copy what the directory says onto the people rows with these e-mails."""
        return await apply_to_people(self._s, emails, now)
