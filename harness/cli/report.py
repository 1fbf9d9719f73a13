"""`harness report`: regenerate a run's reports from its directory, without calling any model."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option("--history-dir", type=click.Path(path_type=Path),
              help="Folder of the run history (history.sqlite) to index the run in. Default: the run's parent folder.")
@click.option("--no-history", is_flag=True, help="Do not index the run in the history.")
@click.option("--monthly-requests", type=click.IntRange(min=1), metavar="N",
              help="Project the cost at N requests a month instead of the volume the run recorded.")
def report(run_dir: Path, history_dir: Path | None, no_history: bool, monthly_requests: int | None) -> int:
    """Write report.html, summary.md and junit.xml for RUN_DIR (and refresh summary.json's cost and gates).

    Exit code 0, or 1 when a gate the run recorded fails.
    """
    from harness.errors import EXIT_GATE_FAILED
    from harness.report.finalize import finalize_run

    history = None if no_history else (history_dir or run_dir.resolve().parent)
    outcome = finalize_run(run_dir, history, monthly_requests)
    for path in outcome.files:
        click.echo(str(path))
    return 0 if outcome.gates_passed else EXIT_GATE_FAILED
