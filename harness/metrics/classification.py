"""Classification metrics for suites whose references are labels.

An output is mapped onto the label set (`LabelExtractor`); one that maps onto no label, or onto
several, is its own class `unmatched`. Point estimates come from scikit-learn, averaged over
the suite's labels (an unmatched output is a miss for its true class and adds no class to the
averages); the confusion matrix has an `unmatched` column. Bootstrap intervals recompute the
same figures from resampled confusion matrices, vectorized (`scores_from_confusion`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from harness.metrics.options import ClassificationOptions, normalize_label

UNMATCHED = "unmatched"
AVERAGES = ("macro", "micro", "weighted")


@dataclass
class LabelExtractor:
    labels: list[str]
    pattern: re.Pattern[str] | None = None
    match: str = "search"

    @classmethod
    def from_options(cls, options: ClassificationOptions, labels: list[str]) -> LabelExtractor:
        pattern = re.compile(options.pattern) if options.pattern else None
        return cls(labels, pattern, options.match)

    def __post_init__(self) -> None:
        self._by_key = {normalize_label(label): label for label in self.labels}

    def canonical(self, text: str) -> str | None:
        """The label `text` names after normalization, if any."""
        return self._by_key.get(normalize_label(text))

    def extract(self, output: str) -> str | None:
        """The label an output predicts, or None (unmatched)."""
        text = output
        if self.pattern is not None:
            found = self.pattern.search(output)
            group: str | int = "label" if "label" in self.pattern.groupindex else (1 if self.pattern.groups else 0)
            captured = found.group(group) if found is not None else None
            if captured is None:
                return None
            text = captured
        key = normalize_label(text)
        if key in self._by_key:
            return self._by_key[key]
        if self.match == "exact":
            return None
        padded = f" {key} "
        found_keys = [k for k in self._by_key if f" {k} " in padded]
        # A label inside a longer one that also occurs ("positive" in "very positive") yields to it.
        found_keys = [k for k in found_keys if not any(k != o and f" {k} " in f" {o} " for o in found_keys)]
        return self._by_key[found_keys[0]] if len(found_keys) == 1 else None


def report(y_true: Sequence[str], y_pred: Sequence[str | None], labels: list[str]) -> dict[str, Any]:
    """scikit-learn's accuracy, precision/recall/F1 (macro, micro, weighted) and confusion matrix."""
    from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support

    predicted = [UNMATCHED if p is None else p for p in y_pred]
    figures: dict[str, float] = {"accuracy": float(accuracy_score(y_true, predicted))}
    for average in AVERAGES:
        precision, recall, f1, _ = precision_recall_fscore_support(
            y_true, predicted, labels=labels, average=average, zero_division=0
        )
        figures[f"precision_{average}"] = float(precision)
        figures[f"recall_{average}"] = float(recall)
        figures[f"f1_{average}"] = float(f1)
    columns = [*labels, UNMATCHED]
    matrix = confusion_matrix(y_true, predicted, labels=columns)[: len(labels)]
    return {
        "figures": figures,
        "confusion_matrix": {
            "rows": "reference label",
            "columns": "predicted label",
            "labels": labels,
            "predicted_labels": columns,
            "matrix": matrix.tolist(),
        },
        "unmatched": sum(1 for p in y_pred if p is None),
    }


def confusion_cells(true_label: str, predicted: str | None, labels: list[str]) -> int:
    """Index of (true, predicted) in a flattened K x (K + 1) confusion matrix."""
    column = len(labels) if predicted is None else labels.index(predicted)
    return labels.index(true_label) * (len(labels) + 1) + column


def _divide(numerator: NDArray[np.float64], denominator: NDArray[np.float64]) -> NDArray[np.float64]:
    """numerator / denominator with 0 where the denominator is 0 (scikit-learn's zero_division=0)."""
    safe = np.where(denominator > 0, denominator, 1.0)
    result: NDArray[np.float64] = np.where(denominator > 0, numerator / safe, 0.0)
    return result


def scores_from_confusion(counts: NDArray[np.float64], classes: int) -> dict[str, NDArray[np.float64]]:
    """Accuracy and P/R/F1 averages from a stack of confusion matrices, shape (R, K * (K + 1)).

    The same definitions scikit-learn uses with `labels=<the K labels>, zero_division=0`.
    """
    m = counts.reshape(-1, classes, classes + 1)
    true_positive = np.einsum("rkk->rk", m[:, :, :classes])
    predicted = m[:, :, :classes].sum(axis=1)  # every reference is one of the labels
    support = m.sum(axis=2)
    total = support.sum(axis=1)
    precision = _divide(true_positive, predicted)
    recall = _divide(true_positive, support)
    f1 = _divide(2 * true_positive, predicted + support)
    result = {"accuracy": _divide(true_positive.sum(axis=1), total)}
    result["precision_macro"] = precision.mean(axis=1)
    result["recall_macro"] = recall.mean(axis=1)
    result["f1_macro"] = f1.mean(axis=1)
    tp_sum, predicted_sum = true_positive.sum(axis=1), predicted.sum(axis=1)
    result["precision_micro"] = _divide(tp_sum, predicted_sum)
    result["recall_micro"] = _divide(tp_sum, total)
    result["f1_micro"] = _divide(2 * tp_sum, predicted_sum + total)
    weights = support
    result["precision_weighted"] = _divide((precision * weights).sum(axis=1), total)
    result["recall_weighted"] = _divide((recall * weights).sum(axis=1), total)
    result["f1_weighted"] = _divide((f1 * weights).sum(axis=1), total)
    return result
