"""The judge stage: the judging plan applied to the answers, written to judgments.jsonl, with
the judging blocks added to summary.json. Skipped when generation stopped: judging half a run
would compare models on different cases."""

from __future__ import annotations

from harness.judging.stage import JudgeActivity, close_unused, run_judging
from harness.judging.summary import judging_summary, ranking_setup
from harness.run.context import RunContext
from harness.run.store import JUDGMENTS_FILE, SUMMARY_FILE, write_json, write_jsonl


class JudgeStage:
    phase = "judge_s"
    runs_after_stop = False

    def run(self, ctx: RunContext) -> None:
        plan, adapters = ctx.judge_plan, ctx.judge_adapters
        if plan is None or not adapters:
            return
        ctx.write_run_info("judging")
        activity = JudgeActivity()
        try:
            ctx.judgments = run_judging(
                plan, adapters, ctx.records, ctx.cases, ctx.cache_path, ctx.console, ctx.options.progress, activity,
                ctx.options.max_errors,
            )
        finally:
            if ctx.run_info.get("judge") is not None:
                ctx.run_info["judge"]["activity"] = activity.describe()
        write_jsonl(ctx.run_dir / JUDGMENTS_FILE, ctx.judgments)
        ctx.summary.update(judging_summary(
            ctx.judgments, plan.config.resamples, plan.config.seed, ranking=ranking_setup(plan),
        ))
        write_json(ctx.run_dir / SUMMARY_FILE, ctx.summary)
        ctx.write_run_info()

    def skip(self, ctx: RunContext) -> None:
        if ctx.judge_adapters:
            close_unused(ctx.judge_adapters)
