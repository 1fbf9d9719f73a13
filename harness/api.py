"""The Python API behind the CLI: run a suite, read a run directory back.

    from harness import run_suite, load_results
    outcome = run_suite("suites/quickstart.yaml", RunOptions(models=["ft:gpt-4o-mini:acme::abc"]))
    frame = load_results(outcome.run_dir)
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

from harness.report.csv_report import flat_row
from harness.run.cache import default_cache_dir
from harness.run.context import RunContext
from harness.run.options import RunOptions, RunOutcome
from harness.run.pipeline import Stage, run_pipeline
from harness.run.stages import GenerateStage, JudgeStage, PrepareStage, ReportStage, ScoreStage
from harness.run.stages.generate import DirectEngine, GenerationEngine
from harness.run.stages.judge import Judging, StagedJudging
from harness.run.stages.pipelined import PipelinedJudging
from harness.run.store import RunData
from harness.run.store import load_run as _load_run
from harness.suite.loader import Suite

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["RunOptions", "RunOutcome", "load_results", "load_run", "run_suite"]


def run_suite(suite: str | Path | Suite, options: RunOptions | None = None, console: Console | None = None) -> RunOutcome:
    """Run a suite end to end and write its run directory.

    Raises UsageError/SuiteError before anything is sent, and RunError (with `run_dir` set)
    when the run had to stop; what was answered by then is on disk and in the cache.
    """
    ctx = PrepareStage().prepare(suite, options or RunOptions(), console or Console(stderr=True))
    run_pipeline(ctx, default_stages(ctx))
    return ctx.outcome(_warnings(ctx.records))


def default_stages(ctx: RunContext) -> list[Stage]:
    """Generate, score, judge (when the plan has a judge), report.

    The engine is the Batch API's when a model batches (the others still go direct), else the
    direct one. The judge works beside generation (pipelined) unless --no-pipeline, or when it
    gains nothing: a local judge (which wants large batches of its own) or a batched judge
    while the models answer directly (one judge batch after generation is as quick, and fewer).
    """
    engine: GenerationEngine = DirectEngine()
    session = None
    if ctx.batched or ctx.judge_batched:
        from harness.run.batch.engine import BatchEngine
        from harness.run.batch.session import BatchSession

        store = (ctx.options.cache_dir or default_cache_dir()) / "cache.sqlite"  # kept even with --no-cache
        session = BatchSession(store, ctx.run_dir, ctx.console, ctx.options.progress, ctx.run_info)
        if ctx.batched:
            engine = BatchEngine(session, ctx.batched, ctx.cache_path)
    judging: Judging = StagedJudging()
    pipelined: PipelinedJudging | None = None
    plan, judge = ctx.judge_plan, ctx.judge_adapter
    if plan is not None and judge is not None:
        transport = None
        if session is not None and ctx.judge_batched:
            from harness.run.batch.engine import BatchJudgeTransport

            transport = BatchJudgeTransport(session, plan.judge.name, judge, ctx.cache_path)
        gains = bool(ctx.batched) if ctx.judge_batched else judge.capabilities.max_batch_size == 1
        if ctx.options.pipeline and gains:
            judging = pipelined = PipelinedJudging(plan, judge, ctx.cases, ctx.cache_path, transport)
        else:
            judging = StagedJudging(transport)
    stages: list[Stage] = [GenerateStage(engine, pipelined), ScoreStage()]
    if plan is not None:
        stages.append(JudgeStage(judging))
    stages.append(ReportStage())
    return stages


def _warnings(records: list[dict[str, Any]]) -> list[str]:
    missing: dict[str, list[str]] = {}
    for record in records:
        error = record.get("error")
        if error and error["kind"] == "missing_prediction":
            missing.setdefault(record["model"], []).append(record["case_id"])
    lines = []
    for model, ids in missing.items():
        shown = ", ".join(ids[:5]) + (", ..." if len(ids) > 5 else "")
        lines.append(f"model '{model}': {len(ids)} cases have no prediction ({shown}); counted as errors")
    return lines


def load_run(path: str | Path) -> RunData:
    """Read a run directory: run.json, results.jsonl records, summary.json."""
    return _load_run(path)


def load_results(path: str | Path) -> pd.DataFrame:
    """A run's results as a pandas DataFrame, one row per case x model x repeat."""
    import pandas as pd

    data = _load_run(path)
    return pd.DataFrame([flat_row(record) for record in data.results])
