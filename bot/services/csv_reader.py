"""The one CSV reader of operator files (`hplj enroll --csv`, `hplj people sync --csv`).

One set of rules, so no import checks less than another: a UTF-8 BOM is ignored; the header is
read case-insensitively, and a duplicated, missing or unknown column refuses the whole file (the
csv module would silently keep the last of two `email` columns); every field is at most
`MAX_FIELD` characters and holds no control character (C0, DEL, C1, bidi overrides and isolates:
`journeys.text.has_control`); a row with more values than columns is refused; a line the csv
module cannot read (a field over its size limit, a stray quote) ends the file with that line's
error instead of a traceback. Errors are (line, reason): the caller prints `file:line: reason`.

`shown()` is for what an operator's terminal prints back: control characters escaped, so a value
can never move the cursor, set the window title or clear the screen.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from bot.services.import_policy import delimiter_problem
from journeys.text import has_control

MAX_FIELD = 10_000  # characters: no column of an HR export is longer


@dataclass(frozen=True)
class CsvRow:
    line: int
    values: dict[str, str]  # by lower-case column name, stripped


@dataclass
class CsvTable:
    header: list[str] = field(default_factory=list)
    rows: list[CsvRow] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)
    read: int = 0  # data rows read, good or bad


def read_csv(text: str, *, required: Sequence[str], optional: Sequence[str] = (),
             prefixes: Sequence[str] = ()) -> CsvTable:
    """The rows of `text` that pass the rules, and (line, reason) for every one that does not.
    `prefixes`: column name prefixes also allowed (`event:` for journey event dates)."""
    table = CsvTable()
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    rows = _rows(reader, table)
    first = next(rows, None)
    if first is None:
        table.errors.append((1, f"the file is empty (expected the columns {', '.join(required)})"))
        return table
    header = [h.strip().lower() for h in first[1]]
    problem = _header_problem(header, required, optional, prefixes)
    if problem:  # a semicolon or tab separated file: say so, rather than what it looks like to a comma reader
        problem = delimiter_problem(text, tuple(required)) or problem
    if problem:
        table.errors.append((1, problem))
        return table
    table.header = header
    for line, raw in rows:
        table.read += 1
        if len(raw) > len(header):
            table.errors.append((line, "more values than columns"))
            continue
        values = {h: (raw[i] if i < len(raw) else "").strip() for i, h in enumerate(header)}
        too_long = [k for k, v in values.items() if len(v) > MAX_FIELD]
        if too_long:
            table.errors.append((line, f"{', '.join(too_long)}: longer than {MAX_FIELD} characters"))
            continue
        controls = [k for k, v in values.items() if has_control(v, single_line=True)]
        if controls:
            table.errors.append((line, f"{', '.join(controls)}: contains control characters"))
            continue
        table.rows.append(CsvRow(line, values))
    return table


def _header_problem(header: list[str], required: Sequence[str], optional: Sequence[str],
                    prefixes: Sequence[str]) -> str | None:
    if any(has_control(h, single_line=True) or len(h) > 200 for h in header):
        return "the header has a control character or a column name longer than 200 characters"
    doubled = sorted({h for h in header if header.count(h) > 1})
    if doubled:
        return f"column(s) {', '.join(shown(h) for h in doubled)} appear more than once"
    expected = f"expected {', '.join(required)}" + (f", optionally {', '.join(optional)}" if optional else "") + \
        "".join(f" and {p}<id>" for p in prefixes)
    missing = [c for c in required if c not in header]
    if missing:
        return f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)} ({expected})"
    unknown = [h for h in header if h not in (*required, *optional) and not any(h.startswith(p) for p in prefixes)]
    if unknown:
        return f"unknown column(s) {', '.join(shown(h) for h in unknown)} ({expected})"
    return None


def _rows(reader: Iterator[list[str]], table: CsvTable) -> Iterator[tuple[int, list[str]]]:
    """(line, values) of each row; a line the csv module cannot read ends the file with its error."""
    line = 1
    while True:
        try:
            raw = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            why = (f"a field is longer than {MAX_FIELD} characters" if "field larger" in str(exc)
                   else f"not readable as CSV ({exc})")
            table.errors.append((line, f"{why}; nothing after it was read"))
            return
        start, line = line, getattr(reader, "line_num", line) + 1
        if raw:
            yield start, raw


def shown(value: object) -> str:
    """`value` as an operator's terminal may print it: control characters (C0, DEL, C1, bidi
    controls) as `\\x1b`-style escapes, everything else as it is."""
    text = str(value)
    if not has_control(text, single_line=True):
        return text
    return "".join(repr(c)[1:-1] if has_control(c, single_line=True) else c for c in text)


__all__ = ["MAX_FIELD", "CsvRow", "CsvTable", "read_csv", "shown"]
