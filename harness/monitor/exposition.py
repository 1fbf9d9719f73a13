"""`harness history SUITE --prometheus`: the gauges `harness monitor` would export, from the history."""

from __future__ import annotations

from pathlib import Path

import click

from harness.errors import UsageError
from harness.monitor.rules import Rule


def _suite_rules(value: str) -> list[Rule]:
    """The monitor rules of SUITE when it is a suite file that has them (located errors as for any suite)."""
    path = Path(value)
    if path.suffix not in (".yaml", ".yml") or not path.is_file():
        return []
    from harness.monitor.rules import parse_rules
    from harness.suite.loader import load_suite

    spec = load_suite(path).spec
    if spec is None or spec.monitor is None:
        return []
    return parse_rules(spec.monitor)


def print_history_exposition(suite: str, name: str, directory: Path, models: list[str]) -> int:
    from harness.monitor.metrics import exposition
    from harness.monitor.service import snapshot_from_history
    from harness.report.history import suites

    snapshot = snapshot_from_history(directory, name, models or None, _suite_rules(suite))
    if snapshot is None:
        known = ", ".join(n for n, _ in suites(directory)) or "none"
        raise UsageError(f"no runs of suite '{name}' under {directory} (suites: {known})")
    click.echo(exposition(snapshot), nl=False)
    return 0
