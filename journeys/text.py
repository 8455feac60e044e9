"""Text a person typed, kept apart from the bot's own words all the way to the screen.

Typed text (a moment's situation, a reflection, a form answer, a name, an admin's argument)
enters a neutral `Message` only through `typed()`, which wraps it in two private-use
characters. Renderers split a string with `segments()` and show typed spans as inert text on
every platform (Slack: `&`, `<`, `>` escaped and no auto-linking; Teams: a `TextRun`, which
has no Markdown; console: control characters stripped). The bot's own mentions go through
`mention()`, the only way a Slack `<@U…>` token reaches a rendered message.

`clean()` is the edge rule for anything a person or a file sends in: control characters
(NUL included) and the marker characters are dropped, so typed text can never close its own
span or forge a mention.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Literal

TYPED_OPEN = "\ue000"
TYPED_CLOSE = "\ue001"
MENTION_OPEN = "\ue002"
MENTION_CLOSE = "\ue003"
MARKERS = TYPED_OPEN + TYPED_CLOSE + MENTION_OPEN + MENTION_CLOSE

# C0 controls except tab and newline, DEL, C1 controls, the markers; bidi overrides/isolates
# are stripped too: they make typed text read differently from what it is.
_CONTROL = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f" + MARKERS + "\u202a-\u202e\u2066-\u2069]"
)
_ANY_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f" + MARKERS + "\u202a-\u202e\u2066-\u2069]")
_SPANS = re.compile(
    f"{TYPED_OPEN}([^{MARKERS}]*){TYPED_CLOSE}|{MENTION_OPEN}([^{MARKERS}]*){MENTION_CLOSE}"
)

SegmentKind = Literal["bot", "typed", "mention"]


def clean(text: str, *, single_line: bool = False) -> str:
    """`text` without control characters (keeping tab and newline unless `single_line`)."""
    if single_line:
        return _ANY_CONTROL.sub("", text)
    return _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def has_control(text: str, *, single_line: bool = False) -> bool:
    """True when `clean` would change `text` (besides line endings)."""
    pattern = _ANY_CONTROL if single_line else _CONTROL
    return pattern.search(text.replace("\r", "")) is not None


def clean_fields(record: object, names: Iterable[str]) -> None:
    """Strip control characters (`single_line`) from these text attributes of a frozen dataclass
    in place, from its `__post_init__`: a record from outside is clean from the moment it exists."""
    for name in names:
        value = getattr(record, name)
        if isinstance(value, str) and has_control(value, single_line=True):
            object.__setattr__(record, name, clean(value, single_line=True))


def typed(text: object) -> str:
    """`text` marked as typed by a person: every renderer shows it as inert text."""
    return TYPED_OPEN + clean(str(text)) + TYPED_CLOSE


def mention(user_id: str) -> str:
    """The bot's own mention of a platform user (a Slack `<@U…>` once rendered)."""
    return MENTION_OPEN + clean(user_id, single_line=True) + MENTION_CLOSE


def segments(text: str) -> list[tuple[SegmentKind, str]]:
    """`text` split into the bot's own words, typed spans and mentions (stray markers dropped)."""
    out: list[tuple[SegmentKind, str]] = []
    pos = 0
    for m in _SPANS.finditer(text):
        if m.start() > pos:
            out.append(("bot", _strip(text[pos : m.start()])))
        if m.group(1) is not None:
            out.append(("typed", m.group(1)))
        else:
            out.append(("mention", m.group(2)))
        pos = m.end()
    if pos < len(text):
        out.append(("bot", _strip(text[pos:])))
    return [(k, s) for k, s in out if s or k == "mention"]


def has_typed(text: str) -> bool:
    return TYPED_OPEN in text or MENTION_OPEN in text


def plain(text: str) -> str:
    """`text` as plain words: markers removed, mentions as `@id`, controls stripped."""
    parts = []
    for kind, value in segments(text):
        parts.append(f"@{value}" if kind == "mention" else value)
    return clean("".join(parts))


def _strip(text: str) -> str:
    return text.translate({ord(c): None for c in MARKERS})


__all__ = ["clean", "has_control", "has_typed", "mention", "plain", "segments", "typed"]
