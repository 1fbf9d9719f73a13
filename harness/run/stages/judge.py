"""The judge stage: the judging plan applied to the answers, written to judgments.jsonl, with
the judging blocks added to summary.json. Skipped when generation stopped: judging half a run
would compare models on different cases."""

from __future__ import annotations

from harness.judging.stage import close_unused, run_judging
from harness.judging.summary import judging_summary
from harness.run.context import RunContext
from harness.run.store import JUDGMENTS_FILE, SUMMARY_FILE, write_json, write_jsonl


class JudgeStage:
    phase = "judge_s"
    runs_after_stop = False

    def run(self, ctx: RunContext) -> None:
        plan, adapter = ctx.judge_plan, ctx.judge_adapter
        if plan is None or adapter is None:
            return
        ctx.write_run_info("judging")
        ctx.judgments = run_judging(
            plan, adapter, ctx.records, ctx.cases, ctx.cache_path, ctx.console, ctx.options.progress,
            ctx.options.max_errors,
        )
        write_jsonl(ctx.run_dir / JUDGMENTS_FILE, ctx.judgments)
        ctx.summary.update(judging_summary(ctx.judgments, plan.config.resamples, plan.config.seed))
        write_json(ctx.run_dir / SUMMARY_FILE, ctx.summary)
        ctx.write_run_info()

    def skip(self, ctx: RunContext) -> None:
        if ctx.judge_adapter is not None:
            close_unused(ctx.judge_adapter)
