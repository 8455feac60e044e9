"""The journey-file key `ending:`: how a journey ends (see `journeys/lifecycle.py`).

Kept apart from `journeys/definition.py` so the lifecycle's settings live in one place; the
`Journey` model embeds it as `ending`.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field

PRACTISED = (
    "That's the end of {journey}, {name}. You used it in real moments at work, which is what turns a "
    "course into a habit. Keep one habit going next month, and tell {manager} which one."
)
NOT_PRACTISED = (
    "That's the end of {journey}, {name}. This time no real moment to practise came off, and that is "
    "worth knowing too. Pick one small situation in the next two weeks to try one habit, and ask "
    "{manager} to help you find it."
)
SURVEY_OPEN = (
    "That's the end of {journey}'s weekly prompts, {name}. One thing is left: the short survey is "
    "open until {survey_closes}. Your honest answer, including \"I didn't get to use it\", helps fix "
    "what got in the way."
)


class ClosingMessages(BaseModel):
    """The closing message, chosen by what happened. Placeholders: {name}, {manager}, {journey},
    and in `survey_open` {survey_closes} (the day the survey closes)."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)
    practised: str = Field(default=PRACTISED, min_length=1, description="at least one moment that matters happened")
    not_practised: str = Field(default=NOT_PRACTISED, min_length=1, description="no moment that matters happened")
    survey_open: str = Field(default=SURVEY_OPEN, min_length=1,
                             description="the journey's time is over but its survey is still open")


class Ending(BaseModel):
    """When an enrollment completes, and what it is told then."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)
    survey_open_days: int = Field(
        default=10, ge=1, le=60,
        description="working days a survey (or an MTM follow-up) stays open once sent; then it "
                    "expires and the journey completes")
    closing: ClosingMessages = Field(default_factory=ClosingMessages)
    next_moments: int = Field(
        default=0, ge=0, le=3,
        description="'plan your next moment' cycles offered after the end, a week apart (0: none)")

# The step id of each enrollment's closing prompt: it fires once the journey's time is over (see
# `journeys/lifecycle.py`); it is never a step of the journey file and is never sent as a prompt.
CLOSE_STEP = "~close"

_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
_ALLOWED = {"name", "manager", "journey"}


def ending_errors(ending: Ending) -> list[tuple[tuple[str | int, ...], str]]:
    """Placeholders a closing text cannot fill (a typo would reach people as '{survey_close}')."""
    errors: list[tuple[tuple[str | int, ...], str]] = []
    for kind in ("practised", "not_practised", "survey_open"):
        allowed = _ALLOWED | ({"survey_closes"} if kind == "survey_open" else set())
        for name in _PLACEHOLDER.findall(getattr(ending.closing, kind)):
            if name not in allowed:
                known = ", ".join("{" + a + "}" for a in sorted(allowed))
                errors.append((("ending", "closing", kind), f"unknown placeholder {{{name}}} (use {known})"))
    return errors
