"""Agreement between raters over categorical labels: raw agreement, Cohen's kappa (two raters), Fleiss' kappa (several)."""

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


def fleiss_kappa(items: Sequence[Sequence[str]]) -> float | None:
    """Fleiss' kappa for several raters: (mean observed pair agreement - chance) / (1 - chance).

    Each item holds the labels its raters gave; every item needs the same number of raters
    (at least two). Chance agreement is the sum of squared overall label shares. None when
    undefined (no items, or every rating is the same label). Written out here because the
    formula is a few lines of numpy and the library that has it (statsmodels) is a heavy
    dependency for one function.
    """
    if not items:
        return None
    raters = len(items[0])
    if raters < 2:
        raise ValueError("Fleiss' kappa needs at least two raters per item")
    if any(len(item) != raters for item in items):
        raise ValueError("every item needs the same number of raters")
    labels = sorted({label for item in items for label in item})
    index = {label: i for i, label in enumerate(labels)}
    counts = np.zeros((len(items), len(labels)), dtype=np.float64)
    for row, item in enumerate(items):
        for label in item:
            counts[row, index[label]] += 1
    shares = counts.sum(axis=0) / (len(items) * raters)
    chance = float(shares @ shares)
    if chance >= 1.0:
        return None
    observed = float(((counts * counts).sum(axis=1) - raters).mean() / (raters * (raters - 1)))
    return (observed - chance) / (1.0 - chance)
