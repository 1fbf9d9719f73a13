"""The judging stage of a run: after generation, judge what the plan asks for and return judgments.jsonl lines.

Pairwise comparisons first, then rubric, closed-QA and label grades, each with its own template
and reply budget. Every judge of a panel gets the same jobs, concurrently, through its own
caller and its own cache entries (the judge's fingerprint is part of every judge cache key).
Nothing here writes to the run directory; the caller owns the files.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console

from harness.interrupt import run_async
from harness.judging.caller import CachePolicy, JudgeCaller, JudgeJob, JudgeOutcome, JudgeTransport
from harness.judging.grading import grade_line, plan_grades
from harness.judging.inputs import AnswerIndex
from harness.judging.pairwise import pair_line, plan_pairs
from harness.judging.panel import PanelRule
from harness.judging.plan import JudgePlan
from harness.models.base import ModelAdapter
from harness.models.budget import ErrorBudget
from harness.models.calls import ModelCounters, gather_or_cancel
from harness.progress import show_progress
from harness.suite.case import Case

GRADINGS = ("rubric", "closed_qa", "label")  # single-answer gradings, judged in this order after the pairwise items
Transports = dict[str, JudgeTransport]  # by judge name: how its requests reach it, when not directly
Policies = Mapping[str, CachePolicy]  # by judge name: which cached verdicts may be reused (harness.run.reuse)


@dataclass
class JudgeActivity:
    """Requests each judge sent and judgments it read from the cache, for run.json."""

    sent: dict[str, int] = field(default_factory=dict)
    cached: dict[str, int] = field(default_factory=dict)

    def add(self, judge: str, outcomes: Sequence[JudgeOutcome]) -> None:
        self.sent[judge] = self.sent.get(judge, 0) + sum(o.calls for o in outcomes)
        self.cached[judge] = self.cached.get(judge, 0) + sum(1 for o in outcomes if o.cached)

    def describe(self) -> dict[str, Any]:
        return {judge: {"requests_sent": self.sent[judge], "judgments_cached": self.cached.get(judge, 0)} for judge in self.sent}


async def _call(
    plan: JudgePlan, adapters: dict[str, ModelAdapter], kind: str, jobs: list[JudgeJob], cache_path: Path | None,
    console: Console, progress: bool, activity: JudgeActivity, transports: Transports | None = None,
    policies: Policies | None = None,
    max_errors: str | None = None,
) -> dict[str, list[JudgeOutcome]]:
    """Every judge's outcomes for the same jobs, judges side by side."""
    if not jobs:
        return {name: [] for name in plan.judge_names}
    template = plan.templates[kind]
    callers: dict[str, JudgeCaller] = {}
    counters: dict[str, ModelCounters] = {}
    for judge in plan.judges:
        counter = ModelCounters(total=len(jobs))
        counters[f"judge {judge.name} ({kind})"] = counter
        callers[judge.name] = JudgeCaller(
            judge.name, adapters[judge.name], plan.params(template, judge),
            plan.config.logprobs if kind == "pairwise" else 0, plan.config.max_retries, cache_path, counter,
            (transports or {}).get(judge.name), policy=(policies or {}).get(judge.name),
            budget=ErrorBudget.parse(max_errors, len(jobs)),
        )
    by_judge: dict[str, list[JudgeOutcome]] = {}

    async def judge_all(name: str, caller: JudgeCaller) -> None:
        by_judge[name] = await caller.run(jobs)

    async with show_progress(counters, console, progress):
        await gather_or_cancel([judge_all(name, caller) for name, caller in callers.items()])
    by_judge = {name: by_judge[name] for name in callers}  # the panel's order
    for name, outcomes in by_judge.items():
        activity.add(name, outcomes)
    return by_judge


def panel_rule(plan: JudgePlan) -> PanelRule | None:
    return PanelRule(plan.config.aggregate, plan.quorum, tuple(plan.judge_names)) if plan.panel else None


async def _judge(
    plan: JudgePlan, adapters: dict[str, ModelAdapter], records: Sequence[dict[str, Any]], cases: Sequence[Case],
    cache_path: Path | None, console: Console, progress: bool, activity: JudgeActivity, transports: Transports | None,
    policies: Policies | None,
    max_errors: str | None = None,
) -> list[dict[str, Any]]:
    answers = AnswerIndex(records)
    rule = panel_rule(plan)
    lines: list[dict[str, Any]] = []
    pairwise = plan.templates.get("pairwise")
    if pairwise is not None and plan.pairs:
        items = plan_pairs(plan.pairs, cases, answers, pairwise)
        jobs = [job for item in items for job in item.jobs]
        by_judge = await _call(plan, adapters, "pairwise", jobs, cache_path, console, progress, activity, transports,
                               policies, max_errors)
        position = 0
        for item in items:
            width = len(item.jobs)
            mine = {name: outcomes[position : position + width] for name, outcomes in by_judge.items()}
            position += width
            lines.append(pair_line(item, mine, pairwise, rule))
    for kind in GRADINGS:
        template = plan.templates.get(kind)
        if template is None:
            continue
        grades = plan_grades(plan.models, cases, answers, template, plan.config.label)
        by_judge = await _call(plan, adapters, kind, [g.job for g in grades if g.job is not None], cache_path,
                               console, progress, activity, transports, policies, max_errors)
        iterators = {name: iter(outcomes) for name, outcomes in by_judge.items()}
        for grade in grades:
            outcomes = {name: next(it) if grade.job is not None else None for name, it in iterators.items()}
            lines.append(grade_line(grade, outcomes, template, rule, plan.config.label))
    return lines


def run_judging(
    plan: JudgePlan,
    adapters: dict[str, ModelAdapter] | ModelAdapter,
    records: Sequence[dict[str, Any]],
    cases: Sequence[Case],
    cache_path: Path | None,
    console: Console,
    progress: bool = True,
    activity: JudgeActivity | None = None,
    transports: Transports | None = None,
    policies: Policies | None = None,
    max_errors: str | None = None,
) -> list[dict[str, Any]]:
    """Judge a finished generation; returns the judgments.jsonl lines. Raises RunError when a
    judge's requests spend the error budget (`max_errors`, as `--max-errors`;
    harness.models.budget); answers judged by then are in the judge cache.

    `adapters` maps each judge of the plan to its adapter (a single adapter serves a single judge);
    `transports` replaces direct calls of the judges it names (the Batch API), and is closed here;
    `policies` decide which cached verdicts of each judge are reused (none: all of them)."""
    by_name = adapters if isinstance(adapters, dict) else {plan.judge.name: adapters}
    tally = activity if activity is not None else JudgeActivity()

    async def main() -> list[dict[str, Any]]:
        try:
            return await _judge(plan, by_name, records, cases, cache_path, console, progress, tally, transports,
                                policies, max_errors)
        finally:
            for transport in (transports or {}).values():
                await transport.close()
            for adapter in by_name.values():
                await adapter.aclose()

    return run_async(main())


def close_unused(adapters: dict[str, ModelAdapter] | ModelAdapter) -> None:
    """Release judge adapters whose stage never ran (the generation failed)."""

    async def main() -> None:
        for adapter in adapters.values() if isinstance(adapters, dict) else [adapters]:
            await adapter.aclose()

    asyncio.run(main())
