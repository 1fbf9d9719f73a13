"""The report stage: derived figures, gates, report.html / summary.md / junit.xml and the history
entry, all read back from the run directory (the same code as `harness report RUN`). After a
stop it is best effort: the reason the run stopped is what the user must see."""

from __future__ import annotations

from harness.errors import HarnessError, RunError, file_problem
from harness.report.finalize import finalize_run
from harness.run.context import RunContext
from harness.run.store import load_run


class ReportStage:
    phase = "report_s"
    runs_after_stop = True

    def run(self, ctx: RunContext) -> None:
        history_dir = ctx.options.output_dir if ctx.options.history else None
        try:
            ctx.gates = finalize_run(ctx.run_dir, history_dir).gates
        except (HarnessError, OSError) as exc:
            if ctx.stopped:
                return
            # Requests went out: a report or history file that cannot be written means the run
            # could not complete (exit 3), whatever the error would mean before sending.
            if isinstance(exc, OSError):
                raise RunError(file_problem(exc, exc.filename or ctx.run_dir, "write")) from None
            raise exc if isinstance(exc, RunError) else RunError(exc.message) from None
        ctx.summary = load_run(ctx.run_dir).summary or ctx.summary

    def skip(self, ctx: RunContext) -> None:
        pass
