"""Which stage objects a run is made of: the engine that answers, how the judge works, in data order.

`harness.api` composes these for `run_suite` and `rejudge_run`; the choice lives here so the
API module stays a thin entry point and new engines or judging modes are added in one place.
"""

from __future__ import annotations

from typing import Any

from harness.judging.caller import JudgeTransport
from harness.metrics.stage import skipped_warnings
from harness.models.base import ModelAdapter, RecordedSource
from harness.models.cache import default_cache_dir
from harness.run.context import RunContext
from harness.run.pipeline import Stage
from harness.run.stages import GenerateStage, JudgeStage, ReportStage, ScoreStage
from harness.run.stages.generate import DirectEngine, GenerationEngine
from harness.run.stages.judge import Judging, StagedJudging
from harness.run.stages.pipelined import PipelinedJudging


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
    plan, judges = ctx.judge_plan, ctx.judge_adapters
    if plan is not None and judges:
        transports: dict[str, JudgeTransport] = {}
        if session is not None and ctx.judge_batched:
            from harness.run.batch.engine import BatchJudgeTransport

            transports = {name: BatchJudgeTransport(session, name, adapter, ctx.cache_path) for name, adapter in judges.items()}
        remote = all(adapter.capabilities.max_batch_size == 1 for adapter in judges.values())
        gains = bool(ctx.batched) if ctx.judge_batched else remote
        if ctx.options.pipeline and gains:
            judging = pipelined = PipelinedJudging(
                plan, judges, ctx.cases, ctx.cache_path, transports, ctx.judge_reuse, ctx.options.max_errors
            )
        else:
            judging = StagedJudging(transports)
    stages: list[Stage] = [GenerateStage(engine, pipelined), ScoreStage()]
    if plan is not None:
        stages.append(JudgeStage(judging))
    stages.append(ReportStage())
    return stages


def run_warnings(records: list[dict[str, Any]], adapters: dict[str, ModelAdapter]) -> list[str]:
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
