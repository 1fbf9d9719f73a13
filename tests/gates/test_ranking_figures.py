"""Gate figures of the Bradley–Terry ranking and the label judge: which bound a gate compares, and failures."""

from __future__ import annotations

from typing import Any

from harness.gates.evaluate import evaluate_gates, parse_gates
from harness.gates.figures import RunFigures


def ranked(rank: int, lower: int, upper: int, win: float, win_low: float, win_high: float, battles: int = 20) -> dict[str, Any]:
    return {"rank": rank, "rank_lower": lower, "rank_upper": upper, "win_rate": win, "lower_bound": win_low,
            "upper_bound": win_high, "battles": battles, "items": 20}


def run(**summary: Any) -> RunFigures:
    base: dict[str, Any] = {
        "models": {"v2": {}, "v3": {}, "base": {}},
        "ranking": {"anchor": "base", "models": {
            "v3": ranked(1, 1, 1, 0.8, 0.7, 0.88),
            "v2": ranked(2, 1, 3, 0.62, 0.45, 0.75, battles=12),
            "base": ranked(3, 2, 3, 0.5, 0.5, 0.5),
        }},
        "label": {"v3": {"pass_rate": 0.9, "lower_bound": 0.8, "ci": {"low": 0.75, "high": 0.97}, "n": 10, "items": 10}},
    }
    base.update(summary)
    return RunFigures(base, {"models": [{"name": "v2"}, {"name": "v3"}, {"name": "base"}], "judge": {"baseline": "base"}})


def evaluate(*texts: str, ctx: RunFigures | None = None) -> list[Any]:
    return evaluate_gates(parse_gates(list(texts)), ctx or run())


def test_rank_gates_compare_the_worst_rank_the_bootstrap_allows() -> None:
    [v3] = evaluate("rank[v3] <= 1")
    assert (v3.passed, v3.value, v3.point, v3.bound) == (True, 1, 1, "95% upper bound")
    [v2] = evaluate("rank[v2] <= 2")
    assert (v2.passed, v2.value) == (False, 3)  # second by point, but third is within the bootstrap's reach
    [point] = evaluate("rank.point[v2, min_valid=0.5] <= 2")
    assert point.passed and point.value == 2


def test_bt_win_rate_uses_the_lower_bound_and_names_the_anchor() -> None:
    rows = evaluate("bt_win_rate >= 0.6")
    by_model = {row.model: row for row in rows}
    assert set(by_model) == {"v2", "v3"}  # every candidate, not the baseline
    assert (by_model["v3"].passed, by_model["v3"].value) == (True, 0.7)
    assert (by_model["v2"].passed, by_model["v2"].value) == (False, 0.45)
    assert by_model["v3"].figure == "bt_win_rate (v3 vs base)"
    [short] = evaluate("bt_win_rate[v2] >= 0.4")
    assert not short.passed and "only 12/20 items judged validly" in short.note  # min_valid 80 %


def test_label_pass_rate_and_missing_figures_fail_closed() -> None:
    [row] = evaluate("label_pass_rate[v3] >= 0.75")
    assert (row.passed, row.value) == (True, 0.8)
    [absent] = evaluate("label_pass_rate[v2] >= 0.5")
    assert not absent.passed and "no label judgments for 'v2'" in absent.note
    [none] = evaluate("rank[v3] <= 1", ctx=run(ranking=None))
    assert not none.passed and "no ranking in this run" in none.note
    [tagged] = evaluate("rank[v3, tag=billing] <= 1")
    assert not tagged.passed and "not broken down by tag" in tagged.note
