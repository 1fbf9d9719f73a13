"""The summary table printed at the end of `harness run`."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}s"


def print_summary(summary: dict[str, Any], console: Console, title: str | None = None) -> None:
    table = Table(title=title, title_justify="left")
    table.add_column("model", overflow="fold")
    for column in ("results", "passed", "failed", "errors", "pass rate", "p50", "p95", "tokens in/out", "cached"):
        table.add_column(column, justify="right")
    for name, block in summary.get("models", {}).items():
        errors = str(block["errors"])
        if block["errors"]:
            kinds = ", ".join(f"{k} {v}" for k, v in block.get("errors_by_kind", {}).items())
            errors = f"[red]{errors}[/] ({kinds})"
        table.add_row(
            name,
            str(block["results"]),
            str(block["passed"]),
            str(block["failed"]),
            errors,
            _pct(block["pass_rate"]),
            _seconds(block.get("latency_p50_s")),
            _seconds(block.get("latency_p95_s")),
            f"{block.get('prompt_tokens', 0)}/{block.get('completion_tokens', 0)}",
            str(block.get("cached", 0)),
        )
    console.print(table)
