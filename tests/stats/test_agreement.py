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


def test_fleiss_kappa_by_hand() -> None:
    from harness.stats.agreement import fleiss_kappa

    items = [["w", "w", "w"], ["w", "w", "l"], ["l", "l", "t"], ["t", "t", "t"]]
    # per item agreement: 1, 1/3, 1/3, 1 -> mean 2/3; label shares w 5/12, l 3/12, t 4/12 ->
    # chance 50/144; kappa = (2/3 - 25/72) / (1 - 25/72) = 23/47
    assert fleiss_kappa(items) == pytest.approx(23 / 47)


def test_fleiss_kappa_reproduces_fleiss_1971() -> None:
    from harness.stats.agreement import fleiss_kappa

    # The worked example of Fleiss (1971): 10 subjects, 14 raters, 5 categories; kappa = 0.210.
    table = [
        [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
        [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
    ]
    items = [[str(category) for category, count in enumerate(row) for _ in range(count)] for row in table]
    assert fleiss_kappa(items) == pytest.approx(0.210, abs=5e-4)


def test_fleiss_kappa_edges() -> None:
    from harness.stats.agreement import fleiss_kappa

    assert fleiss_kappa([]) is None
    assert fleiss_kappa([["a", "a"], ["a", "a"]]) is None
    assert fleiss_kappa([["a", "b"], ["b", "a"]]) == pytest.approx(-1.0)  # two raters always disagree
    with pytest.raises(ValueError):
        fleiss_kappa([["a", "b"], ["a"]])
    with pytest.raises(ValueError):
        fleiss_kappa([["a"]])
