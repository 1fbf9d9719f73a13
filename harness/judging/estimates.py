"""Shared pieces of the judging blocks of summary.json: a mean with its bootstrap bounds, and per-tag breakdowns."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from harness.stats.pairwise import estimate_mean

CONFIDENCE = 0.95
Line = dict[str, Any]
Block = Callable[[Sequence[Line]], dict[str, Any]]


def by_tag(lines: Sequence[Line], block: Block) -> dict[str, Any]:
    """The block computed over the lines of each tag."""
    tags = sorted({tag for line in lines for tag in line.get("tags", [])})
    return {tag: block([line for line in lines if tag in line.get("tags", [])]) for tag in tags}


def estimate(values: Sequence[float], clusters: Sequence[str], resamples: int, seed: int) -> dict[str, Any]:
    """Mean, SE, prompt-level bootstrap interval and one-sided lower bound (None figures without values)."""
    found = estimate_mean(values, clusters, CONFIDENCE, resamples, seed)
    if found is None:
        return {"n": 0, "mean": None, "se": None, "ci": None, "lower_bound": None}
    return found.as_dict()
