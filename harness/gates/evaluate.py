"""Evaluate parsed gates over a run's figures: one outcome per gate and model.

A gate without a model applies to every candidate (every model but the baseline; for win
rates, every candidate that was compared with it), and all must pass. Judge figures use the
conservative one-sided 95 % bound by default (the lower bound for `>=`, the upper for `<=`)
and fail when fewer than the minimum of items were judged validly (default 80 %).
A figure the run lacks fails its gate (fail closed) with the reason; an unknown figure or
model name is a usage error.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from harness.errors import UsageError
from harness.gates.expression import Bound, Gate, GateSyntaxError, parse_gate
from harness.gates.figures import FIGURES, Figure, Reading, RunFigures, format_value
from harness.stats.bounds import best_lower_bound, units_needed

DEFAULT_MIN_VALID = 0.8
BOUND_LABELS: dict[Bound, str] = {
    "point": "point estimate",
    "lower": "95% lower bound",
    "upper": "95% upper bound",
}


@dataclass(frozen=True)
class GateOutcome:
    """One row of the gate table."""

    gate: str
    model: str | None
    figure: str  # figure name with its scope, e.g. "win_rate (tuned vs base)"
    bound: str  # which value was compared
    value: float | None  # the compared value
    point: float | None
    threshold: float
    comparator: str
    kind: str
    passed: bool
    note: str

    @property
    def value_text(self) -> str:
        return format_value(self.value, self.kind)  # type: ignore[arg-type]

    @property
    def threshold_text(self) -> str:
        return f"{self.comparator} {format_value(self.threshold, self.kind)}"  # type: ignore[arg-type]

    def as_dict(self) -> dict[str, Any]:
        return {
            "gate": self.gate,
            "model": self.model,
            "figure": self.figure,
            "bound": self.bound,
            "value": self.value,
            "point": self.point,
            "threshold": self.threshold,
            "comparator": self.comparator,
            "kind": self.kind,
            "passed": self.passed,
            "note": self.note,
        }


def parse_gates(texts: Sequence[str], origin: str = "--gate") -> list[Gate]:
    """Parse gate strings; a bad one is a one-line usage error naming it."""
    gates = []
    for text in texts:
        try:
            gates.append(parse_gate(text))
        except GateSyntaxError as exc:
            raise UsageError(f"{origin} '{text}': {exc}") from None
        problem = check_gate(gates[-1], None)
        if problem:
            raise UsageError(f"{origin} '{text}': {problem}")
    return gates


def _suggest(name: str, known: Sequence[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else f" (known: {', '.join(known)})"


def check_gate(gate: Gate, metric_names: Sequence[str] | None) -> str | None:
    """A static problem of a parsed gate, or None. `metric_names` None accepts any name as a metric."""
    figure = FIGURES.get(gate.figure)
    if figure is None:
        if metric_names is None or gate.figure in metric_names:
            return None
        return f"unknown figure '{gate.figure}'{_suggest(gate.figure, [*FIGURES, *metric_names])}"
    if figure.kind == "fraction" and not gate.percent and not 0 <= gate.threshold <= 1:
        shown = f"{gate.threshold:g}"
        return f"{gate.figure} is a fraction between 0 and 1: write {gate.threshold / 100:g} or {shown}%"
    if gate.min_valid is not None and not figure.judged:
        judged = ", ".join(name for name, known in FIGURES.items() if known.judged)
        return f"min_valid applies to LLM-judge figures ({judged}), not {gate.figure}"
    if gate.bound in ("lower", "upper") and figure.kind in ("seconds", "money"):
        return f"{gate.figure} has no confidence bounds: drop .{gate.bound}"
    return None


def _bound_for(gate: Gate, figure: Figure) -> Bound:
    if gate.bound is not None:
        return gate.bound
    if figure.judged and gate.comparator in (">", ">="):
        return "lower"
    if figure.judged and gate.comparator in ("<", "<="):
        return "upper"
    return "point"


def _min_valid_problem(gate: Gate, reading: Reading) -> str | None:
    if reading.items is None or reading.valid is None:
        return None
    needed = gate.min_valid if gate.min_valid is not None else DEFAULT_MIN_VALID
    if needed <= 1:
        if reading.items == 0 or reading.valid / reading.items < needed:
            share = reading.valid / reading.items if reading.items else 0.0
            return (
                f"only {reading.valid}/{reading.items} items judged validly ({100 * share:.0f}% < {100 * needed:.0f}%)"
            )
    elif reading.valid < needed:
        return f"only {reading.valid} valid judgments (< {needed:.0f})"
    return None


def _outcome(gate: Gate, figure: Figure, model: str | None, reading: Reading | None) -> GateOutcome:
    bound = _bound_for(gate, figure)
    scope = model or "-"
    if reading is not None and reading.versus:
        scope = f"{model} vs {reading.versus}"
    if gate.tag:
        scope += f", tag {gate.tag}"

    def row(value: float | None, passed: bool, note: str) -> GateOutcome:
        return GateOutcome(
            gate=gate.text, model=model, figure=f"{gate.figure} ({scope})", bound=BOUND_LABELS[bound], value=value,
            point=reading.point if reading is not None else None, threshold=gate.threshold,
            comparator=gate.comparator, kind=figure.kind, passed=passed, note=note,
        )

    if reading is None:
        if figure.per_candidate and figure.section == "pairwise":
            return row(None, False, "no pairwise comparison in this run (give --baseline and a judge)")
        if figure.per_candidate:
            return row(None, False, "no baseline in this run to compare with (give --baseline)")
        return row(None, False, "no models in this run")
    if reading.point is None:
        return row(None, False, reading.missing or "no value")
    if figure.judged:
        problem = _min_valid_problem(gate, reading)
        if problem:
            return row(reading.bound(bound), False, problem)
    value = reading.bound(bound)
    if value is None:
        return row(None, False, f"no {BOUND_LABELS[bound]} for {gate.figure}")
    notes = []
    if bound != "point":
        notes.append(f"point {format_value(reading.point, figure.kind)}")
    if figure.judged and reading.valid is not None:
        notes.append(f"n={reading.valid}" + (f"/{reading.items}" if reading.items is not None else ""))
    passed = gate.holds(value)
    if not passed and bound != "point":
        too_few = _too_few(gate, figure, reading, bound)
        if too_few:
            notes.append(too_few)
    return row(value, passed, ", ".join(notes))


def _too_few(gate: Gate, figure: Figure, reading: Reading, bound: Bound) -> str | None:
    """When no outcome of this many units could clear the threshold: how many would be needed.

    The best a lower bound can be is every unit at the top of the range, where the bound is
    alpha ** (1/n) of the range (the exact binomial bound); likewise for an upper bound.
    """
    units = reading.units if reading.units is not None else reading.valid
    if reading.range is None or not units:
        return None
    low, high = reading.range
    share = (gate.threshold - low) / (high - low)
    lower = bound == "lower"
    if (lower and gate.comparator not in (">", ">=")) or (not lower and gate.comparator not in ("<", "<=")):
        return None
    target = share if lower else 1.0 - share
    strict = gate.comparator in (">", "<")
    best = best_lower_bound(units)
    if (best > target) if strict else (best >= target):
        return None  # enough units: the outcome, not the sample size, decided
    needed = units_needed(target, strict)
    best_value = low + (high - low) * (best if lower else 1.0 - best)
    unit = "cases" if reading.units is not None and reading.valid is not None and reading.units < reading.valid else "valid items"
    reach = "at most" if lower else "at least"
    if needed is None:
        return f"no number of {unit} can bring the {BOUND_LABELS[bound]} to {format_value(gate.threshold, figure.kind)}"
    return (
        f"too few {unit}: with {units}, even a perfect result gives a {BOUND_LABELS[bound]} of {reach} "
        f"{format_value(best_value, figure.kind)}; at least {needed} {unit} are needed"
    )


def evaluate_gates(gates: Sequence[Gate], ctx: RunFigures) -> list[GateOutcome]:
    """Every gate against the run; raises UsageError for a figure or model the run cannot have."""
    outcomes: list[GateOutcome] = []
    for gate in gates:
        figure = ctx.figure(gate.figure)
        if figure is None:
            known = [*FIGURES, *ctx.metric_names()]
            raise UsageError(f"gate '{gate.text}': unknown figure '{gate.figure}' in this run{_suggest(gate.figure, known)}")
        if gate.model is not None:
            if gate.model not in ctx.model_names:
                raise UsageError(
                    f"gate '{gate.text}': model '{gate.model}' is not in this run (models: {', '.join(ctx.model_names)})"
                )
            models: list[str] = [gate.model]
        else:
            models = ctx.default_models(figure)
        if not models:
            outcomes.append(_outcome(gate, figure, None, None))
        for model in models:
            outcomes.append(_outcome(gate, figure, model, ctx.read(figure, model, gate.tag)))
    return outcomes


def run_gate_texts(run: dict[str, Any]) -> list[str]:
    """The gate expressions a run recorded in run.json (the suite's and the CLI's)."""
    return [str(text) for text in run.get("gates") or []]


def gates_passed(outcomes: Sequence[GateOutcome]) -> bool:
    return all(outcome.passed for outcome in outcomes)


__all__ = [
    "DEFAULT_MIN_VALID",
    "GateOutcome",
    "check_gate",
    "evaluate_gates",
    "gates_passed",
    "parse_gates",
    "run_gate_texts",
]
