"""Which `{placeholders}` each text of a journey file may use, so none reaches a person unfilled.

The engine fills a step's `text`, a manager task's `guide`, a support request's `coach_guide` and
the closing messages (`journeys/engine.py` `fill`); every other text is sent as written. A text
that names a placeholder its place cannot fill (a typo like `{nmae}`, `{Name}` or `{mtm-date}`, a
moment's `{mtm_date}` in a step that has no moment, anything in a title) is an error at load time.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from typing import Any

from journeys.definition import Journey

# Anything that looks like a placeholder: braces around one word (letters, digits, _ or -).
PLACEHOLDER = re.compile(r"\{([A-Za-z0-9_-]{1,40})\}")
BASE = ("name", "manager", "journey", "start", "starts", "agreed")
MOMENT = ("mtm_date", "behaviour", "practice", "situation")
_FILLED = ("text", "guide", "coach_guide")
_CLOSING = {"practised": (), "not_practised": (), "survey_open": ("survey_closes",)}

Loc = tuple[str | int, ...]


def allowed(journey: Journey, loc: Loc) -> tuple[str, ...] | None:
    """The placeholders the text at `loc` may use; None for a text that is never filled."""
    events = tuple(f"event_{e.id.replace('-', '_')}" for e in journey.events)
    if len(loc) == 3 and loc[0] == "steps" and isinstance(loc[1], int) and loc[2] in _FILLED:
        step = journey.steps[loc[1]]
        moment = MOMENT if getattr(step, "for_mtm", None) else ()
        # {starts} is worded for the day a prompt is sent; a guide is a reply, worded for no day
        base = BASE if loc[2] == "text" else tuple(b for b in BASE if b != "starts")
        return (*base, *events, *moment)
    if len(loc) == 3 and loc[:2] == ("ending", "closing") and loc[2] in _CLOSING:
        return ("name", "manager", "journey", *_CLOSING[str(loc[2])])
    return None


def _strings(data: Any, loc: Loc) -> Iterator[tuple[Loc, str]]:
    if isinstance(data, str):
        yield loc, data
    elif isinstance(data, dict):
        for k, v in data.items():
            yield from _strings(v, (*loc, k))
    elif isinstance(data, (list, tuple)):
        for i, v in enumerate(data):
            yield from _strings(v, (*loc, i))


def problems(journey: Journey) -> list[tuple[Loc, str, str]]:
    """(where, the placeholder as written, the message) for every placeholder that would reach a
    person unfilled."""
    out: list[tuple[Loc, str, str]] = []
    for loc, text in _strings(journey.model_dump(exclude_defaults=False), ()):
        for m in PLACEHOLDER.finditer(text):
            word = m.group(1)
            ok = allowed(journey, loc)
            if ok is not None and word in ok:
                continue
            if loc[:2] == ("ending", "closing") and re.fullmatch(r"[a-z_]+", word):
                continue  # the closing's own check reports these (journeys/ending.py)
            if ok is None:
                out.append((loc, m.group(0), (f"unknown placeholder {m.group(0)}; placeholders are filled "
                                              "only in a step's text, guide and coach_guide and the closing "
                                              "messages")))
                continue
            out.append((loc, m.group(0), f"unknown placeholder {m.group(0)}{_did_you_mean(word, ok)}"))
    return out


def _did_you_mean(word: str, choices: tuple[str, ...]) -> str:
    guess = word.lower().replace("-", "_")
    if guess in choices:
        return f"; did you mean {{{guess}}}?"
    if guess in MOMENT:
        return f" (only steps about a moment, with for_mtm, can use {{{guess}}})"
    close = difflib.get_close_matches(guess, choices, n=1, cutoff=0.6)
    if close:
        return f"; did you mean {{{close[0]}}}?"
    return f" (use {', '.join('{' + c + '}' for c in choices)})"
