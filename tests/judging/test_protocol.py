"""How the two orders combine into an item outcome, and the soft preference per order."""

from __future__ import annotations

import pytest

from harness.judging.pairwise import candidate_probability, combine


@pytest.mark.parametrize(
    ("first", "second", "outcome", "inconsistent"),
    [
        ("candidate", "candidate", "win", False),
        ("baseline", "baseline", "loss", False),
        ("candidate", "baseline", "tie", True),
        ("baseline", "candidate", "tie", True),
        ("tie", "tie", "tie", False),
        ("candidate", "tie", "tie", False),
        ("tie", "baseline", "tie", False),
        (None, "candidate", "invalid", False),
        ("baseline", None, "invalid", False),
    ],
)
def test_combine(first: str | None, second: str | None, outcome: str, inconsistent: bool) -> None:
    assert combine(first, second) == (outcome, inconsistent)  # type: ignore[arg-type]


def test_candidate_probability_follows_the_slot() -> None:
    assert candidate_probability(1, 0.8) == pytest.approx(0.8)  # candidate is answer A in order 1
    assert candidate_probability(2, 0.8) == pytest.approx(0.2)  # and answer B in order 2
    assert candidate_probability(2, None) is None
