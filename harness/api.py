"""The Python API behind the CLI: run a suite, read a run directory back.

    from harness import run_suite, load_results
    outcome = run_suite("suites/quickstart.yaml", RunOptions(models=["ft:gpt-4o-mini:acme::abc"]))
    frame = load_results(outcome.run_dir)
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

from harness.metrics.stage import skipped_warnings
from harness.models.base import ModelAdapter, RecordedSource
from harness.report.csv_report import flat_row
from harness.run.context import RunContext
from harness.run.options import RunOptions, RunOutcome
from harness.run.pipeline import Stage, run_pipeline
from harness.run.rejudge import RejudgeOptions, prepare_rejudge
from harness.run.stages import GenerateStage, JudgeStage, PrepareStage, ReportStage, ScoreStage
from harness.run.store import RunData
from harness.run.store import load_run as _load_run
from harness.suite.loader import Suite

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["RejudgeOptions", "RunOptions", "RunOutcome", "load_results", "load_run", "rejudge_run", "run_suite"]


def run_suite(suite: str | Path | Suite, options: RunOptions | None = None, console: Console | None = None) -> RunOutcome:
    """Run a suite end to end and write its run directory.

    Raises UsageError/SuiteError before anything is sent, and RunError (with `run_dir` set)
    when the run had to stop; what was answered by then is on disk and in the cache.
    """
    ctx = PrepareStage().prepare(suite, options or RunOptions(), console or Console(stderr=True))
    run_pipeline(ctx, default_stages(ctx))
    return ctx.outcome(_warnings(ctx.records, ctx.adapters))


def default_stages(ctx: RunContext) -> list[Stage]:
    """Generate, score, judge (when the plan has a judge), report."""
    stages: list[Stage] = [GenerateStage(), ScoreStage()]
    if ctx.judge_plan is not None:
        stages.append(JudgeStage())
    stages.append(ReportStage())
    return stages


def rejudge_run(run_dir: str | Path, options: RejudgeOptions | None = None, console: Console | None = None) -> RunOutcome:
    """Judge a finished run again (another judge, template or baseline) without generating anything.

    Writes a new run directory beside the original (or under `options.output_dir`) whose run.json
    links to it. Raises like `run_suite`.
    """
    ctx = prepare_rejudge(run_dir, options or RejudgeOptions(), console or Console(stderr=True))
    # The models are `run:` models: the generate stage reads their recorded answers and sends nothing.
    run_pipeline(ctx, [GenerateStage(), ScoreStage(), JudgeStage(), ReportStage()])
    return ctx.outcome(_warnings(ctx.records, ctx.adapters))


def _warnings(records: list[dict[str, Any]], adapters: dict[str, ModelAdapter]) -> list[str]:
    """Cases a model had no answer for (saved predictions, recorded runs), by id, what adapters add, and
    metrics left out of a case for its size."""
    found: dict[tuple[str, str], list[str]] = {}
    for record in records:
        error = record.get("error")
        if error and error["kind"] in ("missing_prediction", "stale"):
            ids = found.setdefault((record["model"], error["kind"]), [])
            if record["case_id"] not in ids:
                ids.append(record["case_id"])
    lines = []
    for (model, kind), ids in found.items():
        recorded = isinstance(adapters.get(model), RecordedSource)  # a `run:` model
        if kind == "stale":
            what = "cases changed since the run recorded them (stale: not judged; --allow-stale uses them)"
        else:
            what = "cases are not in the recorded run" if recorded else "cases have no prediction"
        shown = ", ".join(ids[:5]) + (", ..." if len(ids) > 5 else "")
        lines.append(f"model '{model}': {len(ids)} {what} ({shown}); counted as errors")
    for adapter in adapters.values():
        if isinstance(adapter, RecordedSource):  # `run:` models: stale answers used with --allow-stale
            lines.extend(adapter.warnings())
    return lines + skipped_warnings(records)


def load_run(path: str | Path) -> RunData:
    """Read a run directory: run.json, results.jsonl records, summary.json."""
    return _load_run(path)


def load_results(path: str | Path) -> pd.DataFrame:
    """A run's results as a pandas DataFrame, one row per case x model x repeat."""
    import pandas as pd

    data = _load_run(path)
    return pd.DataFrame([flat_row(record) for record in data.results])
