"""summary.json blocks computed from judgments.jsonl lines alone, so any run directory can be re-summarized.

`pairwise`: per candidate (vs the baseline) W/L/T/inconsistent/invalid, win rate with SE,
one-sided 95 % lower and upper bounds and the two-sided 95 % interval (`harness.stats.bounds`:
exact binomial without ties, Hoeffding–Bentkus with them; cases, not repeats, are the unit),
the descriptive prompt-level bootstrap interval, soft win rate, position bias and the length
split, plus the same per tag. `rubric` and `closed_qa`: per model, mean score with SE and the
same bounds over the grading scale, invalid and skipped counts, per tag.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from harness.stats.bootstrap import DEFAULT_RESAMPLES, DEFAULT_SEED
from harness.stats.bounds import CONFIDENCE, mean_bounds
from harness.stats.pairwise import estimate_mean, first_slot_rate, length_split

Line = dict[str, Any]
Block = Callable[[Sequence[Line]], dict[str, Any]]


def _by_tag(lines: Sequence[Line], block: Block) -> dict[str, Any]:
    tags = sorted({tag for line in lines for tag in line.get("tags", [])})
    return {tag: block([line for line in lines if tag in line.get("tags", [])]) for tag in tags}


def _estimate(
    values: Sequence[float], clusters: Sequence[str], resamples: int, seed: int, low: float = 0.0, high: float = 1.0
) -> dict[str, Any]:
    """Mean, SE, the bounds gates use, and the descriptive bootstrap interval, for values in [low, high]."""
    bounds = mean_bounds(values, low, high, clusters, CONFIDENCE)
    estimate = estimate_mean(values, clusters, CONFIDENCE, resamples, seed)
    if bounds is None or estimate is None:
        return {"n": 0, "units": 0, "mean": None, "se": None, "ci": None, "lower_bound": None, "upper_bound": None,
                "method": None, "bootstrap_ci": None}
    return {
        "n": estimate.n,
        "units": bounds.n,
        "mean": estimate.mean,
        "se": estimate.se,
        **bounds.as_dict(),
        "bootstrap_ci": estimate.interval.as_dict(),
    }


_BOUND_KEYS = ("units", "ci", "lower_bound", "upper_bound", "method", "bootstrap_ci")


def pair_block(items: Sequence[Line], resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED) -> dict[str, Any]:
    """Statistics over pairwise item lines of one candidate (or one tag of it)."""
    valid = [item for item in items if item["outcome"] in ("win", "loss", "tie")]
    scores = [float(item["score"]) for item in valid]
    clusters = [str(item["case_id"]) for item in valid]
    estimate = _estimate(scores, clusters, resamples, seed)
    n = len(valid)
    soft_items = [item for item in valid if item.get("soft") is not None]
    soft: dict[str, Any] | None = None
    if soft_items:
        values = [float(i["soft"]) for i in soft_items]
        soft = _estimate(values, [str(i["case_id"]) for i in soft_items], resamples, seed)
        soft = {"n": soft["n"], "win_rate": soft["mean"], "se": soft["se"], **{k: soft[k] for k in _BOUND_KEYS}}
    # Position bias counts every valid single-order verdict, including those of items whose
    # other order was invalid: each is an observation of where the judge's preference fell.
    picks = [o["slot"] == "first" for item in items for o in item.get("orders", []) if o.get("slot") in ("first", "second")]
    both = [item for item in valid if len(item.get("orders", [])) == 2]
    agreeing = sum(1 for item in both if item["orders"][0]["winner"] == item["orders"][1]["winner"])
    candidate_chars = [int(item["candidate_chars"]) for item in valid]
    baseline_chars = [int(item["baseline_chars"]) for item in valid]
    return {
        "items": len(items),
        "n": n,
        "wins": sum(1 for item in valid if item["outcome"] == "win"),
        "losses": sum(1 for item in valid if item["outcome"] == "loss"),
        "ties": sum(1 for item in valid if item["outcome"] == "tie"),
        "inconsistent": sum(1 for item in valid if item.get("inconsistent")),
        "identical": sum(1 for item in valid if item.get("identical")),
        "invalid": sum(1 for item in items if item["outcome"] == "invalid"),
        "skipped": sum(1 for item in items if item["outcome"] == "skipped"),
        "win_rate": estimate["mean"],
        "se": estimate["se"],
        **{key: estimate[key] for key in _BOUND_KEYS},
        "confidence": CONFIDENCE,
        "soft": soft,
        "position_bias": {
            "first_slot_rate": first_slot_rate(picks),
            "decisive_verdicts": len(picks),
            "consistency": agreeing / len(both) if both else None,
            "judged_items": len(both),
        },
        "length": {
            "candidate_mean_chars": float(np.mean(candidate_chars)) if valid else None,
            "baseline_mean_chars": float(np.mean(baseline_chars)) if valid else None,
            "split": length_split(scores, candidate_chars, baseline_chars),
        },
    }


def pairwise_summary(lines: Sequence[Line], resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED) -> dict[str, Any]:
    """The `pairwise` block of summary.json: one entry per candidate, in order of appearance."""
    grouped: dict[str, list[Line]] = {}
    for line in lines:
        if line.get("kind") == "pairwise":
            grouped.setdefault(line["candidate"], []).append(line)

    def block(items: Sequence[Line]) -> dict[str, Any]:
        return pair_block(items, resamples, seed)

    result: dict[str, Any] = {}
    for candidate, items in grouped.items():
        entry = {"candidate": candidate, "baseline": items[0]["baseline"], "judge": items[0]["judge"]}
        entry.update(block(items))
        entry["by_tag"] = _by_tag(items, block)
        result[candidate] = entry
    return result


def grade_block(items: Sequence[Line], resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED) -> dict[str, Any]:
    graded = [item for item in items if item["outcome"] == "graded"]
    scores = [float(item["score"]) for item in graded]
    binary = bool(items) and (items[0]["kind"] == "closed_qa" or items[0].get("scale") == "pass_fail")
    low, high = _scale_range(items[0].get("scale") if items else None)
    estimate = _estimate(scores, [str(item["case_id"]) for item in graded], resamples, seed, low, high)
    block = {
        "items": len(items),
        "n": len(graded),
        "invalid": sum(1 for item in items if item["outcome"] == "invalid"),
        "skipped": sum(1 for item in items if item["outcome"] == "skipped"),
        "mean": estimate["mean"],
        "se": estimate["se"],
        **{key: estimate[key] for key in _BOUND_KEYS},
        "confidence": CONFIDENCE,
        "binary": binary,
        "range": [low, high],
    }
    return block


def _scale_range(scale: Any) -> tuple[float, float]:
    """The range a grade lies in: a rubric's numeric scale, else 0..1 (pass/fail, closed-QA)."""
    if isinstance(scale, dict) and scale.get("min") is not None and scale.get("max") is not None:
        return float(scale["min"]), float(scale["max"])
    return 0.0, 1.0


def grade_summary(
    lines: Sequence[Line], kind: str, resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED
) -> dict[str, Any]:
    """The `rubric` or `closed_qa` block of summary.json: one entry per model."""
    grouped: dict[str, list[Line]] = {}
    for line in lines:
        if line.get("kind") == kind:
            grouped.setdefault(line["model"], []).append(line)

    def block(items: Sequence[Line]) -> dict[str, Any]:
        return grade_block(items, resamples, seed)

    result: dict[str, Any] = {}
    for model, items in grouped.items():
        entry: dict[str, Any] = {"model": model, "judge": items[0]["judge"], "scale": items[0].get("scale")}
        entry.update(block(items))
        entry["by_tag"] = _by_tag(items, block)
        result[model] = entry
    return result


def judging_summary(lines: Sequence[Line], resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED) -> dict[str, Any]:
    """Every judging block present in the lines, ready to merge into summary.json."""
    summary: dict[str, Any] = {}
    pairwise = pairwise_summary(lines, resamples, seed)
    if pairwise:
        summary["pairwise"] = pairwise
    for kind in ("rubric", "closed_qa"):
        grades = grade_summary(lines, kind, resamples, seed)
        if grades:
            summary[kind] = grades
    return summary
