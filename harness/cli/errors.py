"""How errors are shown: located problems as `file:line:col: message`, others as `error: message`."""

from __future__ import annotations

import click

from harness.errors import HarnessError, SuiteError


class ReportedLines(HarnessError):
    """Problems already formatted as located lines (e.g. several suites validated together)."""

    def __init__(self, lines: list[str], exit_code: int = 2) -> None:
        super().__init__("\n".join(lines))
        self._lines = lines
        self.exit_code = exit_code

    def lines(self) -> list[str]:
        return self._lines


def report_error(exc: HarnessError) -> None:
    located = isinstance(exc, (SuiteError, ReportedLines))
    for line in exc.lines():
        click.echo(line if located else f"error: {line}", err=True)
    run_dir = getattr(exc, "run_dir", None)
    if run_dir is not None:
        click.echo(f"Partial results: {run_dir}", err=True)
