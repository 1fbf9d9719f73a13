"""Bounds valid at every n: exact binomial for counts, Hoeffding–Bentkus for bounded means."""

from __future__ import annotations

import math

import pytest

from harness.stats.bounds import (
    best_lower_bound,
    clopper_pearson_lower,
    clopper_pearson_upper,
    hoeffding_bentkus_lower,
    mean_bounds,
    proportion_bounds,
    units_needed,
)
from harness.stats.coverage import simulate


def binomial_tail_at_least(k: int, n: int, p: float) -> float:
    """P(X >= k) for X ~ Binomial(n, p), summed term by term."""
    return sum(math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(k, n + 1))


def test_eight_of_eight_is_below_seventy_percent() -> None:
    # The exact one-sided bound of n of n solves p^n = 0.05.
    assert clopper_pearson_lower(8, 8) == pytest.approx(0.05 ** (1 / 8))
    assert round(clopper_pearson_lower(8, 8), 3) == 0.688
    assert clopper_pearson_upper(8, 8) == 1.0


def test_eighty_of_a_hundred_is_above_seventy_percent() -> None:
    lower = clopper_pearson_lower(80, 100)
    assert round(lower, 3) == 0.723
    assert binomial_tail_at_least(80, 100, lower) == pytest.approx(0.05, abs=1e-9)
    upper = clopper_pearson_upper(80, 100)
    assert 1 - binomial_tail_at_least(81, 100, upper) == pytest.approx(0.05, abs=1e-9)


def test_all_ties_never_give_a_zero_width_interval() -> None:
    for n in (5, 8, 30, 200):
        bounds = mean_bounds([0.5] * n)
        assert bounds is not None and bounds.method == "hoeffding-bentkus"
        assert bounds.interval.low < bounds.lower < 0.5 < bounds.upper < bounds.interval.high
        assert bounds.lower == pytest.approx(1 - bounds.upper)  # symmetric around one half


def test_hoeffding_bentkus_bound_solves_its_defining_equation() -> None:
    # Eight ties: mean 0.5. At the bound m, min(exp(-n KL(0.5 || m)), e P(Bin(8, m) >= 4)) = 0.05.
    m = hoeffding_bentkus_lower(0.5, 8)
    kl = 0.5 * math.log(0.5 / m) + 0.5 * math.log(0.5 / (1 - m))
    hoeffding = math.exp(-8 * kl)
    bentkus = math.e * binomial_tail_at_least(4, 8, m)
    assert min(hoeffding, bentkus) == pytest.approx(0.05, rel=1e-6)
    # 70 wins, 20 ties, 10 losses of 100: mean 0.8, floor(100 * 0.8) = 80
    m = hoeffding_bentkus_lower(0.8, 100)
    kl = 0.8 * math.log(0.8 / m) + 0.2 * math.log(0.2 / (1 - m))
    assert min(math.exp(-100 * kl), math.e * binomial_tail_at_least(80, 100, m)) == pytest.approx(0.05, rel=1e-6)


def test_counts_take_the_exact_bound_and_means_the_bounded_one() -> None:
    counts = mean_bounds([1.0] * 80 + [0.0] * 20)
    assert counts is not None and counts.method == "clopper-pearson"
    assert counts.lower == pytest.approx(clopper_pearson_lower(80, 100))
    with_ties = mean_bounds([1.0] * 70 + [0.5] * 20 + [0.0] * 10)
    assert with_ties is not None and with_ties.method == "hoeffding-bentkus"
    assert with_ties.lower == pytest.approx(hoeffding_bentkus_lower(0.8, 100))
    assert with_ties.lower < counts.lower  # a bound for any [0, 1] variable is the more cautious one


def test_a_scale_is_rescaled_and_repeats_count_once() -> None:
    grades = mean_bounds([7, 9, 8, 10], low=1, high=10)
    unit = mean_bounds([(v - 1) / 9 for v in (7, 9, 8, 10)])
    assert grades is not None and unit is not None
    assert grades.lower == pytest.approx(1 + 9 * unit.lower)
    assert grades.upper == pytest.approx(1 + 9 * unit.upper)
    # two cases with two repeats each: the unit is the case (n=2), its value the mean of its repeats
    repeated = mean_bounds([1, 0, 1, 1], clusters=["a", "a", "b", "b"])
    assert repeated is not None and repeated.n == 2 and repeated.mean == 0.75
    assert repeated.lower == pytest.approx(hoeffding_bentkus_lower(0.75, 2))


def test_proportion_interval_is_two_sided_at_the_same_level() -> None:
    bounds = proportion_bounds(9, 10)
    assert bounds.interval.low == pytest.approx(clopper_pearson_lower(9, 10, 0.975))
    assert bounds.interval.high == pytest.approx(clopper_pearson_upper(9, 10, 0.975))
    assert bounds.interval.confidence == 0.95


def test_items_needed_for_a_threshold() -> None:
    assert best_lower_bound(8) == pytest.approx(0.688, abs=5e-4)
    assert units_needed(0.7) == 9  # 0.05 ** (1/9) = 0.717
    assert units_needed(0.9) == 29
    assert best_lower_bound(28) < 0.9 <= best_lower_bound(29)
    assert units_needed(1.0) is None
    assert units_needed(0.0) == 1


def test_coverage_on_a_reduced_grid() -> None:
    """The bench's simulation (bench/bound_coverage.py) on fewer cells: no cell below 94 %."""
    cells = simulate([5, 8, 20, 60], [0.05, 0.3, 0.5, 0.8, 0.95], [0.0, 0.2, 0.4], runs=2000, seed=7)
    assert len(cells) == 4 * (5 + 3 + 3)  # infeasible rate / tie pairs are skipped
    worst = min(min(c.lower_coverage, c.upper_coverage) for c in cells)
    assert worst >= 0.94, [c for c in cells if min(c.lower_coverage, c.upper_coverage) < 0.94]
