"""The judge stage: the judging plan applied to the answers, written to judgments.jsonl, with
the judging blocks added to summary.json. Skipped when generation stopped: judging half a run
would compare models on different cases.

How the judgments are obtained is a `Judging` strategy: `StagedJudging` judges every item
after generation (directly, or through a transport such as the Batch API);
`PipelinedJudging` (harness/run/stages/pipelined.py) has judged them beside generation already.
"""

from __future__ import annotations

from typing import Any, Protocol

from harness.judging.caller import JudgeTransport
from harness.judging.stage import close_unused, run_judging
from harness.judging.summary import judging_summary
from harness.run.context import RunContext
from harness.run.store import JUDGMENTS_FILE, SUMMARY_FILE, write_json, write_jsonl


class Judging(Protocol):
    """Where the judge stage's judgments come from."""

    def judgments(self, ctx: RunContext) -> list[dict[str, Any]]:
        """The judgments.jsonl lines; raise RunError when the judge failed."""
        ...

    def release(self, ctx: RunContext) -> None:
        """Release the judge when the stage will not run."""
        ...


class StagedJudging:
    """Every item judged once generation is over, one grading kind after the other."""

    def __init__(self, transport: JudgeTransport | None = None) -> None:
        self.transport = transport

    def judgments(self, ctx: RunContext) -> list[dict[str, Any]]:
        plan, adapter = ctx.judge_plan, ctx.judge_adapter
        assert plan is not None and adapter is not None
        return run_judging(plan, adapter, ctx.records, ctx.cases, ctx.cache_path, ctx.console, ctx.options.progress,
                           self.transport)

    def release(self, ctx: RunContext) -> None:
        if ctx.judge_adapter is not None:
            close_unused(ctx.judge_adapter)


class JudgeStage:
    phase = "judge_s"
    runs_after_stop = False

    def __init__(self, judging: Judging | None = None) -> None:
        self.judging = judging or StagedJudging()

    def run(self, ctx: RunContext) -> None:
        plan = ctx.judge_plan
        if plan is None or ctx.judge_adapter is None:
            return
        ctx.write_run_info("judging")
        ctx.judgments = self.judging.judgments(ctx)
        write_jsonl(ctx.run_dir / JUDGMENTS_FILE, ctx.judgments)
        ctx.summary.update(judging_summary(ctx.judgments, plan.config.resamples, plan.config.seed))
        write_json(ctx.run_dir / SUMMARY_FILE, ctx.summary)
        ctx.write_run_info()

    def skip(self, ctx: RunContext) -> None:
        self.judging.release(ctx)
