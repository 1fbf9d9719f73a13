"""N-gram counting shared by the metrics, iterating in C where Counter's operators loop in Python."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any


def ngram_counts(tokens: Sequence[Any], n: int) -> Counter[Any]:
    """Counts of the n-grams of `tokens`: the tokens themselves for n = 1, else tuples."""
    if n == 1:
        return Counter(tokens)
    return Counter(zip(*(tokens[i:] for i in range(n)), strict=False))


def shared_count(a: Counter[Any], b: Counter[Any]) -> int:
    """sum((a & b).values()): how many items the two multisets share."""
    keys = a.keys() & b.keys()
    return sum(map(min, map(a.__getitem__, keys), map(b.__getitem__, keys)))
