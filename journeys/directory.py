"""What the organisation says about a person: manager, holiday region, time zone, working week,
language. Neutral and pure: the HR sync, Microsoft Graph and Slack profile fields all produce it;
`store/directory.py` keeps it; the engine sees it as a `Person`'s calendar fields.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import time

__all__ = ["FIELDS", "DirectoryEntry", "changes", "merged"]


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
