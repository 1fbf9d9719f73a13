"""Resample counts: how often each row is drawn, the basis of matrix-product bootstraps."""

from __future__ import annotations

import numpy as np

from harness.stats.bootstrap import bootstrap_distribution, resample_counts


def test_resample_counts_by_hand() -> None:
    indices = np.array([[0, 0, 2], [1, 2, 2], [1, 1, 1]])
    assert resample_counts(indices, 3).tolist() == [[2, 0, 1], [0, 1, 2], [0, 3, 0]]


def test_counts_times_values_is_the_resampled_sum() -> None:
    values = np.array([[1.0, 10.0], [2.0, 20.0], [4.0, 40.0], [8.0, 80.0]])
    direct = bootstrap_distribution(4, lambda idx: values[idx, 0].sum(axis=1), resamples=50, seed=3)
    as_matrix = bootstrap_distribution(4, lambda idx: resample_counts(idx, 4) @ values, resamples=50, seed=3)
    assert as_matrix.shape == (50, 2)
    assert np.array_equal(as_matrix[:, 0], direct)
    assert np.array_equal(as_matrix[:, 1], direct * 10)
