"""Exact McNemar test for paired pass/fail outcomes (the same cases, before and after).

Only discordant pairs carry information: b cases went pass -> fail, c went fail -> pass.
Under the null hypothesis (no change) each discordant pair is a fair coin, so b ~ Binomial(b + c, 1/2).
The exact two-sided p-value doubles the smaller tail (capped at 1), as in McNemar's exact test;
no library in our dependencies provides it, and it is three lines of integer arithmetic.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class McNemarResult:
    """Discordant counts and the exact two-sided p-value."""

    regressions: int  # b: pass -> fail
    improvements: int  # c: fail -> pass
    p_value: float

    def as_dict(self) -> dict[str, float | int]:
        return {"regressions": self.regressions, "improvements": self.improvements, "p_value": self.p_value}


def binomial_tail(k: int, n: int) -> float:
    """P(X <= k) for X ~ Binomial(n, 1/2), exactly (integer sums, one division)."""
    if k < 0:
        return 0.0
    favourable: int = sum(math.comb(n, i) for i in range(min(k, n) + 1))
    return favourable / (1 << n)


def smallest_significant_regressions(improvements: int, alpha: float, limit: int = 100_000) -> int | None:
    """The fewest pass -> fail flips that McNemar would call a significant regression at `alpha`,
    given `improvements` fail -> pass flips (None past `limit`). With none, 2 * 0.5**b < alpha."""
    for regressions in range(improvements + 1, limit + 1):
        if mcnemar_exact(regressions, improvements).p_value < alpha:
            return regressions
    return None


def mcnemar_exact(regressions: int, improvements: int) -> McNemarResult:
    """Exact two-sided McNemar test from the discordant counts b (regressions) and c (improvements)."""
    if regressions < 0 or improvements < 0:
        raise ValueError("discordant counts must be non-negative")
    n = regressions + improvements
    if n == 0:
        return McNemarResult(regressions, improvements, 1.0)
    p = min(1.0, 2.0 * binomial_tail(min(regressions, improvements), n))
    return McNemarResult(regressions, improvements, p)
