"""Label extraction, and classification figures against a confusion matrix computed by hand."""

from __future__ import annotations

import re

import numpy as np
import pytest
from sklearn.metrics import precision_recall_fscore_support

from harness.metrics.classification import LabelExtractor, confusion_cells, report, scores_from_confusion

LABELS = ["cat", "dog", "bird"]
Y_TRUE = ["cat", "cat", "cat", "dog", "dog", "bird", "bird", "bird"]
Y_PRED = ["cat", "dog", None, "dog", "dog", "bird", "cat", None]
# Rows: reference cat, dog, bird; columns: predicted cat, dog, bird, unmatched.
MATRIX = [[1, 1, 0, 1], [0, 2, 0, 0], [1, 0, 1, 1]]
# Per class (tp / predicted / support): cat 1/2/3, dog 2/3/2, bird 1/1/3.
#   precision 1/2, 2/3, 1     recall 1/3, 1, 1/3     F1 2tp/(pred+support): 0.4, 0.8, 0.5
HAND = {
    "accuracy": 4 / 8,
    "precision_macro": (1 / 2 + 2 / 3 + 1) / 3,
    "recall_macro": (1 / 3 + 1 + 1 / 3) / 3,
    "f1_macro": (0.4 + 0.8 + 0.5) / 3,
    "precision_micro": 4 / 6,  # unmatched outputs are no prediction of any label
    "recall_micro": 4 / 8,
    "f1_micro": 8 / 14,
    "precision_weighted": (3 * 1 / 2 + 2 * 2 / 3 + 3 * 1) / 8,
    "recall_weighted": (3 * 1 / 3 + 2 * 1 + 3 * 1 / 3) / 8,
    "f1_weighted": (3 * 0.4 + 2 * 0.8 + 3 * 0.5) / 8,
}


def test_report_equals_hand_computed_figures() -> None:
    result = report(Y_TRUE, Y_PRED, LABELS)
    for name, value in HAND.items():
        assert result["figures"][name] == pytest.approx(value), name
    assert result["confusion_matrix"]["matrix"] == MATRIX
    assert result["confusion_matrix"]["predicted_labels"] == [*LABELS, "unmatched"]
    assert result["unmatched"] == 2


def test_vectorized_figures_equal_the_hand_computed_ones() -> None:
    counts = np.zeros((1, len(LABELS) * (len(LABELS) + 1)))
    for true, predicted in zip(Y_TRUE, Y_PRED, strict=True):
        counts[0, confusion_cells(true, predicted, LABELS)] += 1
    assert counts.reshape(3, 4).tolist() == MATRIX
    figures = scores_from_confusion(counts, len(LABELS))
    for name, value in HAND.items():
        assert figures[name][0] == pytest.approx(value), name


def test_vectorized_figures_equal_scikit_learn_on_random_data() -> None:
    rng = np.random.default_rng(0)
    labels = ["a", "b", "c", "d"]
    for _ in range(40):
        n = int(rng.integers(1, 30))
        y_true = [labels[i] for i in rng.integers(0, 4, n)]
        y_pred = [None if i == 4 else labels[i] for i in rng.integers(0, 5, n)]
        counts = np.zeros((1, 20))
        for true, predicted in zip(y_true, y_pred, strict=True):
            counts[0, confusion_cells(true, predicted, labels)] += 1
        figures = scores_from_confusion(counts, 4)
        shown = ["unmatched" if p is None else p for p in y_pred]
        for average in ("macro", "micro", "weighted"):
            expected = precision_recall_fscore_support(y_true, shown, labels=labels, average=average, zero_division=0)
            for name, value in zip(("precision", "recall", "f1"), expected[:3], strict=True):
                assert figures[f"{name}_{average}"][0] == pytest.approx(value), (name, average)


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        ("positive", "positive"),
        ("  Positive. ", "positive"),
        ("The sentiment is NEGATIVE!", "negative"),
        ("very positive", "very positive"),  # the longer label wins over the one inside it
        ("positive or negative?", None),  # ambiguous
        ("no idea", None),
        ("positively", None),  # whole words only
        ("", None),
    ],
)
def test_label_extraction_by_search(output: str, expected: str | None) -> None:
    extractor = LabelExtractor(["positive", "negative", "very positive"])
    assert extractor.extract(output) == expected


def test_label_extraction_exact_and_pattern() -> None:
    exact = LabelExtractor(["yes", "no"], match="exact")
    assert exact.extract("Yes!") == "yes"
    assert exact.extract("yes, I think so") is None
    grouped = LabelExtractor(["yes", "no"], re.compile(r"Answer:\s*(?P<label>\w+)"))
    assert grouped.extract("Reasoning mentions no.\nAnswer: Yes") == "yes"
    assert grouped.extract("no answer line") is None
    numbered = LabelExtractor(["1", "2"], re.compile(r"class (\d)"))
    assert numbered.extract("I pick class 2 of 2") == "2"
    assert LabelExtractor(["1", "2"], re.compile(r"\d")).extract("maybe 1") == "1"
