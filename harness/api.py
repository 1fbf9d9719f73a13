"""The Python API behind the CLI: run a suite, read a run directory back.

    from harness import run_suite, load_results
    outcome = run_suite("suites/quickstart.yaml", RunOptions(models=["ft:gpt-4o-mini:acme::abc"]))
    frame = load_results(outcome.run_dir)
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

from harness import __version__
from harness.errors import HarnessError, RunError, UsageError
from harness.gates.evaluate import GateOutcome
from harness.gates.validate import gates_for_run
from harness.judging.setup import JudgePlan, plan_models
from harness.judging.stage import close_unused, run_judging
from harness.judging.summary import judging_summary
from harness.metrics.stage import ScoringStage
from harness.models.base import GenerationResponse, ModelAdapter
from harness.models.registry import AdapterSettings, build_adapters
from harness.models.resolve import ResolvedModel
from harness.report.csv_report import flat_row, write_csv
from harness.report.finalize import finalize_run
from harness.run.cache import ResponseCache, default_cache_dir, request_key
from harness.run.environment import environment
from harness.run.plan import WorkItem, build_work, select_cases
from harness.run.progress import show_progress
from harness.run.runner import ErrorBudget, ModelCounters, RunState, run_requests
from harness.run.sink import ResultSink
from harness.run.store import (
    CSV_FILE,
    JUDGMENTS_FILE,
    RESULTS_FILE,
    RUN_FILE,
    SUMMARY_FILE,
    RunData,
    create_run_dir,
    utc_now,
    write_json,
    write_jsonl,
)
from harness.run.store import load_run as _load_run
from harness.run.summary import summarize
from harness.suite.case import Case
from harness.suite.loader import Suite, load_suite

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["RunOptions", "RunOutcome", "load_results", "load_run", "run_suite"]


@dataclass
class RunOptions:
    """Everything `harness run` can be told, with the CLI's defaults."""

    models: list[str] = field(default_factory=list)
    output_dir: Path = Path("reports")
    concurrency: int = 32
    limit: int | None = None
    filters: list[str] = field(default_factory=list)
    repeat: int = 1
    use_cache: bool = True
    cache_dir: Path | None = None
    max_errors: str | None = None
    timeout: float = 60.0
    max_retries: int = 4
    progress: bool = True
    gates: list[str] = field(default_factory=list)  # gate expressions added to the suite's `gates:`
    history: bool = True  # index the run in output_dir/history.sqlite
    monthly_requests: int | None = None  # request volume for the cost projection (overrides the suite's)
    baseline: str | None = None  # model name or spec the others are compared with (added to models if absent)
    judge: str | None = None  # judge model spec or suite model name; overrides the suite's judge.model
    allow_stale: bool = False  # `run:` models: use recorded answers to cases that changed since
    allow_other_suite: bool = False  # `run:` models: accept a recording made from a suite of another name


@dataclass
class RunOutcome:
    run_dir: Path
    status: str  # complete | aborted | interrupted
    summary: dict[str, Any]
    records: list[dict[str, Any]]
    models: list[ResolvedModel]
    warnings: list[str] = field(default_factory=list)
    gates: list[GateOutcome] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)  # seconds per phase of the run

    @property
    def gates_passed(self) -> bool:
        return all(gate.passed for gate in self.gates)


def _model_entry(model: ResolvedModel, adapter: ModelAdapter) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": model.name,
        "spec": model.spec.raw,
        "kind": model.spec.kind,
        "base_model": model.spec.base_model,
        "adapters": list(model.spec.adapters),
        "fingerprint": adapter.fingerprint,
        "generation": model.generation.request_dict(),
    }
    describe = getattr(adapter, "describe", None)
    if callable(describe):  # `run:` models: which recording they read
        entry["recorded"] = describe()
        entry["base_model"] = entry["recorded"].get("base_model") or entry["base_model"]
    return entry


def _attach_cache_keys(work: list[WorkItem], adapters: dict[str, ModelAdapter]) -> None:
    for item in work:
        adapter = adapters[item.model]
        if adapter.capabilities.cacheable:
            item.request_fingerprint = adapter.fingerprint
            item.key = request_key(adapter.fingerprint, item.request)


_ERROR_WARNINGS = {
    "missing_prediction": "cases have no prediction or recorded answer",
    "stale": "cases changed since the run recorded them (stale: not judged; --allow-stale uses them)",
}


def _warnings(records: list[dict[str, Any]], adapters: dict[str, ModelAdapter]) -> list[str]:
    """Cases a model had no answer for (saved predictions, recorded runs), by id."""
    found: dict[tuple[str, str], list[str]] = {}
    for record in records:
        error = record.get("error")
        if error and error["kind"] in _ERROR_WARNINGS:
            ids = found.setdefault((record["model"], error["kind"]), [])
            if record["case_id"] not in ids:
                ids.append(record["case_id"])
    lines = []
    for (model, kind), ids in found.items():
        shown = ", ".join(ids[:5]) + (", ..." if len(ids) > 5 else "")
        lines.append(f"model '{model}': {len(ids)} {_ERROR_WARNINGS[kind]} ({shown}); counted as errors")
    for adapter in adapters.values():
        extra = getattr(adapter, "warnings", None)
        if callable(extra):
            lines.extend(extra())
    return lines


