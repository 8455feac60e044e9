"""`hplj enroll --csv FILE`: enroll a cohort from an HR export.

Every bad row is reported with its line number and reason before anything is written; the admin
chooses between importing the valid rows and importing nothing (`--all-or-nothing`).
Columns: email, manager_email, journey, start, [timezone], [country], [subdivision], [cohort],
[manager_manager_email], [facilitator_email] (the cohort's workshop facilitator: bot/services/csv_roles.py),
and one `event:<id>` column per journey event date. `country` (ISO 3166
alpha-2, e.g. US) and `subdivision` (e.g. NY) are the participant's public holidays: they replace
the journey calendar's for that person.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.services import csv_roles, directory
from bot.services.chain_check import circles_with_stored
from bot.services.csv_reader import read_csv
from bot.services.host import Services
from bot.services.import_policy import LABEL
from journeys.admin.commands import MAX_AHEAD_DAYS, is_cohort_name
from journeys.calendar import WorkCalendar
from ports.chat import DeliveryError
from store.uow import UnitsOfWork

REQUIRED = ("email", "manager_email", "journey", "start")
OPTIONAL = ("timezone", "country", "subdivision", "cohort", "manager_manager_email", "facilitator_email")
EMAIL = re.compile(r"^[^@\s,;<>\x00-\x1f\x7f]+@[^@\s,;<>\x00-\x1f\x7f]+\.[^@\s,;<>\x00-\x1f\x7f]+$")
GRACE_DAYS = 7


@dataclass(frozen=True)
class Row:
    line: int
    email: str
    manager_email: str
    journey: str
    start: date
    timezone: str | None
    country: str | None
    subdivision: str | None
    cohort: str | None
    manager_manager_email: str | None
    events: tuple[tuple[str, date], ...]
    facilitator_email: str | None = None


@dataclass
class ImportReport:
    rows: int = 0
    valid: list[Row] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)
    enrolled: int = 0
    already: int = 0
    opted_out: int = 0
    cohorts: set[str] = field(default_factory=set)
    imported: bool = False
    facilitators: int = 0  # cohorts whose facilitator the file named
    unreachable: str | None = None  # the platform could not be reached while looking people up: why


def parse_csv(text: str, journeys: dict[str, Any], today: date) -> ImportReport:
    report = ImportReport()
    table = read_csv(text, required=REQUIRED, optional=OPTIONAL, prefixes=("event:",))
    report.errors.extend(table.errors)
    report.rows = table.read
    seen: dict[tuple[str, str], int] = {}
    for csv_row in table.rows:
        line, row = csv_row.line, csv_row.values
        problems: list[str] = []
        email = row["email"].lower()
        manager = row["manager_email"].lower()
        for col, value in (("email", email), ("manager_email", manager)):
            if not EMAIL.match(value):
                problems.append(f"{col} {value!r} is not an e-mail address" if value else f"{col} is empty")
        if email and email == manager:
            problems.append("manager_email is the participant themselves")
        mm = (row.get("manager_manager_email") or "").lower() or None
        if mm and mm == email:
            problems.append("manager_manager_email is the participant themselves: nobody is above their own manager")
        elif mm and mm == manager:
            problems.append("manager_manager_email is the manager themselves")
        journey = journeys.get(row["journey"])
        if journey is None:
            problems.append(f"unknown journey {row['journey']!r} (known: {', '.join(sorted(journeys))})")
        start = _date(row["start"], "start", problems)
        if start is not None and start < today - timedelta(days=GRACE_DAYS):
            problems.append(f"start {start.isoformat()} is more than {GRACE_DAYS} days in the past")
        if start is not None and start > today + timedelta(days=MAX_AHEAD_DAYS):
            problems.append(f"start {start.isoformat()} is more than {MAX_AHEAD_DAYS} days ahead")
        cohort = row.get("cohort") or ""
        if cohort and not is_cohort_name(cohort):
            problems.append(f"cohort {cohort!r} is not a cohort name (up to 64 letters, digits, '.', '_' or "
                            "'-', starting with a letter or digit, e.g. spring-leads)")
        tz = row_timezone(row, problems)
        country, subdivision = holiday_region(row, problems)
        if mm and not EMAIL.match(mm):
            problems.append(f"manager_manager_email {mm!r} is not an e-mail address")
        fac = (row.get("facilitator_email") or "").lower() or None
        if fac and not EMAIL.match(fac):
            problems.append(f"facilitator_email {fac!r} is not an e-mail address")
        elif fac and fac == email:
            problems.append("facilitator_email is the participant themselves")
        events: list[tuple[str, date]] = []
        for key, value in row.items():
            if key.startswith("event:") and value:
                eid = key.split(":", 1)[1]
                if journey is not None and eid not in {e.id for e in journey.events}:
                    problems.append(f"column {key}: journey {row['journey']!r} has no event {eid!r}")
                d = _date(value, key, problems)
                if d is not None and abs((d - today).days) > MAX_AHEAD_DAYS:
                    problems.append(f"column {key}: {d.isoformat()} is more than {MAX_AHEAD_DAYS} days away")
                elif d is not None:
                    events.append((eid, d))
        if journey is not None and email:
            dup = seen.get((journey.id, email))
            if dup is not None:
                problems.append(f"{email} is already listed for {journey.id} on line {dup}")
            else:
                seen[(journey.id, email)] = line
        if problems:
            report.errors.append((line, "; ".join(problems)))
            continue
        assert start is not None and journey is not None
        report.valid.append(Row(line, email, manager, journey.id, start, tz, country, subdivision,
                                row.get("cohort") or None, mm, tuple(events), fac))
    bad = dict(csv_roles.conflicting(list(report.valid)))
    if bad:
        report.errors = sorted([*report.errors, *bad.items()])
        report.valid = [r for r in report.valid if r.line not in bad]
    return report


def row_timezone(row: dict[str, str], problems: list[str]) -> str | None:
    """The row's `timezone`, checked to be an IANA zone; a problem is added for one that is not."""
    tz = row.get("timezone") or None
    if tz:
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            problems.append(f"timezone {tz!r} is not an IANA time zone (e.g. Europe/London)")
    return tz


