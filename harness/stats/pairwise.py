"""Estimates for judged comparisons: prompt-level bootstrap of a mean, position bias, length split.

Everything takes plain arrays. "Clusters" are the resampling unit: a pairwise item's two
judge orders are already one score, and when a case was sampled several times (--repeat)
its items share a cluster so the bootstrap resamples prompts, not samples of one prompt.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from harness.stats.bootstrap import (
    DEFAULT_RESAMPLES,
    DEFAULT_SEED,
    Interval,
    bootstrap_distribution,
    lower_bound,
    percentile_interval,
)
from harness.stats.intervals import standard_error


def cluster_codes(clusters: Sequence[Any]) -> NDArray[np.intp]:
    """Cluster labels as integer codes 0..k-1; only which values share a label matters."""
    _, codes = np.unique(np.asarray([str(c) for c in clusters]), return_inverse=True)
    return np.asarray(codes, dtype=np.intp)


def cluster_bootstrap_mean(
    values: ArrayLike,
    codes: NDArray[np.intp],
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
) -> NDArray[np.float64]:
    """Bootstrap distribution of the mean of `values`, resampling whole clusters with replacement.

    Each resample's statistic is sum(values in drawn clusters) / count(values in drawn clusters),
    so with one value per cluster it is the plain mean of the drawn values.
    """
    array = np.asarray(values, dtype=np.float64)
    if array.shape != codes.shape:
        raise ValueError("values and cluster codes differ in length")
    k = int(codes.max()) + 1
    sums = np.bincount(codes, weights=array, minlength=k)
    counts = np.bincount(codes, minlength=k).astype(np.float64)

    def statistic(indices: NDArray[np.intp]) -> NDArray[np.float64]:
        result: NDArray[np.float64] = sums[indices].sum(axis=1) / counts[indices].sum(axis=1)
        return result

    def one_per_cluster(indices: NDArray[np.intp]) -> NDArray[np.float64]:
        result: NDArray[np.float64] = sums[indices].mean(axis=1)
        return result

    if np.all(counts == 1):  # the usual case (no --repeat): skip the second gather
        return bootstrap_distribution(k, one_per_cluster, resamples, seed)

    return bootstrap_distribution(k, statistic, resamples, seed)


@dataclass(frozen=True)
class MeanEstimate:
    """A mean with its standard error, two-sided bootstrap CI and one-sided lower bound."""

    n: int
    mean: float
    se: float | None
    interval: Interval
    lower_bound: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "mean": self.mean,
            "se": self.se,
            "ci": self.interval.as_dict(),
            "lower_bound": self.lower_bound,
        }


def estimate_mean(
    values: ArrayLike,
    clusters: Sequence[Any] | None = None,
    confidence: float = 0.95,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
) -> MeanEstimate | None:
    """Mean, SE (ddof=1 over the values) and prompt-level bootstrap bounds; None for no values."""
    array = np.asarray(values, dtype=np.float64)
    if array.size == 0:
        return None
    codes = cluster_codes(clusters) if clusters is not None else np.arange(array.size, dtype=np.intp)
    distribution = cluster_bootstrap_mean(array, codes, resamples, seed)
    return MeanEstimate(
        n=int(array.size),
        mean=float(array.mean()),
        se=standard_error(array),
        interval=percentile_interval(distribution, confidence),
        lower_bound=lower_bound(distribution, confidence),
    )


def first_slot_rate(picked_first: ArrayLike) -> float | None:
    """Position bias: the share of decisive single-order verdicts that chose the first answer.

    0.5 is no preference for a position; None without decisive verdicts.
    """
    array = np.asarray(picked_first, dtype=bool)
    return float(array.mean()) if array.size else None


def length_split(
    scores: ArrayLike, candidate_lengths: ArrayLike, baseline_lengths: ArrayLike
) -> dict[str, dict[str, float | int | None]]:
    """Win rate split by which answer was longer: candidate, baseline, or equal length."""
    score = np.asarray(scores, dtype=np.float64)
    candidate = np.asarray(candidate_lengths)
    baseline = np.asarray(baseline_lengths)
    groups = {
        "candidate_longer": candidate > baseline,
        "baseline_longer": candidate < baseline,
        "equal_length": candidate == baseline,
    }
    split: dict[str, dict[str, float | int | None]] = {}
    for name, mask in groups.items():
        count = int(mask.sum())
        split[name] = {"n": count, "win_rate": float(score[mask].mean()) if count else None}
    return split
