"""The tick's bulk writes on SQLite as plain tuples straight to the driver (private to store/).

Profiles of `process_due` (BENCHMARKS.md, engine ceiling) put about a third of each due step in
SQLAlchemy's per-value bind processing: the aware-UTC type, the JSON type and parameter dicts,
once per row and column. Here each table's columns are looked at once, values are encoded the way
those types store them on SQLite (naive UTC text with microseconds, `json.dumps`, 0/1), and one
`executemany` of a fixed statement runs on the driver: the same rows in the same columns, with a
fraction of the Python work. The outbox payload, a `Message` dataclass, is serialised once, by
`json.dumps` itself (no intermediate dict copy).

PostgreSQL keeps SQLAlchemy's path (asyncpg's own executemany is already a prepared statement);
callers ask `fast(session)` first.
"""

from __future__ import annotations

import json
import sqlite3
from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from dataclasses import fields, is_dataclass
from datetime import UTC, date, datetime
from operator import itemgetter
from typing import Any, cast

from sqlalchemy import JSON, Boolean, Date, Table
from sqlalchemy.ext.asyncio import AsyncSession

from store.db import _InlineSqlite
from store.models import UTCDateTime

Encoder = Callable[[Any], Any]


def fast(session: AsyncSession) -> bool:
    """Whether this session's database takes the driver path (SQLite)."""
    bind = session.bind
    return bind is not None and bind.dialect.name == "sqlite"


def sqlite_datetime(v: datetime | None) -> str | None:
    """An aware datetime as SQLAlchemy's SQLite DateTime stores it (naive UTC, always microseconds):
    the text the `next_at` indexes compare, so it must be exactly that form."""
    if v is None:
        return None
    hit = _DATETIMES.get(v)  # (equal instants in any zone have the same UTC text)
    if hit is not None:
        return hit
    if v.tzinfo is None:
        raise ValueError("naive datetime given to the database; pass an aware UTC datetime")
    u = v.astimezone(UTC)
    text = (f"{u.year:04d}-{u.month:02d}-{u.day:02d} {u.hour:02d}:{u.minute:02d}:{u.second:02d}"
            f".{u.microsecond:06d}")
    if len(_DATETIMES) >= 4096:
        _DATETIMES.clear()
    _DATETIMES[v] = text
    return text


# The few instants a tick writes again and again (now, the cohort's next times), already formatted.
_DATETIMES: dict[datetime, str] = {}


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _dataclass_fields(value: Any) -> dict[str, Any]:
    """`json.dumps`'s fallback: a dataclass as its fields (what `dataclasses.asdict` gives, shallow;
    json walks the rest)."""
    cls = type(value)
    names = _FIELD_NAMES.get(cls)
    if names is None:
        if not is_dataclass(value) or isinstance(value, type):
            raise TypeError(f"{cls.__name__} is not JSON serialisable")
        names = _FIELD_NAMES[cls] = tuple(f.name for f in fields(value))
    return {n: getattr(value, n) for n in names}


def sqlite_json(v: Any) -> str:
    """What SQLAlchemy's JSON type stores (`json.dumps`; None too is the JSON `null`), a dataclass
    (an outbox `Message`) as `json.dumps(dataclasses.asdict(v))` would write it."""
    if type(v) is dict:  # an event's data, notes: the common case first
        return _small_dict_json(v) if len(v) <= 2 else _encode(v)
    if is_dataclass(v) and not isinstance(v, type):
        return dataclass_json(v)
    return _encode(v)


def _small_dict_json(v: dict[Any, Any]) -> str:
    """A dict of one or two str: str items (a `sent` event's `{"step": ...}`), encoded once per
    process: the tick writes the same few for a whole cohort. Keyed by its items in order (plain
    str only, so 1 and True never share a text); anything else is encoded as it is."""
    items = tuple(v.items())
    if not all(type(k) is str and type(x) is str for k, x in items):
        return _encode(v)
    hit = _SMALL_DICTS.get(items)
    if hit is None:
        if len(_SMALL_DICTS) >= 4096:
            _SMALL_DICTS.clear()
        hit = _SMALL_DICTS[items] = _encode(v)
    return hit


