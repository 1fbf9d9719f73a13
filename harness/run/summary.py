"""Aggregates over result records: counts, pass rate, errors, latency, tokens, per model and per tag."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    return float(np.percentile(np.asarray(values, dtype=float), q))


def _rate(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def _block(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    answered = [r for r in records if r.get("error") is None]
    passed = sum(1 for r in answered if r.get("passed"))
    errors = len(records) - len(answered)
    return {
        "results": len(records),
        "answered": len(answered),
        "passed": passed,
        "failed": len(answered) - passed,
        "errors": errors,
        # pass_rate is over answered cases; errors are reported apart in error_rate.
        "pass_rate": _rate(passed, len(answered)),
        "error_rate": _rate(errors, len(records)),
    }


def summarize_model(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    block = _block(records)
    answered = [r for r in records if r.get("error") is None]
    latencies = [float(r["latency_s"]) for r in answered if r.get("latency_s") is not None]
    errors_by_kind = Counter(r["error"]["kind"] for r in records if r.get("error") is not None)
    failing_checks = Counter(
        check["name"] for r in answered for check in r.get("checks", []) if not check["passed"]
    )
    by_tag: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        for tag in record.get("tags", []):
            by_tag.setdefault(tag, []).append(record)
    block.update(
        {
            "cases": len({r["case_id"] for r in records}),
            "cached": sum(1 for r in records if r.get("cached")),
            "errors_by_kind": dict(sorted(errors_by_kind.items())),
            "latency_p50_s": _percentile(latencies, 50),
            "latency_p95_s": _percentile(latencies, 95),
            "prompt_tokens": sum(int((r.get("usage") or {}).get("prompt_tokens") or 0) for r in answered),
            "completion_tokens": sum(int((r.get("usage") or {}).get("completion_tokens") or 0) for r in answered),
            "failing_checks": dict(failing_checks.most_common(20)),
            "by_tag": {tag: _block(group) for tag, group in sorted(by_tag.items())},
        }
    )
    batched = [r for r in answered if r.get("batch")]
    if batched:  # answered through the Batch API: priced at its rate
        block["batch"] = {
            "answered": len(batched),
            "prompt_tokens": sum(int((r.get("usage") or {}).get("prompt_tokens") or 0) for r in batched),
            "completion_tokens": sum(int((r.get("usage") or {}).get("completion_tokens") or 0) for r in batched),
        }
    return block


def summarize(records: Iterable[dict[str, Any]], model_names: Sequence[str]) -> dict[str, Any]:
    """Per-model aggregates, in the order the models were given."""
    grouped: dict[str, list[dict[str, Any]]] = {name: [] for name in model_names}
    for record in records:
        grouped.setdefault(record["model"], []).append(record)
    return {"models": {name: summarize_model(group) for name, group in grouped.items()}}


def errors_line(records: Sequence[dict[str, Any]], judgments: Sequence[dict[str, Any]] = ()) -> str | None:
    """`warning: 3 of 200 answers are errors (...)`: the last line of a run that finished within
    its error budget but not cleanly, so that an exit 0 never hides failed requests."""
    kinds: Counter[str] = Counter()
    sample = ""
    for record in records:
        error = record.get("error")
        if error:
            kinds[error["kind"]] += 1
            sample = sample or " ".join(str(error.get("message") or "").split())[:200]
    judge_failures = sum(1 for line in judgments if _judge_request_failed(line))
    if not kinds and not judge_failures:
        return None
    parts = []
    if kinds:
        listed = ", ".join(f"{kind} {count}" for kind, count in kinds.most_common())
        parts.append(f'{sum(kinds.values())} of {len(records)} answers are errors ({listed}; e.g. "{sample}")')
    if judge_failures:
        parts.append(f"{judge_failures} judgments are invalid because the judge's request failed")
    return "warning: " + "; ".join(parts) + " - within the error budget, so the run completed; errors are not scored"


def _judge_request_failed(line: dict[str, Any]) -> bool:
    reasons = [line.get("invalid")] + [order.get("invalid") for order in line.get("orders") or []]
    return any(isinstance(reason, str) and "judge request failed" in reason for reason in reasons)