def holiday_region(row: dict[str, str], problems: list[str]) -> tuple[str | None, str | None]:
    """The row's `country` / `subdivision` (whose public holidays apply to the person), checked
    against the holidays data; a problem is added for a region it does not know."""
    country = (row.get("country") or "").upper() or None
    subdivision = (row.get("subdivision") or "").upper() or None
    if subdivision and not country:
        problems.append(f"subdivision {subdivision!r} needs a country")
    elif country:
        try:
            WorkCalendar(frozenset({0}), time(9), time(17), holiday_country=country, holiday_subdivision=subdivision)
        except ValueError as exc:
            problems.append(f"country/subdivision: {exc}")
    return country, subdivision


async def _refuse_circles(report: ImportReport, uow: UnitsOfWork) -> None:
    """Rows whose links (participant -> manager, manager -> manager_manager_email) would close a
    circle with the stored chain or with each other are refused with their line: nobody may end
    up above their own manager, where an escalation would reach them about a peer."""
    own = {r.manager_email: r.manager_manager_email for r in report.valid if r.manager_manager_email}
    bad = await circles_with_stored(uow, [(r.email, r.manager_email) for r in report.valid], own)
    if not bad:
        return
    keep = []
    for r in report.valid:
        hit = next((bad[x] for x in (r.email, r.manager_email, r.manager_manager_email or "") if x in bad), None)
        if hit is None:
            keep.append(r)
        else:
            report.errors.append((r.line, f"managers go round in a circle: {hit}; nothing was imported for this row"))
    report.valid = keep


