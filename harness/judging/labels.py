"""The `label` block of summary.json: what a label judge chose for each model's answers.

Per model: the pass rate (answers whose label is a passing one, over validly labelled answers)
with its standard error and the bounds valid at every n (exact binomial: a pass is a count);
the label distribution (counts and shares, every configured label listed); and, when cases
carry references that are labels, scikit-learn's classification figures of the judge's labels
against them (accuracy, precision / recall / F1 averages, the confusion matrix).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from harness.judging.estimates import BOUND_KEYS, CONFIDENCE, Line, by_tag, estimate
from harness.stats.bootstrap import DEFAULT_RESAMPLES, DEFAULT_SEED


def _key(label: str) -> str:
    return " ".join(label.split()).lower()


def _classification(graded: Sequence[Line], labels: list[str]) -> dict[str, Any] | None:
    """Figures against the references that name a label; None when no reference does."""
    by_key = {_key(label): label for label in labels}
    pairs = [(by_key[_key(str(line["reference"]))], str(line["label"]))
             for line in graded if line.get("reference") is not None and _key(str(line["reference"])) in by_key]
    if not pairs:
        return None
    from harness.metrics.classification import report

    result = report([truth for truth, _ in pairs], [chosen for _, chosen in pairs], labels)
    return {"n": len(pairs), **result}


def label_block(items: Sequence[Line], resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED) -> dict[str, Any]:
    """Statistics over label lines of one model (or one tag of it)."""
    labels = list(items[0].get("labels") or []) if items else []
    graded = [item for item in items if item["outcome"] == "graded"]
    passed = [float(item["score"]) for item in graded]
    figures = estimate(passed, [str(item["case_id"]) for item in graded], resamples, seed)
    counts = {label: 0 for label in labels}
    for item in graded:
        counts[str(item["label"])] = counts.get(str(item["label"]), 0) + 1
    n = len(graded)
    return {
        "items": len(items),
        "n": n,
        "invalid": sum(1 for item in items if item["outcome"] == "invalid"),
        "skipped": sum(1 for item in items if item["outcome"] == "skipped"),
        "passed": int(sum(passed)),
        "pass_rate": figures["mean"],
        "se": figures["se"],
        **{key: figures[key] for key in BOUND_KEYS},
        "confidence": CONFIDENCE,
        "distribution": counts,
        "shares": {label: (count / n if n else None) for label, count in counts.items()},
    }


def label_summary(lines: Sequence[Line], resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED) -> dict[str, Any]:
    """The `label` block: one entry per model, in order of appearance."""
    grouped: dict[str, list[Line]] = {}
    for line in lines:
        if line.get("kind") == "label":
            grouped.setdefault(line["model"], []).append(line)

    def block(items: Sequence[Line]) -> dict[str, Any]:
        return label_block(items, resamples, seed)

    result: dict[str, Any] = {}
    for model, items in grouped.items():
        labels = list(items[0].get("labels") or [])
        entry: dict[str, Any] = {"model": model, "judge": items[0]["judge"], "labels": labels,
                                 "passing": list(items[0].get("passing") or [])}
        entry.update(block(items))
        entry["classification"] = _classification([i for i in items if i["outcome"] == "graded"], labels)
        entry["by_tag"] = by_tag(items, block)
        result[model] = entry
    return result
