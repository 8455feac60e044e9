"""Small wording helpers, so counts and days read as people write them."""

from __future__ import annotations

from journeys.definition import Step

WEEKDAY_NAMES = {"mon": "Monday", "tue": "Tuesday", "wed": "Wednesday", "thu": "Thursday", "fri": "Friday",
                 "sat": "Saturday", "sun": "Sunday"}


def plural(n: int, word: str, many: str | None = None) -> str:
    """'1 reminder', '2 reminders', '0 reminders'."""
    return f"{n} {word if n == 1 else (many or word + 's')}"


def weekday_name(short: str) -> str:
    """'mon' -> 'Monday'."""
    return WEEKDAY_NAMES.get(short, short)


def saved_text(step: Step) -> str:
    """The confirmation after an answer, naming what was saved: 'Saved your picture of success.'"""
    title = (step.title or "").strip()
    if not title:
        return "Saved your answer."
    what = title[0].lower() + title[1:] if not title[:2].isupper() else title
    if not what.startswith(("your ", "the ", "a ", "an ", "one ")):
        what = "your answer to “" + title + "”"
    return f"Saved {what}."
