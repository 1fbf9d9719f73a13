"""The Python API behind the CLI: run a suite, read a run directory back.

    from harness import run_suite, load_results
    outcome = run_suite("suites/quickstart.yaml", RunOptions(models=["ft:gpt-4o-mini:acme::abc"]))
    frame = load_results(outcome.run_dir)
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console

from harness.report.csv_report import flat_row
from harness.run.compose import default_stages, run_warnings
from harness.run.options import RunOptions, RunOutcome
from harness.run.pipeline import run_pipeline
from harness.run.rejudge import RejudgeOptions, prepare_rejudge
from harness.run.stages import PrepareStage
from harness.run.store import RunData
from harness.run.store import load_run as _load_run
from harness.suite.loader import Suite
from harness.terminal import make_console

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["RejudgeOptions", "RunOptions", "RunOutcome", "load_results", "load_run", "rejudge_run", "run_suite"]


def run_suite(suite: str | Path | Suite, options: RunOptions | None = None, console: Console | None = None) -> RunOutcome:
    """Run a suite end to end and write its run directory.

    Raises UsageError/SuiteError before anything is sent, and RunError (with `run_dir` set)
    when the run had to stop; what was answered by then is on disk and in the cache.
    """
    ctx = PrepareStage().prepare(suite, options or RunOptions(), console or make_console(stderr=True))
    run_pipeline(ctx, default_stages(ctx))
    return ctx.outcome(run_warnings(ctx.records, ctx.adapters))


def rejudge_run(run_dir: str | Path, options: RejudgeOptions | None = None, console: Console | None = None) -> RunOutcome:
    """Judge a finished run again (another judge, template or baseline) without generating anything.

    Writes a new run directory beside the original (or under `options.output_dir`) whose run.json
    links to it. Raises like `run_suite`.
    """
    ctx = prepare_rejudge(run_dir, options or RejudgeOptions(), console or make_console(stderr=True))
    # The models are `run:` models: the generate stage reads their recorded answers and sends nothing;
    # the judge is chosen as for a run (its batches, pipelining).
    run_pipeline(ctx, default_stages(ctx))
    return ctx.outcome(run_warnings(ctx.records, ctx.adapters))


def load_run(path: str | Path) -> RunData:
    """Read a run directory: run.json, results.jsonl records, summary.json."""
    return _load_run(path)


def load_results(path: str | Path) -> pd.DataFrame:
    """A run's results as a pandas DataFrame, one row per case x model x repeat."""
    import pandas as pd

    data = _load_run(path)
    return pd.DataFrame([flat_row(record) for record in data.results])
