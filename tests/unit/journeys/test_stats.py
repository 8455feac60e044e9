"""Small-sample statistics against published values.

Wilson and Newcombe: R. G. Newcombe, "Two-sided confidence intervals for the single proportion"
and "Interval estimation for the difference between independent proportions", Statistics in
Medicine 17 (1998), the worked examples of tables I and II (method 3 and method 10).
Fisher: R. A. Fisher's tea-tasting table (p = 0.4857), and the 2x2 example of SciPy's
`fisher_exact` documentation ([[1, 9], [11, 3]], p = 0.002759).
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from journeys.evaluation.stats import compare_to, difference, fisher_exact, wilson_bounds


@pytest.mark.parametrize(("count", "total", "low", "high"), [
    (81, 263, 0.2553, 0.3662),
    (15, 148, 0.0624, 0.1605),
    (0, 20, 0.0, 0.1611),
    (1, 29, 0.0061, 0.1718),
])
def test_wilson_matches_newcombe_1998(count: int, total: int, low: float, high: float) -> None:
    assert wilson_bounds(count, total) == pytest.approx((low, high), abs=5e-5)


@pytest.mark.parametrize(("x1", "n1", "x2", "n2", "low", "high"), [
    (56, 70, 48, 80, 0.0524, 0.3339),
    (9, 10, 3, 10, 0.1705, 0.8090),
    (6, 7, 2, 7, 0.0582, 0.8062),
    (5, 56, 0, 29, -0.0381, 0.1926),
])
def test_difference_interval_matches_newcombe_method_10(x1: int, n1: int, x2: int, n2: int,
                                                        low: float, high: float) -> None:
    d = difference(x1, n1, x2, n2)
    assert (d.low, d.high) == pytest.approx((low, high), abs=5e-5)
    assert d.value == pytest.approx(x1 / n1 - x2 / n2)


@pytest.mark.parametrize(("table", "p"), [
    ((3, 1, 1, 3), 0.4857),  # the lady tasting tea
    ((1, 9, 11, 3), 0.002759),
    ((4, 1, 1, 4), 0.2063),  # "4 of 5 vs 1 of 5": not a difference to report
    ((5, 0, 0, 5), 0.007937),
    ((0, 0, 0, 0), 1.0),
])
def test_fisher_exact_two_sided(table: tuple[int, int, int, int], p: float) -> None:
    assert fisher_exact(*table) == pytest.approx(p, rel=1e-3)


def test_four_of_five_vs_one_of_five_is_not_distinguishable() -> None:
    d = difference(4, 5, 1, 5)
    assert d.low < 0 < d.high and not d.distinguishable
    assert d.p_value == pytest.approx(0.2063, abs=1e-4)


@pytest.mark.parametrize(("low", "high", "verdict"), [
    (0.12, 0.77, "not distinguishable"), (0.35, 0.8, "above"), (0.02, 0.15, "below"),
])
def test_compare_an_interval_to_a_baseline(low: float, high: float, verdict: str) -> None:
    assert compare_to(low, high, 0.2) == verdict


@given(st.integers(1, 40), st.integers(1, 40), st.data())
def test_difference_interval_holds_the_estimate_and_stays_in_bounds(n1: int, n2: int,
                                                                   data: st.DataObject) -> None:
    x1, x2 = data.draw(st.integers(0, n1)), data.draw(st.integers(0, n2))
    d = difference(x1, n1, x2, n2)
    assert -1.0 <= d.low <= d.value <= d.high <= 1.0
    assert 0.0 < d.p_value <= 1.0
    assert fisher_exact(x1, n1 - x1, x2, n2 - x2) == pytest.approx(
        fisher_exact(x2, n2 - x2, x1, n1 - x1))  # symmetric in the groups


def test_exact_mcnemar_against_published_values() -> None:
    """Exact (binomial) McNemar p-values: 6 vs 1 discordant pairs gives 0.125, 10 vs 2 gives
    0.0386 (the exact test's textbook values); no discordant pair, or one, is no evidence."""
    from journeys.evaluation.stats import mcnemar_exact

    assert mcnemar_exact(6, 1) == pytest.approx(0.125)
    assert mcnemar_exact(1, 6) == pytest.approx(0.125)
    assert mcnemar_exact(10, 2) == pytest.approx(0.03857, abs=1e-5)
    assert mcnemar_exact(0, 0) == 1.0 and mcnemar_exact(1, 0) == 1.0
    with pytest.raises(ValueError):
        mcnemar_exact(-1, 2)
