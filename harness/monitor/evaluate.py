"""Rules checked against a finished run and the runs of the same suite before it.

An absolute rule is a gate on the run, compared on the point estimate unless it names a bound.
A drift rule first takes the median of the figure over the last N completed runs before this
one (from history.sqlite, or from a run's summary.json for figures the history does not keep:
per-tag values, bounds, non-headline figures) and compares against that.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

import orjson

from harness.gates.evaluate import evaluate_gates
from harness.gates.figures import FIGURES, RunFigures, format_value
from harness.monitor.rules import RUN_COMPLETES, Rule
from harness.report.history import HistoryRun
from harness.run.store import RUN_FILE, SUMMARY_FILE

State = Literal["ok", "broken", "pending"]


@dataclass(frozen=True)
class RuleResult:
    """One rule for one model after one run."""

    rule: str  # the rule's name (its text unless named)
    text: str
    model: str | None
    state: State
    message: str
    value: float | None = None
    threshold: float | None = None
    retrain: bool = False

    @property
    def broken(self) -> bool:
        return self.state == "broken"

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule, "text": self.text, "model": self.model, "state": self.state, "message": self.message,
            "value": self.value, "threshold": self.threshold, "retrain": self.retrain,
        }


def failed_run_results(models: Sequence[str], reason: str) -> list[RuleResult]:
    """The built-in rule, broken: the run did not complete."""
    return [RuleResult(RUN_COMPLETES, RUN_COMPLETES, model, "broken", f"the run failed: {reason}") for model in models]


def completed_run_results(models: Sequence[str]) -> list[RuleResult]:
    return [RuleResult(RUN_COMPLETES, RUN_COMPLETES, model, "ok", "the run completed") for model in models]


class PastRuns:
    """Completed runs of a suite before the one checked, newest first, with a figure reader for each."""

    def __init__(self, runs: Sequence[HistoryRun]) -> None:
        self.runs = [run for run in reversed(runs) if run.status == "complete"]
        self._figures: dict[str, RunFigures | None] = {}

    def _run_figures(self, run: HistoryRun) -> RunFigures | None:
        if run.run_id not in self._figures:
            self._figures[run.run_id] = read_run_figures(Path(run.path))
        return self._figures[run.run_id]

    def values(self, rule: Rule, model: str, window: int) -> list[float]:
        gate = rule.gate
        simple = gate.tag is None and gate.bound in (None, "point")
        values: list[float] = []
        for run in self.runs:
            if len(values) >= window:
                break
            if model not in run.models:
                continue
            value = run.figures.get((model, gate.figure)) if simple else None
            if value is None:
                ctx = self._run_figures(run)
                figure = ctx.figure(gate.figure) if ctx is not None else None
                if ctx is not None and figure is not None:
                    value = ctx.read(figure, model, gate.tag).bound(gate.bound or "point")
            if value is not None:
                values.append(value)
        return values


def read_run_figures(run_dir: Path) -> RunFigures | None:
    """summary.json and run.json of a run directory (not its results), or None when gone or unreadable."""
    try:
        summary = orjson.loads((run_dir / SUMMARY_FILE).read_bytes())
        run = orjson.loads((run_dir / RUN_FILE).read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None
    return RunFigures(summary, run)


def _kind(figure: str) -> Any:
    return FIGURES[figure].kind if figure in FIGURES else "score"


def evaluate_rules(rules: Sequence[Rule], run: RunFigures, past: PastRuns) -> list[RuleResult]:
    """Every rule for every model it applies to in `run` (a completed run)."""
    results: list[RuleResult] = []
    for rule in rules:
        figure = run.figure(rule.figure)
        if figure is None:
            results.append(RuleResult(rule.name, rule.text, rule.gate.model, "broken",
                                      f"{rule.figure} is not in this run", retrain=rule.retrain))
            continue
        if rule.gate.model is not None:
            if rule.gate.model not in run.model_names:
                results.append(RuleResult(rule.name, rule.text, rule.gate.model, "pending",
                                          f"model '{rule.gate.model}' is not in this run", retrain=rule.retrain))
                continue
            models = [rule.gate.model]
        else:
            models = run.default_models(figure)
        if not models:
            why = "no pairwise comparison in this run (give --baseline and a judge)" if figure.per_candidate else "no models"
            results.append(RuleResult(rule.name, rule.text, None, "broken", f"{rule.figure} has no value: {why}",
                                      retrain=rule.retrain))
        for model in models:
            results.append(_evaluate(rule, model, run, past))
    return results


def _evaluate(rule: Rule, model: str, run: RunFigures, past: PastRuns) -> RuleResult:
    kind = _kind(rule.figure)
    gate = replace(rule.gate, model=model, bound=rule.gate.bound or "point")
    basis = ""
    if rule.drift is not None:
        values = past.values(rule, model, rule.drift.window)
        if not values:
            return RuleResult(rule.name, rule.text, model, "pending",
                              f"no earlier completed run with {rule.figure} for '{model}' yet", retrain=rule.retrain)
        median = statistics.median(values)
        gate = replace(gate, threshold=rule.drift.threshold(median))
        basis = f" ({rule.drift.describe(median, len(values), format_value(median, kind), kind == 'fraction')})"
    outcome = evaluate_gates([gate], run)[0]
    comparison = f"{outcome.comparator} {format_value(gate.threshold, kind)}"
    if outcome.value is None:
        message = f"{rule.figure} has no value ({outcome.note}); needs {comparison}{basis}"
    elif outcome.passed:
        message = f"{rule.figure} {outcome.value_text} {comparison}{basis}"
    else:
        message = f"{rule.figure} {outcome.value_text}, not {comparison}{basis}"
        if outcome.note:
            message += f"; {outcome.note}"
    return RuleResult(rule.name, rule.text, model, "ok" if outcome.passed else "broken", message,
                      outcome.value, gate.threshold, rule.retrain)
