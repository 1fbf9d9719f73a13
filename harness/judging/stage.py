"""The judging stage of a run: after generation, judge what the plan asks for and return judgments.jsonl lines.

Pairwise comparisons first, then rubric and closed-QA grades, each with its own template and
reply budget. Nothing here writes to the run directory; the caller owns the files.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console

from harness.judging.caller import JudgeCaller, JudgeJob, JudgeOutcome
from harness.judging.grading import grade_line, plan_grades
from harness.judging.inputs import AnswerIndex
from harness.judging.pairwise import pair_line, plan_pairs
from harness.judging.plan import JudgePlan
from harness.models.base import ModelAdapter
from harness.run.budget import ErrorBudget
from harness.run.progress import show_progress
from harness.run.runner import ModelCounters
from harness.suite.case import Case


async def _call(
    plan: JudgePlan, adapter: ModelAdapter, kind: str, jobs: list[JudgeJob], cache_path: Path | None,
    console: Console, progress: bool, max_errors: str | None,
) -> list[JudgeOutcome]:
    if not jobs:
        return []
    template = plan.templates[kind]
    counters = ModelCounters(total=len(jobs))
    caller = JudgeCaller(
        plan.judge.name, adapter, plan.params(template), plan.config.logprobs if kind == "pairwise" else 0,
        plan.config.max_retries, cache_path, counters, ErrorBudget.parse(max_errors, len(jobs)),
    )
    async with show_progress({f"judge {plan.judge.name} ({kind})": counters}, console, progress):
        return await caller.run(jobs)


async def _judge(
    plan: JudgePlan, adapter: ModelAdapter, records: Sequence[dict[str, Any]], cases: Sequence[Case],
    cache_path: Path | None, console: Console, progress: bool, max_errors: str | None,
) -> list[dict[str, Any]]:
    answers = AnswerIndex(records)
    judge = plan.judge.name
    lines: list[dict[str, Any]] = []
    pairwise = plan.templates.get("pairwise")
    if pairwise is not None and plan.baseline is not None:
        items = plan_pairs(plan.candidates, plan.baseline, cases, answers, pairwise)
        jobs = [j for i in items for j in i.jobs]
        outcomes = iter(await _call(plan, adapter, "pairwise", jobs, cache_path, console, progress, max_errors))
        for item in items:
            lines.append(pair_line(item, [next(outcomes) for _ in item.jobs], judge, pairwise))
    for kind in ("rubric", "closed_qa"):
        template = plan.templates.get(kind)
        if template is None:
            continue
        grades = plan_grades(plan.models, cases, answers, template)
        outcomes = iter(await _call(plan, adapter, kind, [g.job for g in grades if g.job is not None], cache_path,
                                    console, progress, max_errors))
        for grade in grades:
            lines.append(grade_line(grade, next(outcomes) if grade.job is not None else None, judge, template))
    return lines


def run_judging(
    plan: JudgePlan,
    adapter: ModelAdapter,
    records: Sequence[dict[str, Any]],
    cases: Sequence[Case],
    cache_path: Path | None,
    console: Console,
    progress: bool = True,
    max_errors: str | None = None,
) -> list[dict[str, Any]]:
    """Judge a finished generation; returns the judgments.jsonl lines. Raises RunError when the
    judge's requests spend the error budget (`max_errors`, as `--max-errors`); answers judged by
    then are in the judge cache."""

    async def main() -> list[dict[str, Any]]:
        try:
            return await _judge(plan, adapter, records, cases, cache_path, console, progress, max_errors)
        finally:
            await adapter.aclose()

    return asyncio.run(main())


def close_unused(adapter: ModelAdapter) -> None:
    """Release a judge adapter whose stage never ran (the generation failed)."""
    asyncio.run(adapter.aclose())
