"""Candidate vs baseline within a run, from checks and metrics: flips, their order, McNemar."""

from __future__ import annotations

from typing import Any

import pytest

from harness.report.comparison import compare, comparison_block, comparison_note


def record(model: str, case: str, passed: bool | None, error: bool = False, repeat: int = 0,
           **metrics: float) -> dict[str, Any]:
    return {"model": model, "case_id": case, "repeat": repeat, "passed": passed, "metrics": metrics,
            "error": {"kind": "timeout", "message": "slow"} if error else None}


RESULTS = [
    record("base", "a", True, rougeL=0.9), record("tuned", "a", False, rougeL=0.8),  # regression, loss 0.1
    record("base", "b", True, rougeL=0.9), record("tuned", "b", False, rougeL=0.2),  # regression, loss 0.7
    record("base", "c", True), record("tuned", "c", None, error=True),  # regression by error, no metric
    record("base", "d", False, rougeL=0.1), record("tuned", "d", True, rougeL=0.5),  # improvement, gain 0.4
    record("base", "e", None, error=True), record("tuned", "e", True, rougeL=0.9),  # improvement over an error
    record("base", "f", True), record("tuned", "f", True),
    record("base", "g", False), record("tuned", "g", False),
    record("base", "h", None, error=True), record("tuned", "h", False),
    record("tuned", "only-tuned", False),  # not paired: the baseline has no answer
]


def test_flips_counts_and_order() -> None:
    entry = compare(RESULTS, "base", "tuned")
    assert (entry["paired"], entry["regressions"], entry["improvements"]) == (8, 3, 2)
    assert (entry["both_pass"], entry["both_fail"], entry["errors"]) == (1, 1, 1)
    # largest metric loss first, the one without metrics last
    assert [c["case_id"] for c in entry["regressed"]] == ["b", "a", "c"]
    assert entry["regressed"][0]["metric_change"] == pytest.approx(-0.7)
    assert entry["regressed"][2] == {"case_id": "c", "repeat": 0, "baseline": "pass", "candidate": "error",
                                     "metric_change": None}
    assert [c["case_id"] for c in entry["improved"]] == ["d", "e"]  # e has no baseline metric: unknown gain
    # exact McNemar, b = 3, c = 2: p = 2 * P(X <= 2 | n = 5) = 2 * (1 + 5 + 10) / 32, capped at 1
    assert entry["mcnemar_p"] == 1.0


def test_repeats_pair_separately_and_the_block_skips_the_baseline() -> None:
    results = [record("base", "a", True, repeat=0), record("tuned", "a", False, repeat=0),
               record("base", "a", True, repeat=1), record("tuned", "a", True, repeat=1),
               record("other", "a", False, repeat=0)]
    block = comparison_block(results, "base", ["tuned", "base", "other"])
    assert list(block) == ["tuned", "other"]
    assert (block["tuned"]["paired"], block["tuned"]["regressions"], block["tuned"]["both_pass"]) == (2, 1, 1)
    assert block["other"]["regressions"] == 1
    assert comparison_block(results, None, ["tuned", "base"]) == {}
    assert comparison_block(results, "missing", ["tuned", "base"]) == {}


def test_mcnemar_p_of_a_one_sided_run() -> None:
    results = [r for i in range(6) for r in (record("base", f"c{i}", False), record("tuned", f"c{i}", True))]
    # six improvements, no regression: p = 2 * 0.5**6
    assert compare(results, "base", "tuned")["mcnemar_p"] == pytest.approx(2 / 64)


def flips(regressions: int, improvements: int, both_pass: int) -> list[dict[str, Any]]:
    found = []
    for i in range(regressions + improvements + both_pass):
        base, tuned = (True, False) if i < regressions else (False, True) if i < regressions + improvements else (True, True)
        found += [record("base", f"c{i}", base), record("tuned", f"c{i}", tuned)]
    return found


def test_a_regression_count_that_is_not_significant_says_what_it_would_take() -> None:
    # issue 11's small sample: 2 pass -> fail, none back, 8 cases: p = 2 * 0.5**2 = 0.5;
    # 2 * 0.5**b < 0.05 first at b = 6, and 6 flips fit in 8 cases
    entry = compare(flips(2, 0, 6), "base", "tuned")
    assert (entry["mcnemar_p"], entry["needed_flips"]) == (0.5, 6)
    assert comparison_note(entry) == ("2 pass → fail flips are not significant at α = 0.05 (exact McNemar p = 0.5); "
                                      "it takes at least 6 pass → fail flips on these 8 cases")
    # 4 cases could never hold 6 flips
    assert comparison_note(compare(flips(1, 0, 3), "base", "tuned")) == (
        "4 paired cases cannot show a significant regression: it takes at least 6 pass → fail flips for exact "
        "McNemar at α = 0.05")
    # significant (p = 2 * 0.5**7 = 0.0156), or no regression: nothing to qualify
    assert comparison_note(compare(flips(7, 0, 1), "base", "tuned")) is None
    assert comparison_note(compare(flips(0, 3, 5), "base", "tuned")) is None
