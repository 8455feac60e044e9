"""The optional "plan your next moment" loop after a journey ends (`ending.next_moments: N`).

The loop is N more plan -> reflect cycles, one a week after the journey's last step timed from
the start or an event: a `next-moment-<i>` mtm_plan step and its `next-reflect-<i>` follow-up,
generated when the journey file is loaded, so the engine plans, reminds and follows them up like
any other moment that matters. They are not part of the journey's window (their moments may fall
after its last day) nor of its length in weeks, and the journey waits for them before it completes
(`journeys/lifecycle.py`).

Pure: works on the file's raw data, before validation.
"""

from __future__ import annotations

import re
from typing import Any

LOOP_PREFIXES = ("next-moment-", "next-reflect-")
MAX_NEXT_MOMENTS = 3
_START = re.compile(r"^\s*start\s*(?:(?P<sign>[+-])\s*(?P<days>\d{1,3}))?\s")
_EVENT = re.compile(r"^\s*event:(?P<event>[a-z0-9][a-z0-9_-]*?)\s*(?:(?P<sign>[+-])\s*(?P<days>\d{1,3}))?\s")

PLAN_TEXT = (
    "Your journey has ended, but the habits only stick if you keep using them. Plan one more moment "
    "that matters in the next two weeks: what, when, and which habit you'll use. Same as before, "
    "without the weekly prompts."
)
REFLECT_TEXT = (
    "How did your moment go? What did you do, and what would you repeat next time? One honest line "
    "is enough."
)


def is_loop_step(step_id: str) -> bool:
    return step_id.startswith(LOOP_PREFIXES)


def _offset(m: re.Match[str] | None) -> int:
    if m is None:
        return 0
    return int(m.group("days") or 0) * (-1 if m.group("sign") == "-" else 1)


def _last_offset(data: dict[str, Any]) -> int:
    """The latest working-day offset from the start among the file's steps (events by default)."""
    events: dict[str, int] = {}
    for e in data.get("events") or []:
        if isinstance(e, dict) and isinstance(e.get("id"), str) and isinstance(e.get("default"), str):
            events[e["id"]] = _offset(_START.match(e["default"] + " "))
    latest = 0
    for s in data.get("steps") or []:
        when = s.get("when") if isinstance(s, dict) else None
        if not isinstance(when, str) or s.get("evaluation") == "follow_up":  # weeks later, on its own
            continue
        start, event = _START.match(when), _EVENT.match(when)
        if start is not None:
            latest = max(latest, _offset(start))
        elif event is not None and event.group("event") in events:
            latest = max(latest, events[event.group("event")] + _offset(event))
    return latest


def with_loop_steps(data: Any) -> Any:
    """The file's data with the loop's steps appended (unchanged without a valid `next_moments`)."""
    if not isinstance(data, dict) or not isinstance(data.get("steps"), list):
        return data
    ending = data.get("ending")
    n = ending.get("next_moments") if isinstance(ending, dict) else None
    if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= MAX_NEXT_MOMENTS:
        return data
    last = _last_offset(data)
    steps = list(data["steps"])
    for i in range(1, n + 1):
        steps.append({"id": f"next-moment-{i}", "kind": "mtm_plan", "title": "Plan your next moment",
                      "practice": "real", "when": f"start+{last + 5 * i} 10:00",
                      "reminders": {"after": 2, "max": 1}, "text": PLAN_TEXT})
        steps.append({"id": f"next-reflect-{i}", "kind": "mtm_follow_up", "title": "How did your next moment go?",
                      "for_mtm": f"next-moment-{i}", "when": "mtm+1 09:30", "reminders": {"after": 2, "max": 1},
                      "text": REFLECT_TEXT})
    return {**data, "steps": steps}
