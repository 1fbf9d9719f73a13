"""Agreement between two raters over categorical labels: raw agreement and Cohen's kappa."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def agreement_rate(first: Sequence[str], second: Sequence[str], ignore: str | None = None) -> tuple[int, float | None]:
    """(n, share of equal labels). With `ignore`, pairs where either rater gave that label are dropped
    (MT-Bench's "without ties" agreement)."""
    if len(first) != len(second):
        raise ValueError("the two raters labelled different numbers of items")
    pairs = [(a, b) for a, b in zip(first, second, strict=True) if ignore is None or (a != ignore and b != ignore)]
    if not pairs:
        return 0, None
    return len(pairs), sum(a == b for a, b in pairs) / len(pairs)


def cohens_kappa(first: Sequence[str], second: Sequence[str]) -> float | None:
    """Cohen's kappa: (observed - chance agreement) / (1 - chance agreement).

    None when undefined (no items, or both raters used a single identical label throughout).
    """
    if len(first) != len(second):
        raise ValueError("the two raters labelled different numbers of items")
    if not first:
        return None
    labels = sorted(set(first) | set(second))
    index = {label: i for i, label in enumerate(labels)}
    table = np.zeros((len(labels), len(labels)), dtype=np.float64)
    for a, b in zip(first, second, strict=True):
        table[index[a], index[b]] += 1
    table /= table.sum()
    observed = float(np.trace(table))
    chance = float(table.sum(axis=1) @ table.sum(axis=0))
    if chance >= 1.0:
        return None
    return (observed - chance) / (1.0 - chance)
