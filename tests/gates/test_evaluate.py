"""Gates evaluated over summary.json figures: bounds, minimum valid judgments, scope, failures."""

from __future__ import annotations

from typing import Any

import pytest

from harness.errors import UsageError
from harness.gates.evaluate import evaluate_gates, parse_gates
from harness.gates.figures import RunFigures


def pairwise(n: int, items: int, win_rate: float, lower: float, high: float) -> dict[str, Any]:
    return {"baseline": "base", "n": n, "items": items, "win_rate": win_rate, "lower_bound": lower,
            "ci": {"low": lower - 0.05, "high": high, "confidence": 0.95},
            "by_tag": {"billing": {"n": 4, "items": 4, "win_rate": 0.25, "lower_bound": 0.0,
                                   "ci": {"low": 0.0, "high": 0.6}}}}


def model_block(passed: int, answered: int, errors: int = 0, **extra: Any) -> dict[str, Any]:
    return {"results": answered + errors, "answered": answered, "passed": passed, "failed": answered - passed,
            "errors": errors, "pass_rate": passed / answered, "error_rate": errors / (answered + errors),
            "latency_p50_s": 0.4, "latency_p95_s": 1.5,
            "by_tag": {"billing": {"answered": 4, "passed": 1, "errors": 0, "results": 4, "pass_rate": 0.25,
                                   "error_rate": 0.0}}, **extra}


def figures(**summary: Any) -> RunFigures:
    base = {"models": {"tuned": model_block(9, 10, metrics={"rougeL": {"value": 0.42, "ci": {"low": 0.38, "high": 0.47},
                                                                         "n": 10}}),
                       "base": model_block(5, 10, errors=2)},
            "pairwise": {"tuned": pairwise(10, 10, 0.75, 0.62, 0.9)}}
    base.update(summary)
    run = {"models": [{"name": "tuned"}, {"name": "base"}], "judge": {"baseline": "base"}}
    return RunFigures(base, run)


def evaluate(*texts: str, ctx: RunFigures | None = None) -> list[Any]:
    return evaluate_gates(parse_gates(list(texts)), ctx or figures())


def nine_of_ten_exact() -> tuple[float, float]:
    """Hand-derived one-sided 95 % Clopper–Pearson bounds of 9 of 10.

    Lower: P(X >= 9 | p) = 10 p^9 (1 - p) + p^10 = 0.05, solved by bisection.
    Upper: P(X <= 9 | p) = 1 - p^10 = 0.05, so p = 0.95 ** (1/10).
    """
    low, high = 0.0, 1.0
    for _ in range(200):
        mid = (low + high) / 2
        if 10 * mid**9 * (1 - mid) + mid**10 < 0.05:
            low = mid
        else:
            high = mid
    return low, 0.95 ** (1 / 10)


def test_win_rate_uses_the_one_sided_lower_bound_by_default() -> None:
    [row] = evaluate("win_rate >= 0.7")
    assert (row.model, row.bound, row.value, row.point, row.passed) == ("tuned", "95% lower bound", 0.62, 0.75, False)
    assert row.figure == "win_rate (tuned vs base)" and "point 75.0%" in row.note and "n=10/10" in row.note
    [row] = evaluate("win_rate >= 0.6")
    assert row.passed


def test_point_opts_out_of_the_bound() -> None:
    [row] = evaluate("win_rate.point >= 0.7")
    assert (row.bound, row.value, row.passed) == ("point estimate", 0.75, True)


def test_upper_comparisons_use_the_upper_bound() -> None:
    [row] = evaluate("win_rate <= 0.85")
    assert (row.bound, row.value, row.passed) == ("95% upper bound", 0.9, False)


def test_too_few_valid_judgments_fail_the_gate() -> None:
    ctx = figures(pairwise={"tuned": pairwise(7, 10, 0.9, 0.8, 0.95)})
    [row] = evaluate("win_rate >= 0.5", ctx=ctx)
    assert not row.passed and row.note == "only 7/10 items judged validly (70% < 80%)"
    [row] = evaluate("win_rate[min_valid=0.7] >= 0.5", ctx=ctx)
    assert row.passed
    [row] = evaluate("win_rate[min_valid=8] >= 0.5", ctx=ctx)
    assert not row.passed and row.note == "only 7 valid judgments (< 8)"
    # exactly 80 % is enough
    [row] = evaluate("win_rate >= 0.5", ctx=figures(pairwise={"tuned": pairwise(8, 10, 0.9, 0.8, 0.95)}))
    assert row.passed


def test_pass_rate_bounds_are_one_sided_exact_binomial() -> None:
    low, high = nine_of_ten_exact()
    [point, lower, upper] = evaluate("pass_rate[tuned] >= 0.8", "pass_rate[tuned].lower >= 0.6", "pass_rate[tuned].upper < 1")
    assert (point.value, point.passed) == (0.9, True)
    assert lower.value == pytest.approx(low, abs=1e-9) and lower.passed
    assert upper.value == pytest.approx(high, abs=1e-9) and upper.passed


def test_a_gate_without_a_model_applies_to_every_candidate() -> None:
    rows = evaluate("pass_rate >= 0.8")
    assert [row.model for row in rows] == ["tuned"]  # base is the baseline
    no_baseline = RunFigures(figures().summary | {"pairwise": {}}, {"models": [{"name": "tuned"}, {"name": "base"}]})
    rows = evaluate("pass_rate >= 0.8", ctx=no_baseline)
    assert [(row.model, row.passed) for row in rows] == [("tuned", True), ("base", False)]


