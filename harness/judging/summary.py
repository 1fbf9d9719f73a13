"""summary.json blocks computed from judgments.jsonl lines alone, so any run directory can be re-summarized.

`pairwise`: per candidate (vs the baseline) W/L/T/inconsistent/invalid, win rate with SE,
one-sided 95 % lower and upper bounds and the two-sided 95 % interval (`harness.stats.bounds`:
exact binomial without ties, Hoeffding–Bentkus with them; cases, not repeats, are the unit),
the descriptive prompt-level bootstrap interval, soft win rate, position bias and the length
split, plus the same per tag (and each panel judge's own win rate). `rubric` and `closed_qa`:
per model, mean score with SE and the same bounds over the grading scale, invalid and skipped
counts, per tag. `label` (labels.py), `ranking` (ranking.py) and `panel` (panel_summary.py)
have their own modules.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from harness.judging.estimates import BOUND_KEYS, CONFIDENCE, Line, by_tag, estimate
from harness.judging.labels import label_summary
from harness.judging.panel_summary import judge_win_rates, panel_summary
from harness.judging.ranking import RankingSetup, ranking_setup, ranking_summary
from harness.stats.bootstrap import DEFAULT_RESAMPLES, DEFAULT_SEED
from harness.stats.pairwise import first_slot_rate, length_split

__all__ = ["CONFIDENCE", "RankingSetup", "judging_summary", "pairwise_summary", "ranking_setup"]


def _order_sets(item: Line) -> list[list[dict[str, Any]]]:
    """The judged orders of an item, per judge (one list for a single judge, one per judge of a panel)."""
    judges = item.get("judges")
    if judges:
        return [list(verdict.get("orders") or []) for verdict in judges.values()]
    return [list(item.get("orders") or [])]


def pair_block(items: Sequence[Line], resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED) -> dict[str, Any]:
    """Statistics over pairwise item lines of one candidate (or one tag of it)."""
    valid = [item for item in items if item["outcome"] in ("win", "loss", "tie")]
    scores = [float(item["score"]) for item in valid]
    clusters = [str(item["case_id"]) for item in valid]
    figures = estimate(scores, clusters, resamples, seed)
    n = len(valid)
    soft_items = [item for item in valid if item.get("soft") is not None]
    soft: dict[str, Any] | None = None
    if soft_items:
        values = [float(i["soft"]) for i in soft_items]
        soft = estimate(values, [str(i["case_id"]) for i in soft_items], resamples, seed)
        soft = {"n": soft["n"], "win_rate": soft["mean"], "se": soft["se"], **{k: soft[k] for k in BOUND_KEYS}}
    # Position bias counts every valid single-order verdict, including those of items whose
    # other order was invalid: each is an observation of where the judge's preference fell.
    # With a panel these pool every judge's orders (each judge's own are in the `panel` block).
    picks = [o["slot"] == "first" for item in items for orders in _order_sets(item) for o in orders
             if o.get("slot") in ("first", "second")]
    both = [orders for item in valid for orders in _order_sets(item) if len(orders) == 2]
    agreeing = sum(1 for orders in both if orders[0]["winner"] == orders[1]["winner"])
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
        "win_rate": figures["mean"],
        "se": figures["se"],
        **{key: figures[key] for key in BOUND_KEYS},
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
    """The `pairwise` block of summary.json: one entry per candidate vs the baseline, in order of appearance.

    Round-robin battles between two candidates (`versus_baseline` false) feed the ranking only."""
    grouped: dict[str, list[Line]] = {}
    for line in lines:
        if line.get("kind") == "pairwise" and line.get("versus_baseline", True):
            grouped.setdefault(line["candidate"], []).append(line)

    def block(items: Sequence[Line]) -> dict[str, Any]:
        return pair_block(items, resamples, seed)

    result: dict[str, Any] = {}
    for candidate, items in grouped.items():
        entry = {"candidate": candidate, "baseline": items[0]["baseline"], "judge": items[0]["judge"]}
        entry.update(block(items))
        judges = judge_win_rates(items)
        if judges is not None:
            entry["judges"] = judges
        entry["by_tag"] = by_tag(items, block)
        result[candidate] = entry
    return result


def grade_block(items: Sequence[Line], resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED) -> dict[str, Any]:
    graded = [item for item in items if item["outcome"] == "graded"]
    scores = [float(item["score"]) for item in graded]
    binary = bool(items) and (items[0]["kind"] == "closed_qa" or items[0].get("scale") == "pass_fail")
    low, high = _scale_range(items[0].get("scale") if items else None)
    figures = estimate(scores, [str(item["case_id"]) for item in graded], resamples, seed, low, high)
    block = {
        "items": len(items),
        "n": len(graded),
        "invalid": sum(1 for item in items if item["outcome"] == "invalid"),
        "skipped": sum(1 for item in items if item["outcome"] == "skipped"),
        "mean": figures["mean"],
        "se": figures["se"],
        **{key: figures[key] for key in BOUND_KEYS},
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
        entry["by_tag"] = by_tag(items, block)
        result[model] = entry
    return result


def judging_summary(
    lines: Sequence[Line], resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED,
    ranking: RankingSetup | None = None,
) -> dict[str, Any]:
    """Every judging block present in the lines, ready to merge into summary.json.

    `ranking` says how to rank (design, anchor, model order); without it the lines decide
    (a round robin, or three or more models compared, get a ranking)."""
    summary: dict[str, Any] = {}
    pairwise = pairwise_summary(lines, resamples, seed)
    if pairwise:
        summary["pairwise"] = pairwise
    for kind in ("rubric", "closed_qa"):
        grades = grade_summary(lines, kind, resamples, seed)
        if grades:
            summary[kind] = grades
    labels = label_summary(lines, resamples, seed)
    if labels:
        summary["label"] = labels
    ranked = ranking_summary(lines, ranking, resamples, seed)
    if ranked is not None:
        summary["ranking"] = ranked
    panel = panel_summary(lines)
    if panel is not None:
        summary["panel"] = panel
    return summary
