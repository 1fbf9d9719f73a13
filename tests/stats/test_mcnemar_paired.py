"""Exact McNemar and the paired bootstrap against values computed by hand."""

from __future__ import annotations

import pytest

from harness.stats.mcnemar import binomial_tail, mcnemar_exact
from harness.stats.paired import paired_bootstrap


@pytest.mark.parametrize(
    ("b", "c", "p"),
    [
        (5, 0, 2 / 32),  # 2 * P(X <= 0), X ~ Bin(5, 1/2)
        (0, 5, 2 / 32),
        (10, 2, 2 * (1 + 12 + 66) / 4096),  # 2 * P(X <= 2), X ~ Bin(12, 1/2) = 158/4096
        (6, 1, 2 * (1 + 7) / 128),  # 16/128 = 0.125
        (3, 3, 1.0),  # 2 * 42/64 > 1, capped
        (0, 0, 1.0),
        (1, 0, 1.0),  # 2 * 1/2
    ],
)
def test_exact_mcnemar(b: int, c: int, p: float) -> None:
    result = mcnemar_exact(b, c)
    assert (result.regressions, result.improvements) == (b, c)
    assert result.p_value == pytest.approx(p, rel=1e-12)


def test_binomial_tail() -> None:
    assert binomial_tail(2, 4) == pytest.approx(11 / 16)
    assert binomial_tail(-1, 4) == 0.0
    assert binomial_tail(9, 4) == 1.0
    with pytest.raises(ValueError):
        mcnemar_exact(-1, 2)


def test_paired_bootstrap_of_constant_differences_is_exact() -> None:
    base = [0.1, 0.5, 0.9, 0.3, 0.7]
    new = [value + 0.01 for value in base]
    delta = paired_bootstrap(base, new)
    assert delta is not None
    assert delta.delta == pytest.approx(0.01)
    # every resample of identical differences has mean 0.01: pairing removes the case-to-case spread
    assert delta.interval.low == pytest.approx(0.01) and delta.interval.high == pytest.approx(0.01)
    assert delta.significant and delta.base_mean == pytest.approx(0.5) and delta.new_mean == pytest.approx(0.51)


def test_paired_bootstrap_of_two_pairs() -> None:
    # differences (0, 1): resample means are 0, 0.5, 1 with probabilities 1/4, 1/2, 1/4, so the
    # 2.5 % and 97.5 % quantiles of 2000 resamples are 0 and 1.
    delta = paired_bootstrap([0.0, 0.0], [0.0, 1.0])
    assert delta is not None
    assert (delta.delta, delta.interval.low, delta.interval.high) == (0.5, 0.0, 1.0)
    assert not delta.significant


def test_paired_bootstrap_edges() -> None:
    assert paired_bootstrap([], []) is None
    with pytest.raises(ValueError):
        paired_bootstrap([1.0], [1.0, 2.0])
    seeded = [paired_bootstrap([0, 1, 0, 1, 1], [1, 1, 0, 0, 1], seed=7) for _ in range(2)]
    assert seeded[0] == seeded[1]