def test_tag_scope_and_other_figures() -> None:
    rows = evaluate("pass_rate[tuned, tag=billing] >= 0.5", "win_rate.point[tag=billing] >= 0.5", "error_rate[base] <= 0.1",
                    "latency_p95[tuned] <= 2", "rougeL[tuned] >= 0.4", "rougeL[tuned].lower >= 0.4")
    assert [(row.value, row.passed) for row in rows] == [
        (0.25, False), (0.25, False), (pytest.approx(2 / 12), False), (1.5, True), (0.42, True), (0.38, False)]
    assert rows[0].figure == "pass_rate (tuned, tag billing)"


def test_missing_figures_fail_closed_with_the_reason() -> None:
    ctx = figures(pairwise={})
    [row] = evaluate("win_rate >= 0.5", ctx=ctx)
    assert not row.passed and row.note == "no pairwise comparison in this run (give --baseline and a judge)"
    [row] = evaluate("rubric[tuned] >= 5")
    assert not row.passed and row.note == "no rubric grades for 'tuned' in this run"
    [row] = evaluate("cost_per_1k[tuned] <= 1")
    assert not row.passed and "no cost" in row.note
    [row] = evaluate("latency_p95[tuned, tag=billing] <= 1")
    assert not row.passed and row.note == "latency is not broken down by tag"


def test_unknown_figures_and_models_are_usage_errors() -> None:
    with pytest.raises(UsageError, match=r"unknown figure 'bleu' in this run \(known: pass_rate, .*, rougeL\)"):
        evaluate("bleu >= 20")
    with pytest.raises(UsageError, match="model 'other' is not in this run"):
        evaluate("pass_rate[other] >= 0.5")
    with pytest.raises(UsageError, match="--gate 'pass_rate >': expected a number"):
        parse_gates(["pass_rate >"])
    with pytest.raises(UsageError, match="win_rate is a fraction"):
        parse_gates(["win_rate >= 70"])


def judged_items(wins: int, ties: int, losses: int) -> RunFigures:
    """A run's figures from pairwise judgment lines, summarized as the judge stage does."""
    from harness.judging.summary import pairwise_summary

    outcomes = [("win", 1.0)] * wins + [("tie", 0.5)] * ties + [("loss", 0.0)] * losses
    lines = [
        {"kind": "pairwise", "candidate": "tuned", "baseline": "base", "judge": "j", "case_id": f"c{i}",
         "outcome": outcome, "score": score, "orders": [], "candidate_chars": 10, "baseline_chars": 10, "tags": []}
        for i, (outcome, score) in enumerate(outcomes)
    ]
    summary = {"models": {"tuned": {}, "base": {}}, "pairwise": pairwise_summary(lines, resamples=2000)}
    return RunFigures(summary, {"models": [{"name": "tuned"}, {"name": "base"}], "judge": {"baseline": "base"}})


def test_eight_wins_of_eight_do_not_pass_seventy_percent() -> None:
    [row] = evaluate("win_rate >= 0.7", ctx=judged_items(8, 0, 0))
    assert not row.passed and row.value == pytest.approx(0.05 ** (1 / 8)) and row.point == 1.0
    assert row.note == (
        "point 100.0%, n=8/8, too few valid items: with 8, even a perfect result gives a 95% lower bound of "
        "at most 68.8%; at least 9 valid items are needed"
    )
    [row] = evaluate("win_rate >= 0.7", ctx=judged_items(9, 0, 0))
    assert row.passed  # 0.05 ** (1/9) = 0.717


def test_eighty_wins_of_a_hundred_pass_seventy_percent() -> None:
    [row] = evaluate("win_rate >= 0.7", ctx=judged_items(80, 0, 20))
    assert row.passed and round(row.value, 3) == 0.723 and "too few" not in row.note


def test_all_ties_are_never_a_zero_width_interval() -> None:
    ctx = judged_items(0, 8, 0)
    entry = ctx.summary["pairwise"]["tuned"]
    assert entry["ci"]["low"] < entry["lower_bound"] < 0.5 < entry["upper_bound"] < entry["ci"]["high"]
    [low] = evaluate("win_rate >= 0.5", ctx=ctx)
    [high] = evaluate("win_rate <= 0.5", ctx=ctx)
    assert not low.passed and not high.passed  # eight ties cannot show the rate is at or below/above 1/2


def test_an_upper_bound_gate_with_too_few_items_says_so() -> None:
    [row] = evaluate("win_rate < 0.2", ctx=judged_items(0, 0, 10))
    # best upper bound of n items all lost: 1 - 0.05 ** (1/n); below 0.2 from n = 14
    assert not row.passed and "even a perfect result gives a 95% upper bound of at least 25.9%" in row.note
    assert "at least 14 valid items are needed" in row.note


def test_regressions_gate_counts_the_baseline_comparison() -> None:
    ctx = figures(comparison={"tuned": {"baseline": "base", "candidate": "tuned", "paired": 10, "regressions": 2}})
    [row] = evaluate("regressions <= 0", ctx=ctx)  # every compared candidate; needs no judge
    assert (row.model, row.value, row.passed) == ("tuned", 2.0, False)
    assert row.figure == "regressions (tuned vs base)"
    [row] = evaluate("regressions[tuned] <= 2", ctx=ctx)
    assert row.passed
    [row] = evaluate("regressions[tuned] <= 0", ctx=figures())
    assert not row.passed and row.note == "'tuned' is not compared with a baseline in this run"
    [row] = evaluate("regressions <= 0", ctx=figures())
    assert not row.passed and row.note == "no baseline in this run to compare with (give --baseline)"
