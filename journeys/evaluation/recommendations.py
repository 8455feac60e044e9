"""The report's "What to change" section, drafted from the evidence, for the L&D lead to edit.

The Success Case Method does not stop at a rate: its point is to say what in the performance system
helped or got in the way, and who can change it. The draft therefore names, each with the count it
rests on:

* the most frequent barriers (survey, declined and expired support requests, interview notes), each
  with who can remove it (journeys/evaluation/barriers.py);
* the support requests managers let expire or declined, with the reasons they gave;
* the manager-support behaviours: those that made a difference one can tell (from this cohort, or
  pooled over the journey's cohorts when one is too small), and how many people went without them;
* what the interviews heard.

Pure: an `Evaluation` (and an optional pooled comparison) in, lines out. The stored, edited text
replaces the draft where it is shown (bot/services/recommendations.py).
"""

from __future__ import annotations

from journeys.definition import CANT_LABELS
from journeys.evaluation.barriers import NO_MANAGER_SUPPORT, BarrierCount, barrier_sources
from journeys.evaluation.plain_words import FACTOR_WORDS, Pooled, pooled_basis
from journeys.evaluation.success_case import FACTOR_EXPECTATIONS, Evaluation, Factor
from journeys.text import clean, typed

TOP_BARRIERS = 3
HEADING = "What to change"
NOTHING_YET = ("Nothing to recommend from the evidence yet: no barrier, declined or expired support request "
               "and no manager-support difference has been recorded.")


def _s(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else (plural or word + 's')}"


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{round(x * 100)}%"


def _barrier(b: BarrierCount) -> str:
    return f"Remove “{b.label}” ({b.total}: {', '.join(barrier_sources(b))}) — {b.owner}."


def _requests(ev: Evaluation) -> str | None:
    support = next((b for b in ev.barrier_counts if b.code == NO_MANAGER_SUPPORT), None)
    declined, expired = (support.declined, support.expired) if support else (0, 0)
    if not declined and not expired:
        return None
    parts = []
    if expired:
        parts.append(f"{_s(expired, 'support request')} expired unanswered")
    if declined:
        why = ", ".join(f"{CANT_LABELS.get(r, r)} {n}" for r, n in ev.manager_cant)
        parts.append(f"{declined} {'was' if declined == 1 else 'were'} declined" + (f" ({why})" if why else ""))
    return (f"Manager requests: {' and '.join(parts)}. Ask managers to answer each request within a working "
            "day, and their own managers to follow up on any left waiting.")


def _factor(f: Factor, basis: str = "") -> str | None:
    d = f.diff
    if d is None or not d.distinguishable:
        return None
    what = FACTOR_WORDS.get(f.name, f.name.lower())
    counts = (f"{_pct(f.with_.value)} reached a result with it ({f.with_.count} of {f.with_.total}) against "
              f"{_pct(f.without.value)} without ({f.without.count} of {f.without.total}){basis}")
    if d.value > 0:
        return f"Make {what} the rule for every participant: {counts}."
    return f"Look into {what}: people who had it did worse, {counts}."


def _factors(ev: Evaluation, pooled: Pooled | None) -> list[str]:
    lines = [line for f in ev.factors if (line := _factor(f))]
    if not lines and pooled is not None:
        basis = f"; {pooled_basis(pooled)}"
        lines = [line for f in pooled.factors if (line := _factor(f, basis))]
    expect = next((f for f in ev.factors if f.name == FACTOR_EXPECTATIONS), None)
    if expect is not None and expect.without.total:
        lines.append(f"Expectations conversations: {expect.without.total} of "
                     f"{expect.with_.total + expect.without.total} people who answered the survey had none with "
                     "their manager before the start; ask managers to hold one before the next cohort.")
    return lines


def _lost(ev: Evaluation) -> str | None:
    lost = ev.lost
    if lost.suppressed or not lost.extra_successes:
        return None
    return (f"Support the unsupported: {lost.non_success_unsupported} of {lost.unsupported} people without "
            f"manager support reached no worthwhile result; at the supported group's rate about "
            f"{_s(lost.extra_successes, 'more success case')} (an association, not proof).")


def _interviews(ev: Evaluation) -> str | None:
    heard = [b for b in ev.barrier_counts if b.interview]
    if not heard:
        return None
    named = "; ".join(f"{b.label} ({b.interview})" for b in sorted(heard, key=lambda b: -b.interview))
    return f"Interviews named: {named}. Ask the people who can remove them (above) what they will change."


def draft(ev: Evaluation, pooled: Pooled | None = None) -> list[str]:
    """The drafted "What to change" lines, most important first; every line cites its count."""
    lines = [_barrier(b) for b in ev.barrier_counts[:TOP_BARRIERS] if b.total]
    lines += [line for line in (_requests(ev), _lost(ev)) if line]
    lines += _factors(ev, pooled)
    interviews = _interviews(ev)
    if interviews:
        lines.append(interviews)
    return lines or [NOTHING_YET]


TEXT_KIND = "recommendations"  # the cohort text the L&D lead's edit is stored under


def edited_lines(text: str) -> list[str]:
    """The L&D lead's stored text as lines (blank lines dropped), each marked typed: a person wrote
    them, so every renderer shows them inert."""
    return [typed(line.strip()) for line in clean(text).split("\n") if line.strip()]
