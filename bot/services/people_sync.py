"""`hplj people sync --csv FILE [--dry-run]`: people, managers, holiday regions, working weeks and
languages from an HR export.

Idempotent: the export is stored as the `hr` source of the directory table and diffed against
what the last sync stored, so a second run changes nothing and says so. Bad rows are reported
with their line numbers and skipped; `--dry-run` prints every change and writes nothing.
Columns: email, [manager_email], [name], [country], [subdivision], [timezone], [working_days]
('mon tue wed thu fri'), [working_hours] ('09:00-17:30'), [locale] ('en-GB').
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time

from bot.services.csv_import import EMAIL, holiday_region, row_timezone
from bot.services.csv_reader import read_csv, shown
from journeys.chain import in_circles
from journeys.directory import (
    DirectoryEntry,
    changes,
    format_days,
    format_hhmm,
    parse_days,
    parse_hours,
)
from store.uow import UnitsOfWork

REQUIRED = ("email",)
OPTIONAL = ("manager_email", "name", "country", "subdivision", "timezone", "working_days", "working_hours",
            "locale")
LOCALE = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*$")
SOURCE = "hr"


@dataclass
class SyncReport:
    rows: int = 0
    entries: list[tuple[int, DirectoryEntry]] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)
    new: list[str] = field(default_factory=list)
    changed: dict[str, dict[str, tuple[object, object]]] = field(default_factory=dict)
    unchanged: int = 0
    people_updated: int = 0
    written: bool = False


def parse_people_csv(text: str) -> SyncReport:
    report = SyncReport()
    table = read_csv(text, required=REQUIRED, optional=OPTIONAL)
    report.errors.extend(table.errors)
    report.rows = table.read
    seen: dict[str, int] = {}
    for csv_row in table.rows:
        line, row = csv_row.line, csv_row.values
        problems: list[str] = []
        entry = _entry(row, problems)
        if entry is not None and entry.email in seen:
            problems.append(f"{entry.email} is already listed on line {seen[entry.email]}")
        if problems or entry is None:
            report.errors.append((line, "; ".join(problems)))
            continue
        seen[entry.email] = line
        report.entries.append((line, entry))
    _drop_manager_cycles(report)
    report.errors.sort()
    return report


def _entry(row: dict[str, str], problems: list[str]) -> DirectoryEntry | None:
    email = row["email"].lower()
    if not EMAIL.match(email):
        problems.append(f"email {email!r} is not an e-mail address" if email else "email is empty")
    manager = row.get("manager_email", "").lower() or None
    if manager and not EMAIL.match(manager):
        problems.append(f"manager_email {manager!r} is not an e-mail address")
    if manager and manager == email:
        problems.append("manager_email is the person themselves")
    country, subdivision = holiday_region(row, problems)
    tz = row_timezone(row, problems)
    days = None
    try:
        days = parse_days(row.get("working_days"))
    except ValueError as exc:
        problems.append(f"working_days: {exc}")
    start = end = None
    try:
        start, end = parse_hours(row.get("working_hours")) or (None, None)
    except ValueError as exc:
        problems.append(f"working_hours: {exc}")
    locale = row.get("locale") or None
    if locale and not LOCALE.match(locale):
        problems.append(f"locale {locale!r} is not a language tag (e.g. en-GB)")
    if problems:
        return None
    return DirectoryEntry(email=email, name=row.get("name") or None, manager_email=manager, country=country,
                          subdivision=subdivision, tz=tz, work_days=days, work_start=start, work_end=end,
                          locale=locale.replace("_", "-") if locale else None)


def _drop_manager_cycles(report: SyncReport, stored: list[tuple[str, str, str]] | None = None) -> None:
    """A reports to B reports to A can't be anyone's chain of managers, within the file or with
    what is stored (earlier syncs, people's managers, enrollments): those rows are refused.
    Linear in people and links (`journeys.chain`)."""
    bad = in_circles(stored or [], {e.email: e.manager_email for _, e in report.entries})
    if bad:
        report.errors.extend((line, f"managers go round in a circle: {bad[e.email]}")
                             for line, e in report.entries if e.email in bad)
        report.entries = [(line, e) for line, e in report.entries if e.email not in bad]


def describe(field_name: str, value: object) -> str:
    """A value as `--dry-run` and the sync's summary print it (control characters escaped: a name
    stored before this check could still hold one)."""
    if value is None:
        return "-"
    if field_name == "work_days":
        return format_days(value) or "-"  # type: ignore[arg-type]
    if isinstance(value, time):
        return format_hhmm(value) or "-"
    return shown(value)


async def sync_people(units: UnitsOfWork, report: SyncReport, now: datetime, *, dry_run: bool = False,
                      progress: Callable[[int], None] | None = None, batch: int = 500) -> None:
    """Diff the export against the last sync; unless `dry_run`, store it and update known people.
    First the whole stored chain is checked: a row that would close a circle with it (or put a
    participant above their own manager) is refused with its line, like a bad row."""
    async with units.read() as uow:
        _drop_manager_cycles(report, await uow.views.manager_links())
    done = 0
    for i in range(0, len(report.entries), batch):
        chunk = [e for _, e in report.entries[i:i + batch]]
        async with units.read() if dry_run else units() as uow:
            before = await uow.directory.by_source(SOURCE, [e.email for e in chunk])
            fresh = []
            for e in chunk:
                old = before.get(e.email)
                diff = changes(old, e, only_given=False)
                diff.pop("external_id", None)
                if old is None:
                    report.new.append(e.email)
                elif diff:
                    report.changed[e.email] = diff
                else:
                    report.unchanged += 1
                    continue
                fresh.append(e)
            if not dry_run and fresh:
                await uow.directory.save(SOURCE, fresh, now)
                report.people_updated += await uow.directory.apply_to_people([e.email for e in chunk], now)
                await uow.commit()
        done += len(chunk)
        if progress:
            progress(done)
    if not dry_run:
        # managers listed after their reports: link them now that every row is stored
        async with units() as uow:
            report.people_updated += await uow.directory.apply_to_people([e.email for _, e in report.entries], now)
            await uow.commit()
        report.written = True