async def _generate(
    adapters: dict[str, ModelAdapter],
    pending: dict[str, list[WorkItem]],
    state: RunState,
    sink: ResultSink,
    console: Console,
    show: bool,
) -> None:
    try:
        async with show_progress(state.counters, console, show):
            await run_requests(adapters, pending, state, sink.put)
    finally:
        for adapter in adapters.values():
            await adapter.aclose()


def _warn_contamination(suite: Suite, cases: list[Case], console: Console) -> None:
    """One `warning:` line when the suite's own `training_data` contains some of its cases."""
    declared = suite.spec.training_data if suite.spec is not None else []
    if declared:
        from harness.data.contamination import run_warning

        warning = run_warning(suite.path, declared, cases, suite.name)
        if warning:
            console.print(f"warning: {warning}", markup=False, highlight=False, soft_wrap=True)


def run_suite(suite: str | Path | Suite, options: RunOptions | None = None, console: Console | None = None) -> RunOutcome:
    """Run a suite end to end and write its run directory.

    Raises UsageError/SuiteError before anything is sent, and RunError (with `run_dir` set)
    when the run had to stop; what was answered by then is on disk and in the cache.
    """
    options = options or RunOptions()
    console = console or Console(stderr=True)
    clock = _PhaseClock()
    if options.repeat < 1:
        raise UsageError("--repeat must be at least 1")
    if options.concurrency < 1:
        raise UsageError("--concurrency must be at least 1")
    loaded = suite if isinstance(suite, Suite) else load_suite(suite)
    cases = select_cases(loaded.cases, options.filters, options.limit)
    if not cases:
        raise UsageError(f"no case matches --filter {' '.join(options.filters)} in {loaded.path}")
    models, judge_plan = plan_models(loaded, cases, options.models, options.baseline, options.judge)
    _warn_contamination(loaded, cases, console)
    settings = AdapterSettings(
        concurrency=options.concurrency, timeout=options.timeout, max_retries=options.max_retries, suite_name=loaded.name,
        allow_other_suite=options.allow_other_suite, allow_stale=options.allow_stale,
    )
    gate_texts, gate_warnings = gates_for_run(loaded.gates, options.gates, loaded.metrics, [m.name for m in models])
    for warning in gate_warnings:
        console.print(f"warning: {warning}", markup=False, highlight=False, soft_wrap=True)
    scoring = ScoringStage.prepare(loaded)  # before anything is sent: a metric that cannot load fails now
    adapters = build_adapters(models, settings)
    judge_adapter = build_adapters([judge_plan.judge], settings)[judge_plan.judge.name] if judge_plan else None

    work = build_work(cases, models, options.repeat)
    try:
        budget = ErrorBudget.parse(options.max_errors, len(work))
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    cache_path = (options.cache_dir or default_cache_dir()) / "cache.sqlite"
    cached: dict[str, GenerationResponse] = {}
    if options.use_cache:
        _attach_cache_keys(work, adapters)
        reader = ResponseCache(cache_path)
        try:
            cached = reader.get_many([item.key for item in work if item.key is not None])
        finally:
            reader.close()

    clock.lap("prepare_s")
    run_dir = create_run_dir(options.output_dir, loaded.name)
    run_info: dict[str, Any] = {
        "harness_version": __version__,
        "run_id": run_dir.name,
        "status": "running",
        "started_at": utc_now(),
        "finished_at": None,
        "suite": {
            "path": str(loaded.path),
            "name": loaded.name,
            "description": loaded.description,
            "sha256": loaded.sha256,
            "sources": loaded.source_files,
            "cases": len(cases),
        },
        "models": [_model_entry(m, adapters[m.name]) for m in models],
        "options": {
            "concurrency": options.concurrency,
            "limit": options.limit,
            "filters": options.filters,
            "repeat": options.repeat,
            "cache": options.use_cache,
            "max_errors": options.max_errors,
            "timeout": options.timeout,
            "max_retries": options.max_retries,
            "baseline": options.baseline,
            "judge": options.judge,
            "allow_stale": options.allow_stale,
            "allow_other_suite": options.allow_other_suite,
        },
        "gates": gate_texts,
        "cost": _cost_settings(loaded, options),
        "judge": (
            {**judge_plan.describe(), "fingerprint": judge_adapter.fingerprint}
            if judge_plan is not None and judge_adapter is not None
            else None
        ),
        "environment": environment(),
        "timings": clock.timings,
    }
    write_json(run_dir / RUN_FILE, run_info)

    sink = ResultSink(run_dir / RESULTS_FILE, cache_path if options.use_cache else None)
    pending: dict[str, list[WorkItem]] = {m.name: [] for m in models}
    for item in work:
        hit = cached.get(item.key) if item.key is not None else None
        if hit is not None:
            sink.put(item, hit)
        else:
            pending[item.model].append(item)
    counters = {name: ModelCounters(total=len(items)) for name, items in pending.items() if items}
    state = RunState(counters, budget)

    status, failure = "complete", None
    try:
        asyncio.run(_generate(adapters, pending, state, sink, console, options.progress))
    except RunError as exc:
        status, failure = "aborted", exc
    except KeyboardInterrupt:
        status = "interrupted"
        raise
    finally:
        records = sink.close()
        clock.lap("generate_s")
        try:
            if status != "interrupted":  # Ctrl-C stops now; the answers are cached for a rerun
                scoring.score(records)
        except RunError as exc:  # an `evaluate` module failed on the outputs
            status, failure = "aborted", failure or exc
        clock.lap("score_s")
        write_jsonl(run_dir / RESULTS_FILE, records)
        summary = summarize(records, [m.name for m in models])
        scoring.add_to_summary(summary, records)
        write_json(run_dir / SUMMARY_FILE, summary)
        write_csv(run_dir / CSV_FILE, records)
        run_info.update(status=status, finished_at=utc_now())
        if failure is not None:
            run_info["error"] = failure.message
        write_json(run_dir / RUN_FILE, run_info)
    if judge_plan is not None and judge_adapter is not None:
        if failure is None:
            status, failure = _judge_stage(
                judge_plan, judge_adapter, records, cases, run_dir, run_info, summary,
                cache_path if options.use_cache else None, console, options.progress,
            )
        else:
            close_unused(judge_adapter)
        clock.lap("judge_s")
        write_json(run_dir / RUN_FILE, run_info)
    gates = _report(run_dir, options, failure)
    clock.lap("report_s")
    if failure is not None:
        failure.run_dir = run_dir  # type: ignore[attr-defined]
        raise failure
    summary = _load_run(run_dir).summary or summary
    return RunOutcome(run_dir, status, summary, records, models, _warnings(records, adapters), gates, clock.timings)


