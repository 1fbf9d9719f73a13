"""results.csv: one flat row per case x model x repeat, friendly to pandas and spreadsheets."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness.checks.base import check_text

BASE_COLUMNS = [
    "case_id",
    "model",
    "repeat",
    "tags",
    "input",
    "output",
    "reference",
    "passed",
    "error_kind",
    "error",
    "failed_checks",
    "latency_s",
    "prompt_tokens",
    "completion_tokens",
    "cached",
]


def flat_row(record: dict[str, Any]) -> dict[str, Any]:
    """The flat view of a record shared by the CSV and the DataFrame API."""
    error = record.get("error") or {}
    usage = record.get("usage") or {}
    references = record.get("references") or []
    row: dict[str, Any] = {
        "case_id": record["case_id"],
        "model": record["model"],
        "repeat": record.get("repeat", 0),
        "tags": ";".join(record.get("tags", [])),
        "input": record.get("input"),
        "output": record.get("output"),
        "reference": references[0] if references else None,
        "passed": record.get("passed"),
        "error_kind": error.get("kind"),
        "error": error.get("message"),
        "failed_checks": "; ".join(check_text(c) for c in record.get("checks", []) if not c["passed"]),
        "latency_s": record.get("latency_s"),
        "prompt_tokens": usage.get("prompt_tokens"),
        "completion_tokens": usage.get("completion_tokens"),
        "cached": record.get("cached", False),
    }
    for name, value in (record.get("metrics") or {}).items():
        row[f"metric.{name}"] = value
    if record.get("label"):
        row["predicted_label"] = record["label"]["predicted"]
    return row


def write_csv(path: Path, records: Sequence[dict[str, Any]]) -> None:
    rows = [flat_row(r) for r in records]
    extra = sorted({key for row in rows for key in row if key not in BASE_COLUMNS})
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=BASE_COLUMNS + extra, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: ("" if v is None else v) for k, v in row.items()})
