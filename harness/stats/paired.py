"""Paired comparison of two runs' per-case values: the mean difference and its bootstrap CI.

The pairs (case by case) are resampled together, which is what makes the interval paired: the
bootstrap of the mean of the per-case differences. It reuses `harness.stats.bootstrap`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from harness.stats.bootstrap import DEFAULT_RESAMPLES, DEFAULT_SEED, Interval, bootstrap_mean_ci


@dataclass(frozen=True)
class PairedDelta:
    """new - base over n paired cases, with a two-sided percentile interval."""

    n: int
    base_mean: float
    new_mean: float
    delta: float
    interval: Interval

    @property
    def significant(self) -> bool:
        """The interval excludes zero."""
        return self.interval.low > 0 or self.interval.high < 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "base": self.base_mean,
            "new": self.new_mean,
            "delta": self.delta,
            "ci": self.interval.as_dict(),
            "significant": self.significant,
        }


def paired_bootstrap(
    base: Sequence[float],
    new: Sequence[float],
    confidence: float = 0.95,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
) -> PairedDelta | None:
    """Mean of new - base over aligned pairs with its paired bootstrap CI; None without pairs."""
    if len(base) != len(new):
        raise ValueError("paired values differ in length")
    if not base:
        return None
    base_array = np.asarray(base, dtype=np.float64)
    new_array = np.asarray(new, dtype=np.float64)
    differences = new_array - base_array
    interval = bootstrap_mean_ci(differences, confidence, resamples, seed)
    return PairedDelta(len(base), float(base_array.mean()), float(new_array.mean()), float(differences.mean()), interval)