class _PhaseClock:
    """Wall-clock seconds per phase, shared with run.json so a slow run shows where time went."""

    def __init__(self) -> None:
        self.timings: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, phase: str) -> None:
        now = time.perf_counter()
        self.timings[phase] = round(now - self._last, 4)
        self._last = now


def _cost_settings(suite: Suite, options: RunOptions) -> dict[str, Any]:
    settings = suite.spec.cost.model_dump() if suite.spec is not None and suite.spec.cost is not None else {}
    if options.monthly_requests is not None:
        settings["monthly_requests"] = options.monthly_requests
    return settings


def _report(run_dir: Path, options: RunOptions, failure: RunError | None) -> list[GateOutcome]:
    """Reports, gates and the history entry; after a failed run, best effort (the failure is what matters)."""
    try:
        return finalize_run(run_dir, options.output_dir if options.history else None).gates
    except HarnessError:
        if failure is None:
            raise
        return []


def _judge_stage(
    plan: JudgePlan,
    adapter: ModelAdapter,
    records: list[dict[str, Any]],
    cases: list[Case],
    run_dir: Path,
    run_info: dict[str, Any],
    summary: dict[str, Any],
    cache_path: Path | None,
    console: Console,
    progress: bool,
) -> tuple[str, RunError | None]:
    """Judge the generated answers: write judgments.jsonl, add the judging blocks to summary.json."""
    run_info.update(status="judging", finished_at=None)
    write_json(run_dir / RUN_FILE, run_info)
    status, failure = "aborted", None  # until the stage has finished
    try:
        lines = run_judging(plan, adapter, records, cases, cache_path, console, progress)
        write_jsonl(run_dir / JUDGMENTS_FILE, lines)
        summary.update(judging_summary(lines, plan.config.resamples, plan.config.seed))
        write_json(run_dir / SUMMARY_FILE, summary)
        status = "complete"
    except RunError as exc:
        status, failure = "aborted", exc
        run_info["error"] = exc.message
    except KeyboardInterrupt:
        status = "interrupted"
        raise
    finally:
        run_info.update(status=status, finished_at=utc_now())
        write_json(run_dir / RUN_FILE, run_info)
    return status, failure


def load_run(path: str | Path) -> RunData:
    """Read a run directory: run.json, results.jsonl records, summary.json."""
    return _load_run(path)


def load_results(path: str | Path) -> pd.DataFrame:
    """A run's results as a pandas DataFrame, one row per case x model x repeat."""
    import pandas as pd

    data = _load_run(path)
    return pd.DataFrame([flat_row(record) for record in data.results])
