"""Agreement rates and Cohen's kappa against values worked out by hand."""

from __future__ import annotations

import pytest

from harness.stats.agreement import agreement_rate, cohens_kappa

JUDGE = ["c", "c", "b", "t", "c", "b"]
HUMAN = ["c", "b", "b", "t", "c", "c"]


def test_agreement_with_and_without_ties() -> None:
    assert agreement_rate(JUDGE, HUMAN) == (6, pytest.approx(4 / 6))
    # without ties: the (t, t) pair is dropped; 3 of the remaining 5 agree
    assert agreement_rate(JUDGE, HUMAN, ignore="t") == (5, pytest.approx(3 / 5))


def test_cohens_kappa_by_hand() -> None:
    # p_o = 4/6; both raters' marginals are c 3/6, b 2/6, t 1/6, so p_e = 1/4 + 1/9 + 1/36 = 14/36;
    # kappa = (4/6 - 14/36) / (1 - 14/36) = 10/22 = 5/11
    assert cohens_kappa(JUDGE, HUMAN) == pytest.approx(5 / 11)


def test_kappa_perfect_and_undefined() -> None:
    assert cohens_kappa(["a", "b", "a"], ["a", "b", "a"]) == pytest.approx(1.0)
    assert cohens_kappa(["a", "a"], ["a", "a"]) is None
    assert cohens_kappa([], []) is None
    assert agreement_rate(["t"], ["t"], ignore="t") == (0, None)


def test_mismatched_lengths_are_refused() -> None:
    with pytest.raises(ValueError):
        cohens_kappa(["a"], ["a", "b"])
