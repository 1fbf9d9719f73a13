"""The prepare stage: everything decided and checked before the first request is sent.

Selects the cases, plans the models, baseline and judge, checks gates and metrics, builds the
adapters, reads what the cache already holds and opens the run directory. Every problem here
is a UsageError or SuiteError (exit 2) and nothing has been sent yet.
"""

from __future__ import annotations

import sqlite3
import time
from collections import Counter
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

from rich.console import Console

from harness import __version__
from harness.errors import UsageError, file_problem
from harness.gates.validate import gates_for_run
from harness.judging.budget import JudgingBudget, check_limit, plan_budget, print_budget
from harness.judging.plan import JudgePlan
from harness.metrics.stage import ScoringStage
from harness.models.base import GenerationResponse, ModelAdapter, RecordedSource
from harness.models.cache import ResponseCache, default_cache_dir, request_key
from harness.models.ray.plan import plan_ray
from harness.models.registry import AdapterSettings, build_adapters
from harness.models.resolve import ResolvedModel
from harness.run.backlog import import_backlogs
from harness.run.context import PhaseClock, RunContext
from harness.run.environment import environment
from harness.run.options import RunOptions
from harness.run.plan import WorkItem, build_work, select_cases
from harness.run.planning import baseline_name, check_judged_gates, plan_models
from harness.run.preflight import suite_checks
from harness.run.reuse import (
    ModelReuse,
    cache_fingerprint,
    describe_server,
    find_resumable,
    identity_of,
    judge_cache_entries,
    select_reusable,
)
from harness.run.runner import ErrorBudget
from harness.run.store import RUN_FILE, create_run_dir, reserve_space, utc_now, write_json
from harness.suite.case import Case
from harness.suite.loader import Suite, load_suite


