"""What the organisation says about a person: manager, holiday region, time zone, working week,
language. Neutral and pure: the HR sync, Microsoft Graph and Slack profile fields all produce it;
`store/directory.py` keeps it; the engine sees it as a `Person`'s calendar fields.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields, replace
from datetime import time

from journeys.definition import WEEKDAYS
from journeys.text import clean_fields

__all__ = ["FIELDS", "DirectoryEntry", "changes", "format_days", "format_hhmm", "merged", "parse_days", "parse_hhmm", "parse_hours"]


@dataclass(frozen=True)
class DirectoryEntry:
    email: str  # lower case: the key every source shares
    name: str | None = None
    manager_email: str | None = None
    country: str | None = None
    subdivision: str | None = None
    tz: str | None = None
    work_days: tuple[int, ...] | None = None
    work_start: time | None = None
    work_end: time | None = None
    locale: str | None = None
    external_id: str | None = None  # the platform's id for them (Graph object id, Slack user id)

    def __post_init__(self) -> None:
        # Every directory source (HR sync, Graph, Slack profile fields) passes through here: its
        # text loses control characters, as a person's profile does (`ports.chat.Profile`).
        clean_fields(self, ("email", "name", "manager_email", "country", "subdivision", "tz", "locale", "external_id"))

    def with_(self, **kw: object) -> DirectoryEntry:
        return replace(self, **kw)  # type: ignore[arg-type]


FIELDS = tuple(f.name for f in fields(DirectoryEntry) if f.name != "email")


def merged(first: DirectoryEntry | None, then: DirectoryEntry | None) -> DirectoryEntry | None:
    """`first` wins field by field; `then` fills what it leaves empty (HR sync over a live directory)."""
    if first is None or then is None:
        return first or then
    return first.with_(**{f: getattr(first, f) if getattr(first, f) is not None else getattr(then, f)
                          for f in FIELDS})


def changes(old: DirectoryEntry | None, new: DirectoryEntry, *, only_given: bool = True) -> dict[str, tuple[object, object]]:
    """field -> (before, after) for what `new` would change; with `only_given` an empty field in
    `new` means "not in this export", not "erase"."""
    out: dict[str, tuple[object, object]] = {}
    for f in FIELDS:
        after = getattr(new, f)
        before = getattr(old, f) if old is not None else None
        if only_given and after is None:
            continue
        if before != after:
            out[f] = (before, after)
    return out


_HHMM = re.compile(r"^\s*(\d{1,2}):(\d{2})(?::\d{2}(?:\.\d+)?)?\s*$")


def parse_days(text: str | None) -> tuple[int, ...] | None:
    """'mon tue,wed' -> (0, 1, 2); None for nothing; ValueError naming the bad word."""
    if text is None or not text.strip():
        return None
    out: list[int] = []
    for word in re.split(r"[\s,;]+", text.strip().lower()):
        key = word[:3]
        if key not in WEEKDAYS or not (len(word) == 3 or _FULL_NAMES[key].startswith(word)):
            raise ValueError(f"unknown weekday {word!r}: use mon, tue, wed, thu, fri, sat, sun")
        day = WEEKDAYS.index(key)
        if day not in out:
            out.append(day)
    return tuple(sorted(out))


_FULL_NAMES = dict(zip(WEEKDAYS, ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
                                  "sunday"), strict=True))


def format_days(days: tuple[int, ...] | None) -> str | None:
    return " ".join(WEEKDAYS[d] for d in days) if days else None


def parse_hhmm(text: str | None) -> time | None:
    """'8:00', '08:00', '08:00:00.0000000' (Graph) -> time(8, 0); ValueError when not a time."""
    if text is None or not text.strip():
        return None
    m = _HHMM.match(text)
    if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
        raise ValueError(f"expected a time of day HH:MM (24h), got {text!r}")
    return time(int(m.group(1)), int(m.group(2)))


def format_hhmm(t: time | None) -> str | None:
    return None if t is None else f"{t.hour:02d}:{t.minute:02d}"



def parse_hours(text: str | None) -> tuple[time, time] | None:
    """'09:00-17:30' -> (09:00, 17:30); ValueError naming what is wrong (night shifts included)."""
    if text is None or not text.strip():
        return None
    parts = text.split("-")
    if len(parts) != 2:
        raise ValueError(f"expected HH:MM-HH:MM, got {text!r}")
    start, end = parse_hhmm(parts[0]), parse_hhmm(parts[1])
    if start is None or end is None or not start < end:
        raise ValueError(f"{text!r} must start before it ends (night shifts are not supported)")
    return start, end
