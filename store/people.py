"""The people directory's rows: one lookup by platform id, one upsert, addresses, e-mails."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields, replace
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from journeys.state import Person
from store import hotpath
from store.mappers import person_state
from store.models import PersonRow
from store.sql import dialect_insert, new_id

TZ_RECHECK = timedelta(hours=12)  # a time zone seen again is re-stamped at most this often

_PEOPLE = cast(Table, PersonRow.__table__)
# The hot path's statements, built once (Core: rows, no ORM identity map).
_BY_PLATFORM_ID = select(_PEOPLE).where(_PEOPLE.c.platform == bindparam("platform"),
                                        _PEOPLE.c.platform_user_id == bindparam("uid"))
_BY_TEAMS_ALIAS = (select(_PEOPLE).where(_PEOPLE.c.platform == bindparam("platform"),
                                         PersonRow.address["user_id"].as_string() == bindparam("uid"))
                   .order_by(_PEOPLE.c.created_at).limit(1))
_BY_IDS = select(_PEOPLE).where(_PEOPLE.c.id.in_(bindparam("ids", expanding=True)))
_BY_ID = select(_PEOPLE).where(_PEOPLE.c.id == bindparam("id"))


@dataclass(frozen=True, slots=True)
class PersonRecord:
    """A stored person, as read (a plain value: changing it changes nothing stored)."""

    id: str
    platform: str
    platform_user_id: str
    name: str = ""
    email: str | None = None
    tz: str | None = None
    tz_checked_at: datetime | None = None
    country: str | None = None
    subdivision: str | None = None
    dm_id: str | None = None
    address: dict[str, Any] | None = None
    greeted: bool = False
    opted_out_at: datetime | None = None
    work_days: str | None = None
    work_start: str | None = None
    work_end: str | None = None
    locale: str | None = None
    manager_id: str | None = None
    created_at: datetime | None = None

    @property
    def label(self) -> str:
        return self.name or self.platform_user_id


_COLUMNS = tuple(f.name for f in fields(PersonRecord))


# The same reads on SQLite's driver (store/hotpath.py): every click reads its person first.
_RECORD_READER = hotpath.RowReader(_PEOPLE, _COLUMNS)


def record(row: Any) -> PersonRecord:
    """A Core row (or anything with the columns as attributes) as a PersonRecord."""
    mapping: Mapping[str, Any] | None = getattr(row, "_mapping", None)
    if mapping is not None:
        return PersonRecord(**{k: mapping[k] for k in _COLUMNS})
    return PersonRecord(**{k: getattr(row, k) for k in _COLUMNS})


def person_changes(row: PersonRecord, now: datetime, *, name: str | None = None, email: str | None = None,
                   tz: str | None = None, address: dict[str, Any] | None = None,
                   dm_id: str | None = None) -> dict[str, Any]:
    """The columns a profile seen now would change (nothing when it says what is stored)."""
    changes: dict[str, Any] = {}
    if name and row.name != name:
        changes["name"] = name
    if email and row.email != email:
        changes["email"] = email
    if tz and (row.tz != tz or row.tz_checked_at is None or now - row.tz_checked_at > TZ_RECHECK):
        changes["tz"], changes["tz_checked_at"] = tz, now
    if address and row.address != address:
        changes["address"] = address
    if dm_id and row.dm_id != dm_id:
        changes["dm_id"] = dm_id
    return changes


class EngineView(ABC):
    """People as the engine sees them, for any people repository (SQL or in memory)."""

    def __init__(self, default_tz: str) -> None:
        self._tz = default_tz

    @abstractmethod
    async def by_ids(self, ids: Iterable[str]) -> dict[str, PersonRecord]: ...

    def state(self, person: PersonRecord) -> Person:
        """A stored person as the engine sees them (zone, holidays, working week and hours)."""
        return person_state(person, self._tz)

    async def states(self, ids: Iterable[str]) -> dict[str, Person]:
        return {pid: person_state(r, self._tz) for pid, r in (await self.by_ids(ids)).items()}


class PeopleRepository(EngineView):
    def __init__(self, session: AsyncSession, default_tz: str = "UTC") -> None:
        super().__init__(default_tz)
        self._s = session

    async def by_platform_id(self, platform: str, user_id: str, *, alias: bool = False) -> PersonRecord | None:
        """By platform user id; with `alias`, on Teams also by the channel account id (`29:...`) in
        the stored conversation reference, since mentions often carry only that."""
        params = {"platform": platform, "uid": user_id}
        if hotpath.fast(self._s):
            row = await _RECORD_READER.first(self._s, "platform = ? AND platform_user_id = ?", (platform, user_id))
        else:
            row = (await self._s.execute(_BY_PLATFORM_ID, params)).first()
        if row is None and alias and platform == "teams" and user_id.startswith("29:"):
            row = (await self._s.execute(_BY_TEAMS_ALIAS, params)).first()
        return record(row) if row is not None else None

    async def get(self, person_id: str) -> PersonRecord | None:
        row = (await self._s.execute(_BY_ID, {"id": person_id})).first()
        return record(row) if row is not None else None

    async def by_ids(self, ids: Iterable[str]) -> dict[str, PersonRecord]:
        wanted = list({i for i in ids if i})
        if not wanted:
            return {}
        if hotpath.fast(self._s):
            return {r.id: record(r) for r in await _RECORD_READER.by_ids(self._s, wanted)}
        return {r.id: record(r) for r in (await self._s.execute(_BY_IDS, {"ids": wanted})).all()}

    async def by_email(self, email: str) -> list[PersonRecord]:
        """Everyone stored with this e-mail (any case), oldest first."""
        rows = (await self._s.execute(select(_PEOPLE).where(func.lower(_PEOPLE.c.email) == email.lower())
                                      .order_by(_PEOPLE.c.created_at))).all()
        return [record(r) for r in rows]

    async def by_emails(self, emails: Iterable[str]) -> list[PersonRecord]:
        lowered = [e.lower() for e in emails]
        if not lowered:
            return []
        rows = (await self._s.execute(select(_PEOPLE).where(func.lower(_PEOPLE.c.email).in_(lowered)))).all()
        return [record(r) for r in rows]

    async def by_id_or_user_id(self, ref: str) -> list[PersonRecord]:
        rows = (await self._s.execute(select(_PEOPLE).where(or_(_PEOPLE.c.id == ref,
                                                                _PEOPLE.c.platform_user_id == ref))
                                      .order_by(_PEOPLE.c.created_at))).all()
        return [record(r) for r in rows]

    async def upsert(self, platform: str, user_id: str, now: datetime, *, name: str | None = None,
                     email: str | None = None, tz: str | None = None, address: dict[str, Any] | None = None,
                     dm_id: str | None = None) -> tuple[PersonRecord, bool]:
        """The person, created or brought up to date; and whether anything was written. A concurrent
        first action of the same user (PostgreSQL) is not an error: ON CONFLICT DO NOTHING."""
        found = await self.by_platform_id(platform, user_id)
        if found is None:
            await self.add(platform, user_id, now, name=name, email=email, tz=tz, address=address, dm_id=dm_id)
            row = (await self._s.execute(_BY_PLATFORM_ID, {"platform": platform, "uid": user_id})).one()
            return record(row), True
        changes = person_changes(found, now, name=name, email=email, tz=tz, address=address, dm_id=dm_id)
        if changes:
            await self.change(found.id, **changes)
            found = replace(found, **changes)
        return found, bool(changes)

    async def add(self, platform: str, user_id: str, now: datetime, *, name: str | None = None,
                  email: str | None = None, tz: str | None = None, address: dict[str, Any] | None = None,
                  dm_id: str | None = None) -> str:
        """A new person (nothing when the platform id is taken); returns the id it would have."""
        pid = new_id("p_")
        await self._s.execute(dialect_insert(self._s)(PersonRow).values(
            id=pid, platform=platform, platform_user_id=user_id, name=name or user_id, email=email,
            tz=tz, tz_checked_at=now if tz else None, address=address, dm_id=dm_id, created_at=now,
            greeted=False).on_conflict_do_nothing(index_elements=["platform", "platform_user_id"]))
        return pid

    async def add_many(self, platform: str, people: Iterable[tuple[str, str, str, str | None]],
                       now: datetime) -> dict[str, str]:
        """New people by (user id, name, e-mail, tz) in one statement; returns e-mail -> person id for
        everyone given (those already stored keep their id)."""
        given = list(people)
        if not given:
            return {}
        known = {r.platform_user_id: r.id for r in (await self._s.execute(select(_PEOPLE).where(
            _PEOPLE.c.platform == platform, _PEOPLE.c.platform_user_id.in_([u for u, _, _, _ in given])))).all()}
        ids: dict[str, str] = {}
        rows = []
        for user_id, name, email, tz in given:
            if user_id in known:
                ids[email] = known[user_id]
                continue
            pid = known[user_id] = new_id("p_")
            rows.append({"id": pid, "platform": platform, "platform_user_id": user_id, "name": name,
                         "email": email, "tz": tz, "tz_checked_at": now if tz else None, "greeted": False,
                         "created_at": now})
            ids[email] = pid
        if rows:
            await self._s.execute(dialect_insert(self._s)(_PEOPLE), rows)
        return ids

    async def change(self, person_id: str, **values: Any) -> None:
        await self._s.execute(update(_PEOPLE).where(_PEOPLE.c.id == person_id).values(**values))

    async def mark_greeted(self, person_id: str) -> bool:
        """True when this call greeted them (exactly one caller wins)."""
        result = await self._s.execute(update(_PEOPLE).where(_PEOPLE.c.id == person_id,
                                                             _PEOPLE.c.greeted.is_(False)).values(greeted=True))
        return bool(getattr(result, "rowcount", 0))

    async def reporting_to(self, person_id: str) -> set[str]:
        """Ids of the people whose own manager (people.manager_id) is this person."""
        return set((await self._s.execute(select(_PEOPLE.c.id).where(_PEOPLE.c.manager_id == person_id)))
                   .scalars().all())
