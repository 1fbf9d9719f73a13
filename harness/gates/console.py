"""The gate table printed by `harness run --gate` and `harness gate`: one row per gate and model."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from harness.gates.evaluate import GateOutcome


def print_gates(outcomes: Sequence[GateOutcome], console: Console) -> None:
    if not outcomes:
        return
    failed = sum(1 for o in outcomes if not o.passed)
    title = "gates: all passed" if not failed else f"gates: {failed} of {len(outcomes)} failed"
    table = Table(title=title, title_justify="left")
    table.add_column("result")
    table.add_column("gate", overflow="fold")
    table.add_column("figure", overflow="fold")
    table.add_column("bound used")
    table.add_column("value", justify="right")
    table.add_column("threshold", justify="right")
    table.add_column("note", overflow="fold")
    for outcome in outcomes:
        table.add_row(
            "[green]PASS[/]" if outcome.passed else "[bold red]FAIL[/]",
            escape(outcome.gate),
            escape(outcome.figure),
            outcome.bound,
            outcome.value_text,
            escape(outcome.threshold_text),
            escape(outcome.note),
        )
    console.print(table)
