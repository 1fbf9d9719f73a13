"""Pipelined judging: an item is judged as soon as the answers it needs exist, beside generation.

A pairwise item (a pair of models, a case, a repeat) is ready when both models' answers are in;
a rubric, closed-QA or label grading when its model's answer is. Ready items are planned with the
same functions as staged judging (on an index of just their answers) and judged through one
`JudgeCaller` per judge and grading kind, in calls of whatever became ready together, with each
judge's own concurrency (a semaphore its calls share) or through its transport (the Batch API).
Generation and judging therefore each keep their own concurrency, and the progress display
shows both.

The judgments are those of the staged order, line for line: the same planning, the same
requests (so the same cache keys), and the lines sorted into the staged order at the end. A
judge that fails does not stop generation: judging stops, and the judge stage reports the
failure once the answers are scored and written, as it would have in the staged order.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness.errors import RunError
from harness.judging.caller import JudgeCaller, JudgeOutcome
from harness.judging.grading import applies, grade_line, plan_grades
from harness.judging.inputs import AnswerIndex
from harness.judging.pairwise import pair_line, plan_pairs
from harness.judging.plan import JudgePlan
from harness.judging.stage import GRADINGS, JudgeActivity, Policies, Transports, close_unused, panel_rule
from harness.models.base import GenerationResponse, ModelAdapter
from harness.models.budget import ErrorBudget
from harness.models.calls import ModelCounters, gather_or_cancel
from harness.run.context import RunContext
from harness.run.plan import WorkItem
from harness.run.runner import RunState
from harness.suite.case import Case

Unit = tuple[str, int, str, int]  # (kind, pair or model index, case id, repeat)
Answer = dict[str, Any]  # the fields of a results record that judging reads


class PipelinedJudging:
    """An `AnswerListener` for the generate stage, and the `Judging` of the judge stage."""

    def __init__(self, plan: JudgePlan, adapters: dict[str, ModelAdapter], cases: Sequence[Case],
                 cache_path: Path | None, transports: Transports | None = None,
                 policies: Policies | None = None, max_errors: str | None = None) -> None:
        self.plan = plan
        self.policies = policies or {}  # by judge: which cached verdicts may be reused (harness/run/reuse.py)
        self.max_errors = max_errors  # `--max-errors` for each judge's requests (harness.models.budget)
        self.adapters = adapters
        self.cache_path = cache_path
        self.transports = transports or {}
        self.cases = {case.id: case for case in cases}
        self._case_order = {case.id: index for index, case in enumerate(cases)}
        self._models = {name: index for index, name in enumerate(plan.models)}
        self._pairs = plan.pairs if "pairwise" in plan.templates else []
        self._kinds = (["pairwise"] if self._pairs else []) + [kind for kind in GRADINGS if kind in plan.templates]
        self._answers: dict[tuple[str, str, int], Answer] = {}
        self._ready: list[Unit] = []
        self._seen: set[Unit] = set()
        self._lines: dict[tuple[int, int, int, int], dict[str, Any]] = {}
        self._counters = {(kind, judge): ModelCounters(total=0) for kind in self._kinds for judge in plan.judge_names}
        self._callers: dict[tuple[str, str], JudgeCaller] = {}
        self._limiters: dict[str, asyncio.Semaphore] = {}
        self._wake: asyncio.Event | None = None
        self.activity = JudgeActivity()
        self.failure: RunError | None = None

    # -- beside generation ----------------------------------------------------------------
    def start(self, state: RunState) -> None:
        for (kind, judge), counters in self._counters.items():
            state.counters[f"judge {judge} ({kind})"] = counters

    def put(self, item: WorkItem, response: GenerationResponse) -> None:
        model, case_id, repeat = item.model, item.case.id, item.request.repeat
        error = response.error
        self._answers[(model, case_id, repeat)] = {
            "model": model, "case_id": case_id, "repeat": repeat, "output": response.output,
            "error": error.model_dump() if error is not None else None,
        }
        if self.failure is not None:
            return
        for kind in self._kinds:
            if kind == "pairwise":
                for index, battle in enumerate(self._pairs):
                    other = battle.second if model == battle.first else battle.first if model == battle.second else None
                    if other is not None and (other, case_id, repeat) in self._answers:
                        self._ready.append((kind, index, case_id, repeat))
            elif model in self._models and applies(kind, item.case):
                self._ready.append((kind, self._models[model], case_id, repeat))
        if self._ready and self._wake is not None:
            self._wake.set()

    async def run(self, generation_done: asyncio.Event) -> None:
        wake = self._wake = asyncio.Event()
        self._open()
        running: set[asyncio.Task[None]] = set()

        def finished(task: asyncio.Future[Any]) -> None:  # callbacks, not a wait over every running task
            running.discard(task)
            wake.set()

        end = asyncio.ensure_future(generation_done.wait())
        end.add_done_callback(finished)
        try:
            while True:
                if self.failure is not None:  # a judge failed: stop spending on it, let generation finish
                    self._ready.clear()
                    for task in running:
                        task.cancel()
                elif self._ready:
                    for kind, units in self._take().items():
                        task = asyncio.ensure_future(self._judge(kind, units))
                        running.add(task)
                        task.add_done_callback(finished)
                if generation_done.is_set() and not self._ready and not running:
                    break
                wake.clear()
                await wake.wait()
        finally:
            end.cancel()
            for task in list(running):
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)
            await self._close()

    def _open(self) -> None:
        """A caller per judge and kind; a judge's calls share its concurrency, whatever their kind."""
        plan = self.plan
        self._limiters = {}
        for judge in plan.judges:
            adapter = self.adapters[judge.name]
            transport = self.transports.get(judge.name)
            if transport is None:
                self._limiters[judge.name] = asyncio.Semaphore(max(1, adapter.capabilities.max_concurrency))
            for kind in self._kinds:
                template = plan.templates[kind]
                caller = JudgeCaller(
                    judge.name, adapter, plan.params(template, judge), plan.config.logprobs if kind == "pairwise" else 0,
                    plan.config.max_retries, self.cache_path, self._counters[(kind, judge.name)], transport,
                    self._limiters.get(judge.name), self.policies.get(judge.name),
                    # Counted before the answers exist: a share of --max-errors is of the judged items.
                    ErrorBudget.parse(self.max_errors, len(self.cases) * max(1, len(plan.models))),
                )
                caller.open()
                self._callers[(kind, judge.name)] = caller

    async def _close(self) -> None:
        for caller in self._callers.values():
            caller.close()
        self._callers = {}
        for transport in self.transports.values():
            await transport.close()
        for adapter in self.adapters.values():
            await adapter.aclose()

    def _take(self) -> dict[str, list[Unit]]:
        by_kind: dict[str, list[Unit]] = {}
        for unit in self._ready:
            if unit not in self._seen:
                self._seen.add(unit)
                by_kind.setdefault(unit[0], []).append(unit)
        self._ready = []
        return by_kind

    async def _judge(self, kind: str, units: list[Unit]) -> None:
        try:
            await self._judge_units(kind, units)
        except RunError as exc:
            if self.failure is None:
                self.failure = exc

    async def _ask(self, kind: str, jobs: list[Any]) -> dict[str, list[JudgeOutcome]]:
        """Every judge's outcomes for the same jobs, judges side by side (the panel's order)."""
        by_judge: dict[str, list[JudgeOutcome]] = {}

        async def one(judge: str) -> None:
            by_judge[judge] = await self._callers[(kind, judge)].run(jobs) if jobs else []

        await gather_or_cancel([one(judge) for judge in self.plan.judge_names])
        for judge in self.plan.judge_names:
            self.activity.add(judge, by_judge[judge])
        return {judge: by_judge[judge] for judge in self.plan.judge_names}

    async def _judge_units(self, kind: str, units: list[Unit]) -> None:
        template = self.plan.templates[kind]
        rule = panel_rule(self.plan)
        if kind == "pairwise":
            items = []
            for _, index, case_id, repeat in units:
                battle = self._pairs[index]
                answers = self._index([(battle.first, case_id, repeat), (battle.second, case_id, repeat)])
                items.append(plan_pairs([battle], [self.cases[case_id]], answers, template)[0])
            by_judge = await self._ask(kind, [job for item in items for job in item.jobs])
            position = 0
            for unit, item in zip(units, items, strict=True):
                width = len(item.jobs)
                mine = {judge: outcomes[position : position + width] for judge, outcomes in by_judge.items()}
                position += width
                self._lines[self._order(unit)] = pair_line(item, mine, template, rule)
            return
        names = list(self._models)
        grades = [plan_grades([names[index]], [self.cases[case_id]], self._index([(names[index], case_id, repeat)]),
                              template, self.plan.config.label)[0] for _, index, case_id, repeat in units]
        by_judge = await self._ask(kind, [grade.job for grade in grades if grade.job is not None])
        iterators = {judge: iter(outcomes) for judge, outcomes in by_judge.items()}
        for unit, grade in zip(units, grades, strict=True):
            outcomes = {judge: next(it) if grade.job is not None else None for judge, it in iterators.items()}
            self._lines[self._order(unit)] = grade_line(grade, outcomes, template, rule, self.plan.config.label)

    def _index(self, keys: list[tuple[str, str, int]]) -> AnswerIndex:
        return AnswerIndex([self._answers[key] for key in keys if key in self._answers])

    def _order(self, unit: Unit) -> tuple[int, int, int, int]:
        kind, index, case_id, repeat = unit
        return self._kinds.index(kind), index, self._case_order[case_id], repeat

    # -- for the judge stage --------------------------------------------------------------
    def judgments(self, ctx: RunContext, activity: JudgeActivity) -> list[dict[str, Any]]:
        """The judgments.jsonl lines in the staged order; raises a judge's failure, if any."""
        try:
            if self.failure is not None:
                raise self.failure
            left = [unit for unit in self._units(ctx.records) if self._order(unit) not in self._lines]
            if left:  # answers that reached the results without passing by (none, in a complete generation)
                for record in ctx.records:
                    self._answers.setdefault((record["model"], record["case_id"], int(record.get("repeat", 0))), record)
                asyncio.run(self._judge_left(left))
                if self.failure is not None:
                    raise self.failure
            return [self._lines[key] for key in sorted(self._lines)]
        finally:
            for judge, sent in self.activity.sent.items():
                activity.sent[judge] = activity.sent.get(judge, 0) + sent
            for judge, cached in self.activity.cached.items():
                activity.cached[judge] = activity.cached.get(judge, 0) + cached

    def release(self, ctx: RunContext) -> None:
        close_unused(self.adapters)  # closed already if it judged beside generation; closing twice is harmless

    def _units(self, records: Sequence[dict[str, Any]]) -> list[Unit]:
        """Every item staged judging would plan for these records (pairwise items follow the pair's first model)."""
        units: list[Unit] = []
        for record in records:
            model, case_id, repeat = record["model"], record["case_id"], int(record.get("repeat", 0))
            case = self.cases.get(case_id)
            if case is None:
                continue
            for kind in self._kinds:
                if kind == "pairwise":
                    units += [(kind, index, case_id, repeat) for index, battle in enumerate(self._pairs)
                              if battle.first == model]
                elif model in self._models and applies(kind, case):
                    units.append((kind, self._models[model], case_id, repeat))
        return units

    async def _judge_left(self, units: list[Unit]) -> None:
        by_kind: dict[str, list[Unit]] = {}
        for unit in units:
            by_kind.setdefault(unit[0], []).append(unit)
        self._open()
        try:
            await gather_or_cancel([self._judge(kind, group) for kind, group in by_kind.items()])
        finally:
            await self._close()
