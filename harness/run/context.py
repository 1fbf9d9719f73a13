"""The run context: what the prepare stage decided, and what the later stages add to it.

Stages read and extend one `RunContext` in the order data flows (answers, then scores, then
judgments, then reports). The context also owns the run's status and run.json, so every
stage reports a stop the same way.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console

from harness.errors import RunError, file_problem
from harness.gates.evaluate import GateOutcome
from harness.judging.plan import JudgePlan
from harness.metrics.stage import ScoringStage
from harness.models.base import GenerationResponse, ModelAdapter
from harness.models.resolve import ResolvedModel
from harness.run.options import RunOptions, RunOutcome
from harness.run.plan import WorkItem
from harness.run.reuse import ModelReuse
from harness.run.runner import ErrorBudget
from harness.run.store import RUN_FILE, release_space, utc_now, write_json
from harness.suite.case import Case
from harness.suite.loader import Suite

COMPLETE, ABORTED, INTERRUPTED = "complete", "aborted", "interrupted"


class PhaseClock:
    """Wall-clock seconds per phase, shared with run.json so a slow run shows where time went."""

    def __init__(self) -> None:
        self.timings: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, phase: str) -> None:
        now = time.perf_counter()
        self.timings[phase] = round(now - self._last, 4)
        self._last = now


@dataclass
class RunContext:
    """One run: its inputs (fixed by the prepare stage) and its products (added by later stages)."""

    options: RunOptions
    console: Console
    clock: PhaseClock
    suite: Suite
    cases: list[Case]
    models: list[ResolvedModel]
    judge_plan: JudgePlan | None
    scoring: ScoringStage
    adapters: dict[str, ModelAdapter]
    judge_adapters: dict[str, ModelAdapter]  # by judge name: the one judge, or every judge of a panel
    work: list[WorkItem]
    budget: ErrorBudget
    cache_path: Path | None  # the response cache, or None with --no-cache
    cached: dict[str, GenerationResponse]  # cache hits by work-item key, read before anything is sent
    run_dir: Path
    run_info: dict[str, Any]  # run.json
    batched: set[str] = field(default_factory=set)  # models whose requests go through the Batch API
    judge_batched: bool = False  # the judge's requests too
    judge_reuse: dict[str, ModelReuse] = field(default_factory=dict)  # each judge's cache policy and what it reused
    records: list[dict[str, Any]] = field(default_factory=list)  # results.jsonl, in (model, case, repeat) order
    summary: dict[str, Any] = field(default_factory=dict)  # summary.json
    judgments: list[dict[str, Any]] = field(default_factory=list)  # judgments.jsonl
    gates: list[GateOutcome] = field(default_factory=list)
    failure: RunError | None = None
    interrupted: bool = False
    interruption: KeyboardInterrupt | None = None  # Ctrl-C, or Terminated (SIGTERM): re-raised at the end
    results_failed: bool = False  # results.jsonl could not be written: keep it as it is, do not rewrite it

    @property
    def model_names(self) -> list[str]:
        return [m.name for m in self.models]

    @property
    def stopped(self) -> bool:
        """An earlier stage aborted or was interrupted: later stages only keep and report what exists."""
        return self.failure is not None or self.interrupted

    @property
    def status(self) -> str:
        if self.interrupted:
            return INTERRUPTED
        return ABORTED if self.failure is not None else COMPLETE

    def abort(self, failure: RunError) -> None:
        """Record why the run stopped; the first reason wins."""
        if self.failure is None:
            self.failure = failure

    def write_run_info(self, status: str | None = None) -> None:
        """Write run.json with `status` (default: the run's own status so far, with its end time).

        On a full disk the run directory's space reserve is given back first, so that a run
        stopped by the disk still says `aborted` and why."""
        if status is None:
            self.run_info.update(status=self.status, finished_at=utc_now())
            if self.failure is not None:
                self.run_info["error"] = self.failure.message
        else:
            self.run_info.update(status=status, finished_at=None)
        path = self.run_dir / RUN_FILE
        try:
            write_json(path, self.run_info)
        except OSError as exc:
            if not release_space(self.run_dir):
                raise RunError(file_problem(exc, path, "write")) from None
            try:
                write_json(path, self.run_info)
            except OSError as again:
                raise RunError(file_problem(again, path, "write")) from None

    def outcome(self, warnings: list[str]) -> RunOutcome:
        return RunOutcome(
            self.run_dir, self.status, self.summary, self.records, self.models, warnings, self.gates, self.clock.timings,
            self.judgments,
        )
