"""Closed-form uncertainty for means and proportions: standard error and the Wilson interval."""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
from numpy.typing import ArrayLike

from harness.stats.bootstrap import Interval


def normal_quantile(probability: float) -> float:
    """The standard normal quantile (1.959963... for 0.975)."""
    return NormalDist().inv_cdf(probability)


def standard_error(values: ArrayLike) -> float | None:
    """Sample standard deviation (ddof=1) over sqrt(n); None below two values."""
    array = np.asarray(values, dtype=np.float64)
    if array.size < 2:
        return None
    return float(array.std(ddof=1) / math.sqrt(array.size))


def wilson_interval(successes: float, n: int, confidence: float = 0.95) -> Interval:
    """Wilson score interval for a proportion successes / n.

    `successes` may be fractional (a pairwise tie counts 0.5); the formula then uses the
    observed proportion as is, which is conservative since ties shrink the per-item variance.
    """
    if n <= 0:
        raise ValueError("the Wilson interval needs n >= 1")
    if not 0 <= successes <= n:
        raise ValueError(f"successes ({successes}) must lie between 0 and n ({n})")
    z = normal_quantile(1.0 - (1.0 - confidence) / 2.0)
    p = successes / n
    z2 = z * z
    denominator = 1.0 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half_width = z * math.sqrt(p * (1.0 - p) / n + z2 / (4 * n * n)) / denominator
    return Interval(max(0.0, centre - half_width), min(1.0, centre + half_width), confidence)