def _date(value: str, col: str, problems: list[str]) -> date | None:
    try:
        return date.fromisoformat(value)
    except ValueError:
        problems.append(f"{col} {value!r} is not a date (expected YYYY-MM-DD)" if value else f"{col} is empty")
        return None


async def import_rows(service: Services, report: ImportReport, platform: str,
                      progress: Callable[[int], None] | None = None, *, all_or_nothing: bool = False) -> None:
    """Create or find everyone, then enroll per (journey, manager, start, cohort, events) group.
    Rows that would bend the management chain are refused first, before anyone is stored.

    When the platform cannot be reached while people are looked up, `report.unreachable` says so
    and the rows whose people were not found are refused; with `all_or_nothing` nothing is written."""
    await _refuse_circles(report, service.uow)
    people: dict[str, str] = {}
    emails = {r.email for r in report.valid} | {r.manager_email for r in report.valid} | {
        r.manager_manager_email for r in report.valid if r.manager_manager_email} | {
        r.facilitator_email for r in report.valid if r.facilitator_email}
    tz_of = {r.email: r.timezone for r in report.valid if r.timezone}
    async with service.uow.read() as uow:
        existing = await uow.people.by_emails(emails)
    for p in existing:
        people[(p.email or "").lower()] = p.id
    port = service.ports.get(platform)
    found: dict[str, tuple[str, str]] = {}
    unreached: set[str] = set()
    for email in sorted(emails - set(people)):
        user_id, name = email, email.split("@")[0].replace(".", " ").title()
        if unreached:
            unreached.add(email)
            continue
        if port is not None and platform != "console":
            try:
                profile = await port.find_user_by_email(email)
            except DeliveryError as exc:
                report.unreachable = f"{LABEL.get(platform, platform)} could not be reached ({exc.reason})"
                unreached.add(email)
                continue
            if profile is None:
                report.errors.append((0, f"no {platform} user has the e-mail {email}"))
                continue
            user_id, name = profile.user_id, profile.name
        found[email] = (user_id, name)
    if unreached:
        for r in report.valid:
            lost = sorted({r.email, r.manager_email} & unreached)
            if lost:
                report.errors.append((r.line, f"not enrolled: {', '.join(lost)} could not be looked up"))
        report.errors.sort()
        if all_or_nothing:
            return
    # One transaction for all new people: a 10,000-row file must not cost 10,000 commits.
    now = service.clock.now()
    async with service.uow() as uow:
        people.update(await uow.people.add_many(
            platform, [(user_id, name, email, tz_of.get(email)) for email, (user_id, name) in found.items()], now))
        for r in report.valid:  # their own holidays, before their prompts are scheduled
            if r.country and r.email in people:
                await uow.people.change(people[r.email], country=r.country, subdivision=r.subdivision)
        await uow.commit()
    # their own calendars and managers from the directory (HR sync, Graph cache) before scheduling
    await directory.apply(service, list(people))
    groups: dict[tuple[Any, ...], list[Row]] = defaultdict(list)
    for r in report.valid:
        if r.email in people and r.manager_email in people:
            groups[(r.journey, r.manager_email, r.start, r.cohort, r.events)].append(r)
    done = 0
    for (journey, manager, start, cohort, events), rows in groups.items():
        res = await service.enrollment.enroll(journey, [people[r.email] for r in rows], people[manager], start,
                                              events=dict(events), cohort=cohort, actor_id=None)
        report.enrolled += len(res.enrolled)
        report.already += len(res.already)
        report.opted_out += len(res.opted_out)
        report.cohorts.add(res.cohort)
        done += len(rows)
        if progress:
            progress(done)
    async with service.uow() as uow:
        for r in report.valid:
            if r.manager_manager_email and r.manager_manager_email in people and r.manager_email in people:
                await uow.people.change(people[r.manager_email], manager_id=people[r.manager_manager_email])
        await uow.commit()
    report.facilitators = await csv_roles.assign_all(service.uow, service.library, list(report.valid), people,
                                                     service.clock.now())
    report.imported = True
