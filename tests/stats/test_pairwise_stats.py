"""The prompt-level bootstrap against a brute-force loop, and the pairwise diagnostics."""

from __future__ import annotations

import numpy as np
import pytest

from harness.stats.pairwise import (
    cluster_bootstrap_mean,
    cluster_codes,
    estimate_mean,
    first_slot_rate,
    length_split,
)

VALUES = [1.0, 0.0, 0.5, 1.0, 0.0]
CLUSTERS = ["a", "a", "b", "c", "d"]  # case "a" was sampled twice (--repeat 2)


def brute_force(values: list[float], clusters: list[str], resamples: int, seed: int) -> list[float]:
    """The same resampling, one resample and one cluster at a time in plain Python."""
    labels = sorted(set(clusters))
    rng = np.random.default_rng(seed)
    drawn = rng.integers(0, len(labels), size=(resamples, len(labels)))
    out = []
    for row in drawn:
        total = 0.0
        count = 0
        for code in row:
            members = [v for v, c in zip(values, clusters, strict=True) if c == labels[code]]
            total += sum(members)
            count += len(members)
        out.append(total / count)
    return out


def test_cluster_bootstrap_matches_a_brute_force_loop() -> None:
    codes = cluster_codes(CLUSTERS)
    assert codes.tolist() == [0, 0, 1, 2, 3]
    vectorized = cluster_bootstrap_mean(VALUES, codes, resamples=300, seed=11)
    assert vectorized.tolist() == pytest.approx(brute_force(VALUES, CLUSTERS, 300, 11))


def test_one_item_per_cluster_matches_the_brute_force_loop_too() -> None:
    clusters = ["a", "b", "c", "d", "e"]
    vectorized = cluster_bootstrap_mean(VALUES, cluster_codes(clusters), resamples=300, seed=2)
    assert vectorized.tolist() == pytest.approx(brute_force(VALUES, clusters, 300, 2))


def test_estimate_mean_intervals_are_the_brute_force_quantiles() -> None:
    estimate = estimate_mean(VALUES, CLUSTERS, confidence=0.95, resamples=2000, seed=5)
    assert estimate is not None
    reference = np.asarray(brute_force(VALUES, CLUSTERS, 2000, 5))
    assert estimate.n == 5
    assert estimate.mean == pytest.approx(2.5 / 5)
    assert estimate.interval.low == pytest.approx(np.quantile(reference, 0.025))
    assert estimate.interval.high == pytest.approx(np.quantile(reference, 0.975))
    assert estimate.lower_bound == pytest.approx(np.quantile(reference, 0.05))
    assert estimate.lower_bound >= estimate.interval.low


def test_fixed_seed_is_reproducible_and_seeds_differ() -> None:
    first = estimate_mean(VALUES, CLUSTERS, seed=3)
    again = estimate_mean(VALUES, CLUSTERS, seed=3)
    other = cluster_bootstrap_mean(VALUES, cluster_codes(CLUSTERS), seed=4)
    assert first == again
    assert not np.array_equal(cluster_bootstrap_mean(VALUES, cluster_codes(CLUSTERS), seed=3), other)


def test_bootstrap_interval_agrees_with_the_normal_approximation_on_a_large_sample() -> None:
    rng = np.random.default_rng(0)
    scores = rng.choice([0.0, 0.5, 1.0], size=600, p=[0.3, 0.2, 0.5])
    estimate = estimate_mean(scores, None, resamples=4000, seed=1)
    assert estimate is not None and estimate.se is not None
    width = estimate.interval.high - estimate.interval.low
    assert width == pytest.approx(2 * 1.959964 * estimate.se, rel=0.1)


def test_no_values_gives_no_estimate() -> None:
    assert estimate_mean([], []) is None


def test_single_value_gives_a_zero_width_interval() -> None:
    estimate = estimate_mean([1.0], ["x"])
    assert estimate is not None
    assert (estimate.interval.low, estimate.interval.high, estimate.se) == (1.0, 1.0, None)


def test_first_slot_rate() -> None:
    assert first_slot_rate([True, True, False, True]) == 0.75
    assert first_slot_rate([]) is None


def test_length_split_groups_by_the_longer_answer() -> None:
    split = length_split([1.0, 0.0, 0.5, 1.0], [10, 3, 5, 8], [4, 9, 5, 2])
    assert split["candidate_longer"] == {"n": 2, "win_rate": 1.0}
    assert split["baseline_longer"] == {"n": 1, "win_rate": 0.0}
    assert split["equal_length"] == {"n": 1, "win_rate": 0.5}
