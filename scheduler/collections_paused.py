"""Fewer garbage-collector passes while a tick runs.

A due step builds some thirty short-lived containers (engine states, the decision, the message,
its rows), so CPython's youngest generation fills every 700 allocations: about 35 collections per
1,000 due steps, 5% of a tick's CPU time (BENCHMARKS.md, engine ceiling, third pass), all finding
nothing, since those objects are freed by reference counting. During a tick the youngest
generation's threshold is raised; the older ones' are kept, and everything is restored when the
last tick running in this process ends (a pass of a few seconds: a bounded amount of extra young
objects, never a change to how the process collects afterwards).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

TICK_THRESHOLD = 20_000  # young container objects between two collections during a tick

_depth = 0
_saved: tuple[int, int, int] | None = None


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Raise the youngest generation's threshold for the block (nested and concurrent blocks
    share one raise; the last to leave restores the thresholds it found)."""
    global _depth, _saved
    if _depth == 0:
        _saved = gc.get_threshold()
        if _saved[0] and _saved[0] < TICK_THRESHOLD:  # 0: collection is off; already higher: keep it
            gc.set_threshold(TICK_THRESHOLD, _saved[1], _saved[2])
    _depth += 1
    try:
        yield
    finally:
        _depth -= 1
        if _depth == 0 and _saved is not None:
            gc.set_threshold(*_saved)
            _saved = None
