"""Shared pieces of the judging blocks of summary.json: a mean with its bounds, and per-tag breakdowns."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from harness.stats.bounds import CONFIDENCE, mean_bounds
from harness.stats.pairwise import estimate_mean

Line = dict[str, Any]
Block = Callable[[Sequence[Line]], dict[str, Any]]
# The fields `estimate` adds beside the mean and SE: the bounds gates use (valid at every n,
# harness/stats/bounds.py) and the descriptive prompt-level bootstrap interval.
BOUND_KEYS = ("units", "ci", "lower_bound", "upper_bound", "method", "bootstrap_ci")

__all__ = ["BOUND_KEYS", "CONFIDENCE", "Line", "by_tag", "estimate"]


def by_tag(lines: Sequence[Line], block: Block) -> dict[str, Any]:
    """The block computed over the lines of each tag."""
    tags = sorted({tag for line in lines for tag in line.get("tags", [])})
    return {tag: block([line for line in lines if tag in line.get("tags", [])]) for tag in tags}


def estimate(
    values: Sequence[float], clusters: Sequence[str], resamples: int, seed: int, low: float = 0.0, high: float = 1.0
) -> dict[str, Any]:
    """Mean and SE of values in [low, high]; `ci` (two-sided 95 %), `lower_bound` and `upper_bound`
    (one-sided 95 %) valid at every n, with their `method` and `units` (cases); and `bootstrap_ci`,
    the prompt-level percentile bootstrap, descriptive only. None figures without values."""
    bounds = mean_bounds(values, low, high, clusters, CONFIDENCE)
    found = estimate_mean(values, clusters, CONFIDENCE, resamples, seed)
    if bounds is None or found is None:
        return {"n": 0, "mean": None, "se": None, **dict.fromkeys(BOUND_KEYS), "units": 0}
    return {
        "n": found.n,
        "units": bounds.n,
        "mean": found.mean,
        "se": found.se,
        **bounds.as_dict(),
        "bootstrap_ci": found.interval.as_dict(),
    }
