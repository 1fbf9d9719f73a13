"""The `label` block from scripted label lines: pass or fail, the distribution, classification against references."""

from __future__ import annotations

from typing import Any

import pytest

from harness.judging.labels import label_summary

LABELS = ["polite", "neutral", "rude"]


def line(model: str, case: int, label: str | None, reference: str | None = None, outcome: str = "graded") -> dict[str, Any]:
    passed = label in ("polite", "neutral") if label is not None else None
    return {
        "kind": "label", "model": model, "case_id": f"q{case}", "repeat": 0, "tags": ["t"] if case < 3 else [],
        "judge": "j", "outcome": outcome, "score": None if label is None else float(bool(passed)), "label": label,
        "labels": LABELS, "passing": ["polite", "neutral"], "passed": passed, "reference": reference,
    }


def test_pass_rate_and_distribution() -> None:
    lines = [line("m", 1, "polite"), line("m", 2, "rude"), line("m", 3, "neutral"), line("m", 4, "polite"),
             line("m", 5, None, outcome="invalid"), line("m", 6, None, outcome="skipped")]
    block = label_summary(lines)["m"]
    assert (block["items"], block["n"], block["invalid"], block["skipped"], block["passed"]) == (6, 4, 1, 1, 3)
    assert block["pass_rate"] == pytest.approx(0.75)
    assert block["distribution"] == {"polite": 2, "neutral": 1, "rude": 1}
    assert block["shares"]["polite"] == pytest.approx(0.5)
    assert block["classification"] is None  # no reference is a label
    assert block["by_tag"]["t"]["distribution"] == {"polite": 1, "neutral": 0, "rude": 1}
    # 3 passes of 4 are a count: the exact binomial bound, upper one solving 1 - p^4 = 0.05
    assert block["method"] == "clopper-pearson" and block["upper_bound"] == pytest.approx(0.95 ** 0.25)
    assert block["ci"]["low"] < block["lower_bound"] < 0.75 < block["upper_bound"] < block["ci"]["high"]


def test_classification_against_label_references() -> None:
    lines = [line("m", 1, "polite", "polite"), line("m", 2, "rude", "Polite"), line("m", 3, "rude", "rude"),
             line("m", 4, "neutral", "neutral"), line("m", 5, "polite", "not a label")]
    block = label_summary(lines)["m"]
    classification = block["classification"]
    assert classification["n"] == 4  # the reference that names no label is left out
    assert classification["figures"]["accuracy"] == pytest.approx(3 / 4)
    # per class recall: polite 1/2, neutral 1/1, rude 1/1 -> macro 5/6
    assert classification["figures"]["recall_macro"] == pytest.approx(5 / 6)
    assert classification["confusion_matrix"]["matrix"][0] == [1, 0, 1, 0]
