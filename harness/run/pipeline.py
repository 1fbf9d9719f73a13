"""A run as a pipeline: stage objects applied in order to one `RunContext`.

    ctx = prepare_run(suite, options, console)              # fails before anything is sent
    run_pipeline(ctx, [GenerateStage(), ScoreStage(), JudgeStage(), ReportStage()])

A stage that raises RunError aborts the run; Ctrl-C interrupts it. Either way the stages that
keep what exists (scoring and writing the results, reports) still run, and the others are
skipped, so the run directory always describes what was answered. Engines (direct, Batch API,
Ray) and judging modes are stage implementations, not branches in one function.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Protocol

from harness.errors import RunError, file_problem
from harness.run.context import RunContext
from harness.run.store import release_space


class Stage(Protocol):
    """One step of a run."""

    @property
    def phase(self) -> str:
        """Its key in run.json's `timings` (seconds), e.g. `generate_s`."""
        ...

    @property
    def runs_after_stop(self) -> bool:
        """Whether it still runs after an earlier stage aborted or was interrupted."""
        ...

    def run(self, ctx: RunContext) -> None:
        """Do the stage's work; raise RunError to abort the run."""
        ...

    def skip(self, ctx: RunContext) -> None:
        """Release what the stage holds when it will not run (the run stopped before it)."""
        ...


def run_pipeline(ctx: RunContext, stages: Sequence[Stage]) -> None:
    """Apply the stages in order. Re-raises the run's failure (with `run_dir` set) or the
    interruption once every stage that keeps what exists has run."""
    try:
        _apply(ctx, stages)
    finally:
        release_space(ctx.run_dir)
    if ctx.interrupted:
        interruption = ctx.interruption or KeyboardInterrupt()
        interruption.run_dir = ctx.run_dir  # type: ignore[attr-defined]
        raise interruption
    if ctx.failure is not None:
        ctx.failure.run_dir = ctx.run_dir  # type: ignore[attr-defined]
        raise ctx.failure


def _mark(ctx: RunContext) -> None:
    """run.json says how the run stopped, if the disk lets it; the reason it stopped comes first."""
    try:
        ctx.write_run_info()
    except RunError as exc:
        ctx.abort(exc)


def _apply(ctx: RunContext, stages: Sequence[Stage]) -> None:
    for stage in stages:
        try:
            if ctx.stopped and not stage.runs_after_stop:
                stage.skip(ctx)
            else:
                stage.run(ctx)
        except RunError as exc:
            ctx.abort(exc)
            _mark(ctx)
        except (OSError, sqlite3.Error) as exc:
            # Requests may have gone out: a file the run cannot write means it could not complete.
            where = getattr(exc, "filename", None) or ctx.run_dir
            ctx.abort(RunError(file_problem(exc, where, "write")))
            _mark(ctx)
        except KeyboardInterrupt as exc:
            if ctx.interrupted:  # a second Ctrl-C while keeping what exists: stop now
                raise
            ctx.interrupted = True
            ctx.interruption = exc
            _mark(ctx)
        finally:
            ctx.clock.lap(stage.phase)
