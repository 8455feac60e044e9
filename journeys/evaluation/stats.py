"""Small-sample statistics for the Success Case evaluation, pure and dependency-free.

Cohorts are small (tens of people), so normal approximations overclaim: a rate gets a Wilson
score interval, a difference between two groups gets Newcombe's hybrid score interval (method 10
of Newcombe 1998, built from the two Wilson intervals) and Fisher's exact test. These three are
a few lines each with the standard library; SciPy would add a large binary dependency for them.
Tests pin them to published values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

Z95 = 1.959964


def wilson_bounds(count: int, total: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of count/total (total > 0); exact 0 and 1 at the edges."""
    if total <= 0 or count < 0 or count > total:
        raise ValueError(f"invalid proportion {count}/{total}")
    p = count / total
    z2 = z * z
    denom = 1 + z2 / total
    centre = (p + z2 / (2 * total)) / denom
    half = z / denom * math.sqrt(p * (1 - p) / total + z2 / (4 * total * total))
    low = 0.0 if count == 0 else max(0.0, centre - half)
    high = 1.0 if count == total else min(1.0, centre + half)
    return low, high


def fisher_exact(a: int, b: int, c: int, d: int) -> float:
    """Two-sided p-value of Fisher's exact test for the 2x2 table [[a, b], [c, d]].

    Sums the probabilities of every table with the same margins that is no more likely than the
    observed one (with the usual relative tolerance, so ties in floating point count as equal).
    """
    if min(a, b, c, d) < 0:
        raise ValueError("a 2x2 table needs counts >= 0")
    row1, col1, n = a + b, a + c, a + b + c + d
    if n == 0:
        return 1.0
    lo, hi = max(0, col1 - (n - row1)), min(row1, col1)
    denom = math.comb(n, col1)

    def prob(x: int) -> float:
        return math.comb(row1, x) * math.comb(n - row1, col1 - x) / denom

    observed = prob(a)
    p = sum(q for q in (prob(x) for x in range(lo, hi + 1)) if q <= observed * (1 + 1e-7))
    return min(1.0, p)


def mcnemar_exact(b: int, c: int) -> float:
    """Two-sided p-value of the exact McNemar test: the same people asked twice, `b` changed one
    way and `c` the other (a binomial test of b against b + c at one half)."""
    if min(b, c) < 0:
        raise ValueError("counts must be >= 0")
    n = b + c
    if n == 0:
        return 1.0
    tail: float = sum(math.comb(n, k) for k in range(min(b, c) + 1)) / 2.0 ** n
    return min(1.0, 2 * tail)


@dataclass(frozen=True)
class Difference:
    """p1 - p2 with its 95% interval and Fisher's exact p-value."""

    value: float
    low: float
    high: float
    p_value: float

    @property
    def distinguishable(self) -> bool:
        """The interval excludes "no difference"."""
        return self.low > 0 or self.high < 0


def difference(x1: int, n1: int, x2: int, n2: int, z: float = Z95) -> Difference:
    """x1/n1 - x2/n2 with Newcombe's hybrid score interval (method 10) and Fisher's exact test."""
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = wilson_bounds(x1, n1, z)
    l2, u2 = wilson_bounds(x2, n2, z)
    d = p1 - p2
    low = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return Difference(d, max(-1.0, low), min(1.0, high), fisher_exact(x1, n1 - x1, x2, n2 - x2))


def compare_to(low: float, high: float, reference: float) -> str:
    """"above", "below" or "not distinguishable": where an interval lies against a fixed figure."""
    if low > reference:
        return "above"
    if high < reference:
        return "below"
    return "not distinguishable"