_SMALL_DICTS: dict[tuple[tuple[Any, Any], ...], str] = {}
_encode_str: Callable[[str], str] = json.encoder.encode_basestring_ascii
# `json.dumps(v, default=...)` builds this very encoder on every call: built once instead
_encode: Callable[[Any], str] = json.JSONEncoder(default=_dataclass_fields).encode
# JSON of tuples of frozen dataclasses (a step's buttons, form fields, links), by value: the same
# few tuples recur in every message of a step, so each is encoded once per process.
_TUPLES: dict[tuple[Any, ...], str] = {}
_BY_ID: dict[int, tuple[tuple[Any, ...], str]] = {}  # the tuple is kept, so its id is not reused


def _tuple_json(v: tuple[Any, ...]) -> str:
    if not is_dataclass(v[0]) or not all(is_dataclass(x) for x in v):
        return _encode(v)
    hit = _TUPLES.get(v)
    if hit is None:
        hit = "[" + ", ".join(dataclass_json(x) for x in v) + "]"
        if len(_TUPLES) >= 4096:
            _TUPLES.clear()
        _TUPLES[v] = hit
    return hit


def dataclass_json(value: Any) -> str:
    """`json.dumps(dataclasses.asdict(value))`, byte for byte, without the intermediate dict copy:
    strings through json's own encoder, tuples of frozen dataclasses from `_TUPLES`."""
    cls = type(value)
    encode = _ENCODERS.get(cls)
    if encode is None:
        encode = _ENCODERS[cls] = _encoder_for(cls)
    return encode(value)


def _value_json(v: Any) -> str:
    """One field's JSON when it is not a plain str (the generated encoders test that inline)."""
    t = type(v)
    if t is str:
        return _encode_str(v)
    if v is None:
        return "null"
    if t is bool:
        return "true" if v else "false"
    if t is int:
        return int.__repr__(v)
    if t is tuple and not v:
        return "[]"
    if t is tuple:
        # the same tuple object (a step's form fields) or an equal one (buttons built per call)
        seen = _BY_ID.get(id(v))
        if seen is not None and seen[0] is v:
            return seen[1]
        enc = _tuple_json(v)
        if len(_BY_ID) >= 4096:
            _BY_ID.clear()
        _BY_ID[id(v)] = (v, enc)
        return enc
    return _encode(v)


_ENCODERS: dict[type, Callable[[Any], str]] = {}


def _encoder_for(cls: type) -> Callable[[Any], str]:
    """A dataclass's JSON encoder as straight-line code (as `dataclasses` writes `__init__`): each
    field read once, a plain str encoded in C, anything else through `_value_json`; the keys and
    separators are literals. The tick encodes one `Message` per due prompt."""
    names = [f.name for f in fields(cls)]
    if not all(n.isidentifier() for n in names):
        raise TypeError(f"{cls.__name__}: field names must be identifiers")
    pieces = []
    for i, name in enumerate(names):
        head = ("{" if i == 0 else ", ") + _encode_str(name) + ": "
        pieces.append(f"{head!r}, (_s(value.{name}) if _t(value.{name}) is _str else _v(value.{name}))")
    src = ("def encode(value):\n    return ''.join((" + ", ".join(pieces) + ", '}'))\n" if names
           else "def encode(value):\n    return '{}'\n")
    scope: dict[str, Any] = {"_s": _encode_str, "_t": type, "_str": str, "_v": _value_json}
    exec(src, scope)  # noqa: S102 - source built above from the class's own field names
    return cast(Callable[[Any], str], scope["encode"])


def _date(v: date | None) -> str | None:
    return None if v is None else v.isoformat()


def _plain(v: Any) -> Any:
    return v


def encoder_of(table: Table, column: str) -> Encoder:
    """How one column's Python value is written on SQLite."""
    return _codec(table, column)[0]


def _bool(v: bool | None) -> int | None:
    return None if v is None else int(bool(v))


