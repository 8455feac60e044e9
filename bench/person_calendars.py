"""Per-person calendars (issue 15): what own working hours cost the engine's hot path.

    .venv/bin/python bench/person_calendars.py [--people 5000] [--patterns 50] [--repeats 5]

The engine fires `--people` due prompts (each participant's `why-it-matters`, at an instant that
is open for all of them) through `engine.fire`, the call a scheduler tick makes per due prompt,
in three populations that differ only in the people's calendars (same zones, same prompts):

- journey: nobody has own hours (the calendar the engine used before issue 15);
- patterns: own working days and hours drawn from `--patterns` combinations, as in an
  organisation (a few dozen shift patterns);
- distinct: every person a calendar of their own (the worst case for the calendar caches).

Each population is fired `--repeats` times in one process (caches warm, as in a worker) and the
median time per pass is compared with the journey population's: the ratios printed are
patterns/journey and distinct/journey (lower is better; 1.00 = no cost).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import UTC, date, datetime
from datetime import time as clock
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from journeys import engine
from journeys.loader import default_library_path, load_library
from journeys.state import EnrollmentState, Person, PromptState

START = date(2027, 4, 12)
ZONES = ("Europe/London", "Europe/Berlin", "Europe/Madrid")
FIRE_AT = datetime(2027, 4, 6, 9, 30, tzinfo=UTC)  # Tue 6 Apr, 10:30-11:30 local: open for all


def population(journey, n: int, kind: str, patterns: int, seed: int = 7) -> list[tuple[EnrollmentState, PromptState]]:
    rng = random.Random(seed)
    shapes = []
    for i in range(patterns if kind == "patterns" else n):
        start_min = rng.randrange(7 * 60, 10 * 60, 5) if kind == "patterns" else 7 * 60 + (i % 180)
        end_min = 14 * 60 + (i * 7) % (6 * 60)
        days = (0, 1, 2, 3, 4) if i % 3 else (0, 1, 2, 3)
        shapes.append((days, clock(start_min // 60, start_min % 60), clock(end_min // 60, end_min % 60)))
    out = []
    for i in range(n):
        tz = ZONES[i % len(ZONES)]
        if kind == "journey":
            person = Person(f"p{i}", f"P {i}", tz)
        else:
            days, start, end = shapes[i % len(shapes)]
            person = Person(f"p{i}", f"P {i}", tz, work_days=days, work_start=start, work_end=end)
        e = EnrollmentState(f"e{i}", journey.id, person, Person(f"m{i // 10}", "M", tz), START)
        prompts = engine.schedule_enrollment(journey, e, datetime(2027, 3, 1, tzinfo=UTC)).prompts
        (p,) = [q for q in prompts if q.step_id == "why-it-matters"]
        out.append((e, p.with_(next_at=FIRE_AT, due_at=FIRE_AT)))
    return out


def one_pass(journey, items: list[tuple[EnrollmentState, PromptState]]) -> tuple[float, int]:
    t0 = time.perf_counter()
    sent = 0
    for e, p in items:
        sent += len(engine.fire(journey, e, p, None, FIRE_AT).outgoing)
    return time.perf_counter() - t0, sent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--people", type=int, default=5000)
    ap.add_argument("--patterns", type=int, default=50)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    journey = load_library(default_library_path())["active-listening"]
    pops = {kind: population(journey, args.people, kind, args.patterns) for kind in ("journey", "patterns", "distinct")}
    times: dict[str, list[float]] = {k: [] for k in pops}
    for _ in range(args.repeats):
        for kind, items in pops.items():  # interleaved so background load hits all three
            dt, sent = one_pass(journey, items)
            assert sent == len(items), (kind, sent)  # every prompt really went out
            times[kind].append(dt)
    med = {k: statistics.median(v) for k, v in times.items()}
    for kind in pops:
        print(f"{kind:9s} {args.people / med[kind]:10.0f} prompts/s  (median of {args.repeats} passes, "
              f"{med[kind] * 1000:.0f} ms per pass)")
    print(f"ratio patterns/journey: {med['patterns'] / med['journey']:.2f}")
    print(f"ratio distinct/journey: {med['distinct'] / med['journey']:.2f}")


if __name__ == "__main__":
    main()
