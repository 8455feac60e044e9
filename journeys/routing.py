"""Where a typed answer goes.

A typed answer goes to the prompt it replies to (a Slack thread reply, a Teams Reply: the adapter
resolves it and the handler passes `Reply.prompt_id`). Without one, it goes to the only open
prompt, or to the prompt the person is answering field by field (the bot just asked its next
question); with several open prompts the bot asks which one instead of guessing, and the person
can answer again starting with the prompt's number ("2: my answer"). A bare number ("1") answers
the latest prompt, as the latest card's buttons are numbered; a leading "N:" is never saved.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from journeys.state import PromptState

_NUMBERED = re.compile(r"^\s*#?(\d{1,2})\s*[:)]\s*(\S.*)$", re.DOTALL | re.ASCII)
_SUGGESTED = re.compile(r"^\s*#?(\d{1,2})\s*[:)]\s+(\S.*)$", re.DOTALL | re.ASCII)  # "1: …", never "1:1s"


@dataclass(frozen=True)
class Routed:
    """The prompt a typed text answers (None: no open prompt, or `ask` lists the candidates), and
    the text without its "N:" prefix."""

    prompt: PromptState | None
    text: str
    ask: tuple[PromptState, ...] = ()


def candidates(open_prompts: list[PromptState]) -> list[PromptState]:
    """Open prompts in the order they were sent (oldest first): the numbers the question shows
    stay the same while newer prompts arrive."""
    return sorted(open_prompts, key=lambda p: (p.sent_at or p.due_at, p.id))


def strip_number(text: str, count: int) -> str:
    """The text without a leading "N:" the bot itself suggested (N one of the `count` open
    prompts): "1: my answer" is "my answer", never saved as "1: my answer"."""
    m = _SUGGESTED.match(text)
    return m.group(2).strip() if m and 1 <= int(m.group(1)) <= max(count, 1) else text


def route_typed(open_prompts: list[PromptState], text: str) -> Routed:
    ordered = candidates(open_prompts)
    if not ordered:
        return Routed(None, text)
    if len(ordered) == 1:
        return Routed(ordered[0], strip_number(text, 1))
    m = _NUMBERED.match(text)
    if m and 1 <= int(m.group(1)) <= len(ordered):
        return Routed(ordered[int(m.group(1)) - 1], m.group(2).strip())
    half = [p for p in ordered if p.answers]
    if len(half) == 1:
        return Routed(half[0], text)
    if text.strip().isdigit():  # a bare number answers the latest prompt (a button's number, a rating)
        return Routed(ordered[-1], text.strip())
    return Routed(None, text, tuple(ordered))