class RowWriter:
    """One fixed statement over some columns of a table, fed with dicts, run as an executemany."""

    def __init__(self, sql: str, table: Table, columns: Sequence[str], *, key_param: str | None = None,
                 key: str = "id") -> None:
        """`columns`: the statement's parameters in order, each read from the dict under its name;
        with `key_param`, one last parameter: column `key`'s value read under `key_param`."""
        self.sql = sql
        encoders = [(c, encoder_of(table, c)) for c in columns]
        if key_param is not None:
            encoders.append((key_param, encoder_of(table, key)))
        # the parameters read in one C call; only the columns whose type encodes are touched after
        self._get = itemgetter(*(c for c, _ in encoders))
        self._encode = tuple((i, e) for i, (_, e) in enumerate(encoders) if e is not _plain)
        self._single = len(encoders) == 1

    def tuples(self, rows: Sequence[Mapping[str, Any]]) -> list[tuple[Any, ...]]:
        get, enc, out = self._get, self._encode, []
        for r in rows:
            values = [get(r)] if self._single else list(get(r))
            for i, e in enc:
                values[i] = e(values[i])
            out.append(tuple(values))
        return out

    async def run(self, session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> int:
        """Rows changed (for an INSERT .. ON CONFLICT DO NOTHING: rows really inserted)."""
        if not rows:
            return 0
        return await run_many(session, self.sql, self.tuples(rows))


async def run_sql(session: AsyncSession, sql: str, params: Sequence[Any]) -> int:
    """One statement of store/'s own SQL with ? parameters on the driver; rows changed."""
    raw = await _inline_sqlite3(session)
    if raw is not None:
        return int(raw.execute(sql, tuple(params)).rowcount)
    conn = await session.connection()
    return int((await conn.exec_driver_sql(sql, tuple(params))).rowcount)


async def run_many(session: AsyncSession, sql: str, params: list[tuple[Any, ...]]) -> int:
    """One statement of store/'s own SQL run for each parameter tuple on the driver; rows changed."""
    raw = await _inline_sqlite3(session)
    if raw is not None:  # this transaction holds the write lock: nothing to wait for
        return int(raw.executemany(sql, params).rowcount)
    conn = await session.connection()
    return int((await conn.exec_driver_sql(sql, params)).rowcount)


async def _inline_sqlite3(session: AsyncSession) -> sqlite3.Connection | None:
    """The session's sqlite3 connection when its statements run on this thread anyway (a pooled
    file connection, store/db.py `_InlineSqlite`): calling it directly skips the adapter's
    per-statement and per-row work. None for other connections (`:memory:` runs in its own thread)."""
    conn = await session.connection()  # begins the transaction (BEGIN IMMEDIATE for a write)
    raw = await conn.get_raw_connection()
    driver = raw.driver_connection
    if isinstance(driver, _InlineSqlite):
        return driver._conn
    return None


def inserter(table: Table, columns: Sequence[str], *, conflict_nothing: str | None = None) -> RowWriter:
    """INSERT of `columns` from the dicts fed to it; the table's other columns with a Python-side
    scalar default (what SQLAlchemy would fill in, e.g. `in_doubt=False`) get that value."""
    defaults: list[tuple[str, str]] = []
    for c in table.columns:
        if c.name in columns or c.default is None:
            continue
        default: Any = c.default
        if not default.is_scalar:
            raise ValueError(f"{table.name}.{c.name} has a computed default: pass it")
        defaults.append((c.name, _literal(default.arg)))
    names = [*columns, *(n for n, _ in defaults)]
    cols = ", ".join(f'"{c}"' for c in names)
    values = ["?"] * len(columns) + [v for _, v in defaults]
    sql = f"INSERT INTO {table.name} ({cols}) VALUES ({', '.join(values)})"
    if conflict_nothing is not None:
        sql += f' ON CONFLICT ("{conflict_nothing}") DO NOTHING'
    return RowWriter(sql, table, columns)


def _literal(v: Any) -> str:
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, int):
        return repr(v)
    if isinstance(v, str):
        return "'" + v.replace("'", "''") + "'"
    raise ValueError(f"no SQL literal for default {v!r}")


_UPDATERS: dict[tuple[str, tuple[str, ...], str], RowWriter] = {}