class PrepareStage:
    """Builds the run's context; the first stage, and the only one that may refuse to start."""

    phase = "prepare_s"

    def prepare(self, suite: str | Path | Suite, options: RunOptions, console: Console) -> RunContext:
        clock = PhaseClock()
        if options.repeat < 1:
            raise UsageError("--repeat must be at least 1")
        if options.concurrency < 1:
            raise UsageError("--concurrency must be at least 1")
        # The same checks as `harness validate`: every problem of the suite at once, before sending.
        checks = partial(suite_checks, ray=options.ray is not None)
        loaded = suite if isinstance(suite, Suite) else load_suite(suite, extra_checks=checks)
        cases = select_cases(loaded.cases, options.filters, options.limit)
        if not cases:
            raise UsageError(f"no case matches --filter {' '.join(options.filters)} in {loaded.path}")
        models, judge_plan = plan_models(
            loaded, cases, options.models, options.baseline, options.judge_refs or None, options.ranking
        )
        baseline = baseline_name(loaded, options.baseline)
        batched, judge_batched = _batch_choices(models, judge_plan, options)
        judge_budget = _judging_budget(loaded, cases, models, judge_plan, options, judge_batched)
        _warn_contamination(loaded, cases, console)
        if options.max_request_time is not None and options.max_request_time <= 0:
            raise UsageError("--max-request-time must be above 0 seconds")
        ray_plan, ray_warnings = plan_ray(
            loaded.spec.engine if loaded.spec else None, models, options.ray, console, options.progress
        )
        settings = AdapterSettings(
            concurrency=options.concurrency, timeout=options.timeout, max_retries=options.max_retries,
            suite_name=loaded.name, allow_other_suite=options.allow_other_suite, allow_stale=options.allow_stale,
            max_request_time=options.max_request_time,
        )
        gate_texts, gate_warnings = gates_for_run(loaded.gates, options.gates, loaded.metrics, [m.name for m in models])
        for warning in [*ray_warnings, *gate_warnings]:
            console.print(f"warning: {warning}", markup=False, highlight=False, soft_wrap=True)
        check_judged_gates(gate_texts, judge_plan)
        _note_unjudged_baseline(loaded, baseline, models, judge_plan, console)
        scoring = ScoringStage.prepare(loaded)  # a metric that cannot load fails now
        on_ray = set(ray_plan.models) if ray_plan is not None else set()
        adapters = build_adapters([m for m in models if m.name not in on_ray], settings)
        judge_adapters = build_adapters(judge_plan.judges, settings) if judge_plan else {}
        if batched or judge_batched:
            from harness.run.batch.support import check_endpoints

            check_endpoints([(f"model '{name}'", adapters[name]) for name in sorted(batched)]
                            + ([(f"judge '{name}'", adapter) for name, adapter in judge_adapters.items()]
                               if judge_batched else []))
        try:
            budget = ErrorBudget.parse(options.max_errors, len(cases) * len(models) * options.repeat)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        if on_ray:  # last: starting the actors takes seconds, and they check the files on their nodes
            adapters |= build_adapters([m for m in models if m.name in on_ray], replace(settings, ray=ray_plan))
            adapters = {m.name: adapters[m.name] for m in models}
        if judge_budget is not None:
            print_budget(judge_budget, console)

        work = build_work(cases, models, options.repeat)
        cache_path = (options.cache_dir or default_cache_dir()) / "cache.sqlite" if options.use_cache else None
        cached: dict[str, GenerationResponse] = {}
        now = time.time()
        reuse = _reuse_states(models, adapters, ask_server=cache_path is not None)
        judge_reuse = _reuse_states(judge_plan.judges, judge_adapters, ask_server=cache_path is not None) if judge_plan else {}
        if cache_path is not None:
            _attach_cache_keys(work, adapters, reuse)
            hits, created = _read_cache(cache_path, options.output_dir, [item.key for item in work if item.key is not None])
            resume = find_resumable(options.output_dir, loaded.sha256)
            cached = select_reusable(work, hits, created, reuse, resume, now)
            for name, state in judge_reuse.items():  # judge verdicts are read in the judge stage
                if resume is not None and resume.judge_fingerprints.get(name) == state.fingerprint:
                    state.resume = resume
            totals = Counter(item.model for item in work)
            for name, state in reuse.items():
                line = state.line(name, totals[name], now)
                if line:
                    console.print(line, markup=False, highlight=False, soft_wrap=True)
        if options.history:
            _check_history(options.output_dir)
        clock.lap(self.phase)

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
            "models": [
                {**_model_entry(m, adapters[m.name], reuse[m.name], now if cache_path is not None else None),
                 "batch": m.name in batched}
                for m in models
            ],
            "baseline": baseline,
            "options": {
                "concurrency": options.concurrency,
                "limit": options.limit,
                "filters": options.filters,
                "repeat": options.repeat,
                "cache": options.use_cache,
                "max_errors": options.max_errors,
                "timeout": options.timeout,
                "max_retries": options.max_retries,
                "max_request_time": options.max_request_time,
                "baseline": options.baseline,
                "judge": options.judge,
                "judges": options.judges,
                "ranking": options.ranking,
                "max_judge_calls": options.max_judge_calls,
                "allow_stale": options.allow_stale,
                "allow_other_suite": options.allow_other_suite,
                "batch": options.batch,
                "pipeline": options.pipeline,
                "ray": options.ray,
            },
            "gates": gate_texts,
            "cost": _cost_settings(loaded, options),
            "judge": _judge_entry(judge_plan, judge_reuse, judge_budget, judge_batched, now if cache_path is not None else None),
            "ray": ray_plan.info if ray_plan is not None else None,
            "environment": environment(),
            "timings": clock.timings,
        }
        try:
            write_json(run_dir / RUN_FILE, run_info)
            reserve_space(run_dir)
        except OSError as exc:
            raise UsageError(file_problem(exc, exc.filename or run_dir, "write")) from None
        return RunContext(
            options=options, console=console, clock=clock, suite=loaded, cases=cases, models=models,
            judge_plan=judge_plan, scoring=scoring, adapters=adapters, judge_adapters=judge_adapters, work=work,
            budget=budget, cache_path=cache_path, cached=cached, run_dir=run_dir, run_info=run_info,
            batched=batched, judge_batched=judge_batched, judge_reuse=judge_reuse,
        )


def _read_cache(
    cache_path: Path, output_dir: Path, keys: list[str]
) -> tuple[dict[str, GenerationResponse], dict[str, float]]:
    """What the cache holds for these keys and when each was stored, after moving in the answers an
    earlier run could not cache (its backlog). Fails before anything is sent when the cache cannot
    be read or written."""
    try:
        if output_dir.is_dir():
            import_backlogs(output_dir, cache_path)
        reader = ResponseCache(cache_path)
        try:
            reader.check_writable()
            hits = reader.get_many(keys)
            return hits, reader.created_many(list(hits))
        finally:
            reader.close()
    except (OSError, sqlite3.Error) as exc:
        raise UsageError(
            file_problem(exc, cache_path, "use the response cache")
            + " (free space or fix its permissions, set HARNESS_CACHE_DIR, or run with --no-cache)"
        ) from None


def _check_history(output_dir: Path) -> None:
    """history.sqlite must take the run's entry at the end: find out now, not after paying for the run."""
    from harness.report.history import connect

    with connect(output_dir) as db:  # raises UsageError naming the file
        db.execute("BEGIN IMMEDIATE")
        db.execute("ROLLBACK")


def _batch_choices(models: list[ResolvedModel], judge_plan: JudgePlan | None, options: RunOptions) -> tuple[set[str], bool]:
    """Which models (and whether the judge) go through the Batch API; refuses those that cannot."""
    if not (options.batch or any(m.config.batch for m in models) or (judge_plan and judge_plan.config.batch)):
        return set(), False
    from harness.run.batch.support import batch_choices

    return batch_choices(models, judge_plan, options.batch)


