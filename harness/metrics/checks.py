"""Metric thresholds as case checks: `{metric: rougeL, min: 0.4}`.

They need the case's scores, so the scoring stage evaluates them after generation, appends
their results to the record's `checks` and recomputes `passed` (errored records keep None).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from harness.suite.schema import CheckSpec


def _bounds(spec: CheckSpec) -> str:
    if spec.min is not None and spec.max is not None:
        return f"in [{spec.min:g}, {spec.max:g}]"
    return f">= {spec.min:g}" if spec.min is not None else f"<= {spec.max:g}"


def check_name(spec: CheckSpec) -> str:
    return spec.name or f"{spec.metric} {_bounds(spec)}"


def evaluate_check(spec: CheckSpec, metrics: dict[str, float], skipped: dict[str, str] | None = None) -> dict[str, Any]:
    """The check's result as results.jsonl stores it: name, passed, reason."""
    metric = spec.metric or ""
    value = metrics.get(metric)
    if value is None:
        why = f" ({skipped[metric]})" if skipped and metric in skipped else ""
        return {"name": check_name(spec), "passed": False, "reason": f"{metric} was not computed for this case{why}"}
    shown = f"{metric} = {value:.4g}"
    if spec.min is not None and value < spec.min:
        return {"name": check_name(spec), "passed": False, "reason": f"{shown}, below the minimum {spec.min:g}"}
    if spec.max is not None and value > spec.max:
        return {"name": check_name(spec), "passed": False, "reason": f"{shown}, above the maximum {spec.max:g}"}
    return {"name": check_name(spec), "passed": True, "reason": f"{shown} ({_bounds(spec)})"}


def apply_metric_checks(records: Sequence[dict[str, Any]], checks_by_case: dict[str, list[CheckSpec]]) -> None:
    for record in records:
        specs = checks_by_case.get(record["case_id"])
        if not specs or record.get("error") is not None:
            continue
        metrics = record.get("metrics") or {}
        skipped = record.get("metrics_skipped")
        record["checks"] = [*record.get("checks", []), *(evaluate_check(spec, metrics, skipped) for spec in specs)]
        record["passed"] = all(check["passed"] for check in record["checks"])
