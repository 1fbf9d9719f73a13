"""Seeded, vectorized nonparametric bootstrap (percentile method).

The resampling unit is whatever the caller's rows are: cases for reference metrics, items
(both judge orders of one prompt together) for pairwise win rates. Statistics receive a
matrix of resampled row indices, shape (resamples, n), so corpus-level scores (BLEU from
summed sufficient statistics) bootstrap as easily as means. Index matrices are produced in
chunks to bound memory at large n.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

DEFAULT_RESAMPLES = 2000
DEFAULT_SEED = 20240521
_CHUNK_CELLS = 4_000_000  # indices per chunk: 32 MB of int64

Statistic = Callable[[NDArray[np.intp]], NDArray[np.float64]]


@dataclass(frozen=True)
class Interval:
    low: float
    high: float
    confidence: float

    def as_dict(self) -> dict[str, float]:
        return {"low": self.low, "high": self.high, "confidence": self.confidence}


def bootstrap_distribution(
    n: int, statistic: Statistic, resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED
) -> NDArray[np.float64]:
    """The statistic over `resamples` resamples of n rows (with replacement)."""
    if n <= 0:
        raise ValueError("cannot bootstrap zero rows")
    rng = np.random.default_rng(seed)
    per_chunk = max(1, _CHUNK_CELLS // n)
    parts = []
    remaining = resamples
    while remaining > 0:
        size = min(per_chunk, remaining)
        indices = rng.integers(0, n, size=(size, n))
        parts.append(np.asarray(statistic(indices), dtype=np.float64))
        remaining -= size
    return np.concatenate(parts)


def resample_counts(indices: NDArray[np.intp], n: int) -> NDArray[np.float64]:
    """How often each of the n rows is drawn in each resample: shape (resamples, n).

    A statistic that is linear in the rows (a sum, a mean, summed sufficient statistics) is then
    one matrix product, `resample_counts(indices, n) @ row_values`, for all resamples at once.
    """
    resamples = indices.shape[0]
    offsets = np.arange(resamples, dtype=np.intp)[:, None] * n
    counts = np.bincount((indices + offsets).ravel(), minlength=resamples * n)
    return counts.reshape(resamples, n).astype(np.float64)


def mean_statistic(values: NDArray[np.float64]) -> Statistic:
    def statistic(indices: NDArray[np.intp]) -> NDArray[np.float64]:
        result: NDArray[np.float64] = values[indices].mean(axis=1)
        return result

    return statistic


def percentile_interval(distribution: NDArray[np.float64], confidence: float = 0.95) -> Interval:
    """Two-sided percentile interval of a bootstrap distribution."""
    alpha = (1.0 - confidence) / 2.0
    low, high = np.quantile(distribution, [alpha, 1.0 - alpha])
    return Interval(float(low), float(high), confidence)


def lower_bound(distribution: NDArray[np.float64], confidence: float = 0.95) -> float:
    """One-sided lower confidence bound: the (1 - confidence) quantile."""
    return float(np.quantile(distribution, 1.0 - confidence))


def bootstrap_mean_ci(
    values: NDArray[np.float64] | list[float],
    confidence: float = 0.95,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
) -> Interval:
    """Percentile CI of the mean of `values`. A single value gives a zero-width interval."""
    array = np.asarray(values, dtype=np.float64)
    distribution = bootstrap_distribution(len(array), mean_statistic(array), resamples, seed)
    return percentile_interval(distribution, confidence)
