"""The judge stage: the judging plan applied to the answers, written to judgments.jsonl, with
the judging blocks added to summary.json. Skipped when generation stopped: judging half a run
would compare models on different cases.

How the judgments are obtained is a `Judging` strategy: `StagedJudging` judges every item
after generation (directly, or through transports such as the Batch API);
`PipelinedJudging` (harness/run/stages/pipelined.py) has judged them beside generation already.
Either way each judge's cached verdicts are reused by its cache policy (`ctx.judge_reuse`,
harness/run/reuse.py), and what was reused is stated on the console and in run.json.
"""

from __future__ import annotations

import time
from typing import Any, Protocol

from harness.judging.stage import JudgeActivity, Transports, close_unused, run_judging
from harness.judging.summary import judging_summary, ranking_setup
from harness.run.context import RunContext
from harness.run.reuse import judge_cache_entries
from harness.run.store import JUDGMENTS_FILE, SUMMARY_FILE, write_json, write_jsonl


class Judging(Protocol):
    """Where the judge stage's judgments come from."""

    def judgments(self, ctx: RunContext, activity: JudgeActivity) -> list[dict[str, Any]]:
        """The judgments.jsonl lines, counting each judge's requests in `activity`; raise RunError
        when a judge failed."""
        ...

    def release(self, ctx: RunContext) -> None:
        """Release the judges when the stage will not run."""
        ...


class StagedJudging:
    """Every item judged once generation is over, one grading kind after the other."""

    def __init__(self, transports: Transports | None = None) -> None:
        self.transports = transports  # by judge name, for judges not called directly (the Batch API)

    def judgments(self, ctx: RunContext, activity: JudgeActivity) -> list[dict[str, Any]]:
        plan = ctx.judge_plan
        assert plan is not None
        return run_judging(plan, ctx.judge_adapters, ctx.records, ctx.cases, ctx.cache_path, ctx.console,
                           ctx.options.progress, activity, self.transports, ctx.judge_reuse, ctx.options.max_errors)

    def release(self, ctx: RunContext) -> None:
        if ctx.judge_adapters:
            close_unused(ctx.judge_adapters)


class JudgeStage:
    phase = "judge_s"
    runs_after_stop = False

    def __init__(self, judging: Judging | None = None) -> None:
        self.judging = judging or StagedJudging()

    def run(self, ctx: RunContext) -> None:
        plan, adapters = ctx.judge_plan, ctx.judge_adapters
        if plan is None or not adapters:
            return
        ctx.write_run_info("judging")
        activity = JudgeActivity()
        try:
            ctx.judgments = self.judging.judgments(ctx, activity)
        finally:
            judge = ctx.run_info.get("judge")
            if judge is not None:
                judge["activity"] = activity.describe()
                _state_reuse(ctx, judge)
        write_jsonl(ctx.run_dir / JUDGMENTS_FILE, ctx.judgments)
        ctx.summary.update(judging_summary(
            ctx.judgments, plan.config.resamples, plan.config.seed, ranking=ranking_setup(plan),
        ))
        write_json(ctx.run_dir / SUMMARY_FILE, ctx.summary)
        ctx.write_run_info()

    def skip(self, ctx: RunContext) -> None:
        self.judging.release(ctx)


def _state_reuse(ctx: RunContext, judge: dict[str, Any]) -> None:
    """run.json's `judge.cache` and one console line per judge that reused cached verdicts."""
    if ctx.cache_path is None or not ctx.judge_reuse:
        return
    now = time.time()
    judge["cache"] = judge_cache_entries(ctx.judge_reuse, now)
    for name, state in ctx.judge_reuse.items():
        line = state.line(name, None, now, "judgments")
        if line:
            ctx.console.print(line, markup=False, highlight=False, soft_wrap=True)
