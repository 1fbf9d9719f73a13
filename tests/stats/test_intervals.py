"""Wilson interval and standard error against hand-computed and published values."""

from __future__ import annotations

import math

import pytest

from harness.stats.intervals import normal_quantile, standard_error, wilson_interval


def test_wilson_eight_of_ten_matches_the_textbook_interval() -> None:
    # Wilson score interval for 8/10 at 95 %: (0.4902, 0.9433), e.g. Newcombe (1998), table I.
    interval = wilson_interval(8, 10)
    assert interval.low == pytest.approx(0.4902, abs=1e-4)
    assert interval.high == pytest.approx(0.9433, abs=1e-4)
    assert interval.confidence == 0.95


def test_wilson_zero_successes_starts_at_zero() -> None:
    # By hand: centre = (z^2/2n)/(1+z^2/n) = half-width, so the interval is (0, 2*centre) = (0, 0.2775).
    interval = wilson_interval(0, 10)
    assert interval.low == pytest.approx(0.0, abs=1e-12)
    assert interval.high == pytest.approx(0.2775, abs=1e-4)


def test_wilson_with_half_credit_for_ties() -> None:
    # 3 wins, 2 ties out of 6: p = 4/6; computed by hand from the Wilson formula with z = 1.959964.
    z = 1.959963984540054
    p, n = 4 / 6, 6
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    interval = wilson_interval(3 + 0.5 * 2, 6)
    assert (interval.low, interval.high) == pytest.approx((centre - half, centre + half))
    assert (interval.low, interval.high) == pytest.approx((0.2999, 0.9032), abs=1e-4)


def test_wilson_rejects_impossible_counts() -> None:
    with pytest.raises(ValueError):
        wilson_interval(3, 0)
    with pytest.raises(ValueError):
        wilson_interval(11, 10)


def test_standard_error_uses_the_sample_standard_deviation() -> None:
    # scores 1, 0, 0.5, 1: mean 0.625, squared deviations sum 0.6875, s^2 = 0.6875/3, SE = s/2
    assert standard_error([1.0, 0.0, 0.5, 1.0]) == pytest.approx(math.sqrt(0.6875 / 3) / 2)
    assert standard_error([1.0, 0.0, 0.5, 1.0]) == pytest.approx(0.239357, abs=1e-6)


def test_standard_error_needs_two_values() -> None:
    assert standard_error([0.5]) is None
    assert standard_error([]) is None


def test_normal_quantile() -> None:
    assert normal_quantile(0.975) == pytest.approx(1.959964, abs=1e-6)
    assert normal_quantile(0.95) == pytest.approx(1.644854, abs=1e-6)