def _judging_budget(
    suite: Suite, cases: list[Case], models: list[ResolvedModel], plan: JudgePlan | None, options: RunOptions,
    batched: bool,
) -> JudgingBudget | None:
    """The judge calls the plan takes; a plan above --max-judge-calls stops here, before anything is sent."""
    if plan is None:  # nothing is judged: --max-judge-calls has nothing to limit
        return None
    prices = dict(suite.spec.cost.prices) if suite.spec is not None and suite.spec.cost is not None else {}
    budget = plan_budget(plan, cases, models, options.repeat, prices, options.max_judge_calls, batched)
    check_limit(budget)
    return budget


def _judge_entry(plan: JudgePlan | None, reuse: dict[str, ModelReuse], budget: JudgingBudget | None,
                 batched: bool, now: float | None) -> dict[str, Any] | None:
    if plan is None:
        return None
    entry = plan.describe()
    entry["batch"] = batched
    entry["fingerprint"] = reuse[plan.judge.name].fingerprint  # the judge cache's: with version and served paths
    if plan.panel:
        for judge in entry["panel"]["judges"]:
            judge["fingerprint"] = reuse[judge["name"]].fingerprint
    if budget is not None:
        entry["plan"] = budget.describe()
    if now is not None:  # --no-cache: nothing read, nothing to state; the judge stage fills in the counts
        entry["cache"] = judge_cache_entries(reuse, now)
    return entry



def _model_entry(model: ResolvedModel, adapter: ModelAdapter, reuse: ModelReuse, now: float | None) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": model.name,
        "spec": model.spec.raw,
        "kind": model.spec.kind,
        "base_model": model.spec.base_model,
        "adapters": list(model.spec.adapters),
        "fingerprint": reuse.fingerprint,
        "generation": model.generation.request_dict(),
    }
    if isinstance(adapter, RecordedSource):  # `run:` models: the recording they read
        entry["recorded"] = adapter.describe()
        entry["base_model"] = entry["recorded"].get("base_model") or entry["base_model"]
    if model.config.version is not None:
        entry["version"] = model.config.version
    if now is not None and adapter.capabilities.cacheable:  # --no-cache: nothing read, nothing to state
        entry["cache"] = reuse.as_dict(now)
    return entry


def _reuse_states(models: list[ResolvedModel], adapters: dict[str, ModelAdapter], ask_server: bool) -> dict[str, ModelReuse]:
    """Each model's (or judge's) identity and cache fingerprint (with the server's description, when it gives one)."""
    states = {}
    for model in models:
        adapter = adapters[model.name]
        identity = identity_of(model, adapter)
        described = describe_server(adapter, identity) if ask_server and adapter.capabilities.cacheable else None
        states[model.name] = ModelReuse(identity, cache_fingerprint(adapter, identity, described), described)
    return states


def _attach_cache_keys(work: list[WorkItem], adapters: dict[str, ModelAdapter], reuse: dict[str, ModelReuse]) -> None:
    for item in work:
        if adapters[item.model].capabilities.cacheable:
            fingerprint = reuse[item.model].fingerprint
            item.request_fingerprint = fingerprint
            item.key = request_key(fingerprint, item.request)


def _warn_contamination(suite: Suite, cases: list[Case], console: Console) -> None:
    """One `warning:` line when the suite's own `training_data` contains some of its cases."""
    declared = suite.spec.training_data if suite.spec is not None else []
    if declared:
        from harness.data.contamination import run_warning

        warning = run_warning(suite.path, declared, cases, suite.name)
        if warning:
            console.print(f"warning: {warning}", markup=False, highlight=False, soft_wrap=True)


def _note_unjudged_baseline(suite: Suite, baseline: str | None, models: list[ResolvedModel],
                            judge_plan: JudgePlan | None, console: Console) -> None:
    """One `note:` line when a baseline is compared without a judge (unless pairwise is switched off)."""
    if baseline is None or judge_plan is not None or len(models) < 2:
        return
    if suite.judge is not None and suite.judge.template("pairwise") is None:
        return
    console.print(f"note: no judge, so the candidates are compared with the baseline '{baseline}' by checks and "
                  "metrics only; pass --judge SPEC for a pairwise win rate", markup=False, highlight=False,
                  soft_wrap=True)


def _cost_settings(suite: Suite, options: RunOptions) -> dict[str, Any]:
    settings = suite.spec.cost.model_dump() if suite.spec is not None and suite.spec.cost is not None else {}
    if options.monthly_requests is not None:
        settings["monthly_requests"] = options.monthly_requests
    return settings
