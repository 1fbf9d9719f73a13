"""The score stage: reference metrics and metric checks on the answers, then results.jsonl,
summary.json and results.csv. It also runs after a stop, so a run directory always holds
what was answered; after Ctrl-C it only writes (scoring could take long)."""

from __future__ import annotations

from harness.errors import RunError, file_problem
from harness.report.csv_report import write_csv
from harness.run.context import RunContext
from harness.run.store import CSV_FILE, RESULTS_FILE, SUMMARY_FILE, write_json, write_jsonl
from harness.run.summary import summarize


class ScoreStage:
    phase = "score_s"
    runs_after_stop = True

    def run(self, ctx: RunContext) -> None:
        try:
            if not ctx.interrupted:
                ctx.scoring.score(ctx.records)
        except RunError as exc:  # an `evaluate` module failed on the outputs
            ctx.abort(exc)
        ctx.summary = summarize(ctx.records, ctx.model_names)
        ctx.scoring.add_to_summary(ctx.summary, ctx.records)
        target = ctx.run_dir / SUMMARY_FILE
        try:
            write_json(target, ctx.summary)
            # When results.jsonl could not be written, the disk that refused it would refuse a
            # rewrite and a CSV copy too: it stays as appended, every whole line a record.
            if not ctx.results_failed:
                target = ctx.run_dir / RESULTS_FILE
                write_jsonl(target, ctx.records)
                target = ctx.run_dir / CSV_FILE
                write_csv(target, ctx.records)
        except OSError as exc:
            ctx.abort(RunError(file_problem(exc, target, "write")))
        ctx.write_run_info()

    def skip(self, ctx: RunContext) -> None:
        pass