def updater(table: Table, columns: Sequence[str], *, key_param: str, key: str = "id",
            fixed: str = "") -> RowWriter:
    """UPDATE table SET columns (plus `fixed` SQL, e.g. `claimed_until = NULL`) WHERE key = ?;
    the dicts fed to it carry the key's value under `key_param`. One per column set, kept for the
    process (a tick sees a handful of distinct sets)."""
    k = (table.name, tuple(columns), fixed)
    w = _UPDATERS.get(k)
    if w is None:
        sets = [f'"{c}" = ?' for c in columns] + ([fixed] if fixed else [])
        sql = f'UPDATE {table.name} SET {", ".join(sets)} WHERE "{key}" = ?'
        w = _UPDATERS[k] = RowWriter(sql, table, columns, key_param=key_param, key=key)
    return w


def _read_datetime(v: str | datetime | None) -> datetime | None:
    """What the aware-UTC type gives back for SQLite's text (datetimes are immutable: the few
    instants a cohort's rows share are parsed once)."""
    if v is None:
        return None
    if isinstance(v, str):
        hit = _READ_DATETIMES.get(v)
        if hit is None:
            if len(_READ_DATETIMES) >= 4096:
                _READ_DATETIMES.clear()
            hit = _READ_DATETIMES[v] = datetime.fromisoformat(v).replace(tzinfo=UTC)
        return hit
    return v.replace(tzinfo=UTC)


_READ_DATETIMES: dict[str, datetime] = {}


def _read_json(v: str | None) -> Any:
    if v == "{}":  # most rows' answers and notes; a new dict each time, as json.loads gives
        return {}
    return None if v is None else json.loads(v)


def _read_date(v: str | date | None) -> date | None:
    return date.fromisoformat(v) if isinstance(v, str) else v


def _read_bool(v: int | None) -> bool | None:
    return None if v is None else bool(v)


def decoder_of(table: Table, column: str) -> Encoder | None:
    """How one column's SQLite value is read back (None: as it is)."""
    return _codec(table, column)[1]


def _codec(table: Table, column: str) -> tuple[Encoder, Encoder | None]:
    """(write, read) of a column by its SQLAlchemy type: what that type's processors do on SQLite."""
    t = table.c[column].type
    for kind, write, read in _CODECS:
        if isinstance(t, kind):
            return write, read
    return _plain, None


_CODECS: tuple[tuple[type, Encoder, Encoder], ...] = (
    (UTCDateTime, sqlite_datetime, _read_datetime), (JSON, sqlite_json, _read_json),
    (Date, _date, _read_date), (Boolean, _bool, _read_bool))


class RowReader:
    """SELECT of some columns of a table on the driver, rows decoded as the column types would
    (aware UTC datetimes, JSON, dates, bools) into named tuples (attribute access, as Core rows)."""

    def __init__(self, table: Table, columns: Sequence[str]) -> None:
        self.columns = tuple(columns)
        self.row: Any = namedtuple(f"{table.name}_row", self.columns)  # type: ignore[misc]
        self._select = f'SELECT {", ".join(f"{table.name}.{c}" for c in self.columns)} FROM {table.name}'
        self._decode = tuple((i, d) for i, c in enumerate(self.columns) if (d := decoder_of(table, c)) is not None)

    async def where(self, session: AsyncSession, clause: str, params: Sequence[Any]) -> list[Any]:
        """Rows matching `clause` (SQL with ? placeholders; only store/ writes it)."""
        sql = f"{self._select} WHERE {clause}"
        found: Sequence[Any] | None = None
        raw = await _inline_sqlite3(session)
        if raw is not None:
            try:
                found = raw.execute(sql, tuple(params)).fetchall()
            except sqlite3.OperationalError as exc:  # busy: the adapter's path waits and retries
                if "locked" not in str(exc):
                    raise
        if found is None:
            conn = await session.connection()
            found = (await conn.exec_driver_sql(sql, tuple(params))).fetchall()
        make, decode, out = self.row._make, self._decode, []
        for r in found:
            values = list(r)
            for i, d in decode:
                values[i] = d(values[i])
            out.append(make(values))
        return out

    async def first(self, session: AsyncSession, clause: str, params: Sequence[Any]) -> Any | None:
        """The first row matching `clause`, or None (a read by key)."""
        found = await self.where(session, clause, params)
        return found[0] if found else None

    async def by_ids(self, session: AsyncSession, ids: Sequence[str], key: str = "id") -> list[Any]:
        if not ids:
            return []
        return await self.where(session, f"{key} IN ({', '.join('?' * len(ids))})", ids)
