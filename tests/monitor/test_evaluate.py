"""Rule evaluation against a run and the runs before it, with hand-computed medians."""

from __future__ import annotations

import pytest

from harness.gates.figures import RunFigures
from harness.monitor.evaluate import PastRuns, evaluate_rules
from harness.monitor.rules import parse_rule
from harness.report.history import HistoryRun


def run_with(pass_rate: float, latency_p95: float = 1.0, answered: int = 20) -> RunFigures:
    passed = round(pass_rate * answered)
    summary = {"models": {"tuned": {
        "results": answered, "answered": answered, "passed": passed, "errors": 0,
        "pass_rate": pass_rate, "error_rate": 0.0, "latency_p95_s": latency_p95,
    }}}
    return RunFigures(summary, {"models": [{"name": "tuned"}]})


def past(*values: float, status: str = "complete", model: str = "tuned") -> list[HistoryRun]:
    return [
        HistoryRun(f"run-{i}", "demo", f"/nowhere/run-{i}", f"2026-01-0{i + 1}T00:00:00", status, 20, [model], None, 0, 0,
                   {(model, "pass_rate"): value, (model, "latency_p95"): 1.0})
        for i, value in enumerate(values)
    ]


def test_drop_against_the_median_of_the_last_runs() -> None:
    rule = parse_rule("pass_rate >= median(4) - 5%")
    history = PastRuns(past(0.2, 0.9, 0.8, 1.0, 0.7))  # the oldest (0.2) is outside the window of 4
    # median(0.9, 0.8, 1.0, 0.7) = 0.85, threshold 0.80
    [held] = evaluate_rules([rule], run_with(0.80), history)
    assert held.state == "ok" and held.threshold == pytest.approx(0.80)
    [broken] = evaluate_rules([rule], run_with(0.75), history)
    assert broken.state == "broken" and broken.value == pytest.approx(0.75)
    assert broken.message == "pass_rate 75.0%, not >= 80.0% (median 85.0% of the last 4 runs - 5.0 pts)"


def test_failed_runs_and_other_models_are_left_out_of_the_median() -> None:
    runs = past(0.5, 0.5) + past(0.1, status="aborted") + past(0.1, model="other")
    [result] = evaluate_rules([parse_rule("pass_rate >= median(10)")], run_with(0.5), PastRuns(runs))
    assert result.state == "ok" and result.threshold == pytest.approx(0.5)
    assert "of the last 2 runs" in result.message


def test_a_drift_rule_waits_for_history() -> None:
    [result] = evaluate_rules([parse_rule("pass_rate >= median - 5%")], run_with(0.1), PastRuns([]))
    assert result.state == "pending" and "no earlier completed run" in result.message


def test_relative_and_absolute_rules() -> None:
    history = PastRuns(past(0.9, 0.9, 0.9))
    latency, floor = evaluate_rules(
        [parse_rule("latency_p95 <= median * 1.5"), parse_rule("pass_rate >= 90%", name="floor", retrain=True)],
        run_with(0.85, latency_p95=1.6), history,
    )
    assert latency.state == "broken" and latency.threshold == pytest.approx(1.5)
    assert floor.state == "broken" and floor.rule == "floor" and floor.retrain
    assert floor.message == "pass_rate 85.0%, not >= 90.0%"


def test_a_figure_the_run_lacks_breaks_the_rule() -> None:
    [result] = evaluate_rules([parse_rule("win_rate >= 50%")], run_with(0.9), PastRuns([]))
    assert result.state == "broken" and "no value" in result.message
