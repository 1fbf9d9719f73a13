"""Pipelined judging: an item is judged as soon as the answers it needs exist, beside generation.

A pairwise item (candidate, case, repeat) is ready when both the candidate's and the baseline's
answers are in; a rubric or closed-QA grading when its model's answer is. Ready items are
planned with the same functions as staged judging (on an index of just their answers) and
judged through one `JudgeCaller` per grading kind, in calls of whatever became ready together,
with the judge's own concurrency (a semaphore shared by every call) or through a transport (the
Batch API). Generation and judging therefore each keep their own concurrency, and the progress
display shows both.

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
from harness.judging.caller import JudgeCaller, JudgeTransport
from harness.judging.grading import applies, grade_line, plan_grades
from harness.judging.inputs import AnswerIndex
from harness.judging.pairwise import pair_line, plan_pairs
from harness.judging.plan import JudgePlan
from harness.judging.stage import GRADINGS, close_unused
from harness.models.base import GenerationResponse, ModelAdapter
from harness.run.context import RunContext
from harness.run.plan import WorkItem
from harness.run.runner import ModelCounters, RunState, gather_or_cancel
from harness.suite.case import Case

Unit = tuple[str, str, str, int]  # (kind, model or candidate, case id, repeat)
Answer = dict[str, Any]  # the fields of a results record that judging reads


class PipelinedJudging:
    """An `AnswerListener` for the generate stage, and the judgments for the judge stage."""

    def __init__(self, plan: JudgePlan, adapter: ModelAdapter, cases: Sequence[Case], cache_path: Path | None,
                 transport: JudgeTransport | None = None) -> None:
        self.plan = plan
        self.adapter = adapter
        self.cache_path = cache_path
        self.transport = transport
        self.cases = {case.id: case for case in cases}
        self._case_order = {case.id: index for index, case in enumerate(cases)}
        self._model_order = {name: index for index, name in enumerate(plan.models)}
        self._kinds = [kind for kind in ("pairwise", *GRADINGS) if kind in plan.templates]
        if "pairwise" in self._kinds and plan.baseline is None:
            self._kinds.remove("pairwise")
        self._answers: dict[tuple[str, str, int], Answer] = {}
        self._ready: list[Unit] = []
        self._seen: set[Unit] = set()
        self._lines: dict[tuple[int, int, int, int], dict[str, Any]] = {}
        self._counters = {kind: ModelCounters(total=0) for kind in self._kinds}
        self._callers: dict[str, JudgeCaller] = {}
        self._wake: asyncio.Event | None = None
        self._limiter: asyncio.Semaphore | None = None
        self.failure: RunError | None = None

    # -- beside generation ----------------------------------------------------------------
    def start(self, state: RunState) -> None:
        for kind, counters in self._counters.items():
            state.counters[f"judge {self.plan.judge.name} ({kind})"] = counters

    def put(self, item: WorkItem, response: GenerationResponse) -> None:
        model, case_id, repeat = item.model, item.case.id, item.request.repeat
        error = response.error
        self._answers[(model, case_id, repeat)] = {
            "model": model, "case_id": case_id, "repeat": repeat, "output": response.output,
            "error": error.model_dump() if error is not None else None,
        }
        plan = self.plan
        for kind in self._kinds:
            if kind == "pairwise":
                if model == plan.baseline:
                    for candidate in plan.candidates:
                        if (candidate, case_id, repeat) in self._answers:
                            self._ready.append((kind, candidate, case_id, repeat))
                elif model in plan.candidates and (plan.baseline, case_id, repeat) in self._answers:
                    self._ready.append((kind, model, case_id, repeat))
            elif model in self._model_order and applies(kind, item.case):
                self._ready.append((kind, model, case_id, repeat))
        if self.failure is not None:
            self._ready.clear()
        if self._ready and self._wake is not None:
            self._wake.set()

    async def run(self, generation_done: asyncio.Event) -> None:
        self._wake = asyncio.Event()
        self._limiter = None
        for kind in self._kinds:
            self._callers[kind] = self._caller(kind)
        running: set[asyncio.Task[None]] = set()
        waiting_for_end = asyncio.ensure_future(generation_done.wait())
        try:
            while True:
                if self.failure is not None:  # the judge failed: stop spending on it, let generation finish
                    self._ready.clear()
                    for task in running:
                        task.cancel()
                elif self._ready:
                    for kind, units in self._take().items():
                        running.add(asyncio.ensure_future(self._judge(kind, units)))
                running = {task for task in running if not task.done()}
                if generation_done.is_set() and not self._ready and not running:
                    break
                self._wake.clear()
                wake = asyncio.ensure_future(self._wake.wait())
                await asyncio.wait([wake, waiting_for_end, *running], return_when=asyncio.FIRST_COMPLETED)
                wake.cancel()
        finally:
            waiting_for_end.cancel()
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)
            for caller in self._callers.values():
                caller.close()
            if self.transport is not None:
                await self.transport.close()
            await self.adapter.aclose()

    def _caller(self, kind: str) -> JudgeCaller:
        plan, template = self.plan, self.plan.templates[kind]
        if self._limiter is None and self.transport is None:  # one limit for every kind: the judge's concurrency
            self._limiter = asyncio.Semaphore(max(1, self.adapter.capabilities.max_concurrency))
        caller = JudgeCaller(
            plan.judge.name, self.adapter, plan.params(template), plan.config.logprobs if kind == "pairwise" else 0,
            plan.config.max_retries, self.cache_path, self._counters[kind], self.transport, self._limiter,
        )
        caller.open()
        return caller

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
            await self._judge_units(kind, units, self._callers[kind])
        except RunError as exc:
            if self.failure is None:
                self.failure = exc

    async def _judge_units(self, kind: str, units: list[Unit], caller: JudgeCaller) -> None:
        template = self.plan.templates[kind]
        judge = self.plan.judge.name
        if kind == "pairwise":
            baseline = self.plan.baseline
            assert baseline is not None
            items = [plan_pairs([model], baseline, [self.cases[case_id]], self._index(model, baseline, case_id, repeat),
                                template)[0] for _, model, case_id, repeat in units]
            outcomes = iter(await caller.run([job for item in items for job in item.jobs]))
            for unit, item in zip(units, items, strict=True):
                self._lines[self._order(unit)] = pair_line(item, [next(outcomes) for _ in item.jobs], judge, template)
            return
        grades = [plan_grades([model], [self.cases[case_id]], self._index(model, None, case_id, repeat), template)[0]
                  for _, model, case_id, repeat in units]
        outcomes = iter(await caller.run([grade.job for grade in grades if grade.job is not None]))
        for unit, grade in zip(units, grades, strict=True):
            self._lines[self._order(unit)] = grade_line(grade, next(outcomes) if grade.job is not None else None,
                                                        judge, template)

    def _index(self, model: str, other: str | None, case_id: str, repeat: int) -> AnswerIndex:
        keys = [(model, case_id, repeat)] + ([(other, case_id, repeat)] if other is not None else [])
        return AnswerIndex([self._answers[key] for key in keys if key in self._answers])

    def _order(self, unit: Unit) -> tuple[int, int, int, int]:
        kind, model, case_id, repeat = unit
        return self._kinds.index(kind), self._model_order[model], self._case_order[case_id], repeat

    # -- for the judge stage --------------------------------------------------------------
    def judgments(self, ctx: RunContext) -> list[dict[str, Any]]:
        """The judgments.jsonl lines in the staged order; raises the judge's failure, if any."""
        records = ctx.records
        if self.failure is not None:
            raise self.failure
        left = [unit for unit in self._units(records) if self._order(unit) not in self._lines]
        if left:  # answers that reached the results without passing by (none, in a complete generation)
            for record in records:
                key = (record["model"], record["case_id"], int(record.get("repeat", 0)))
                self._answers.setdefault(key, record)
            asyncio.run(self._judge_left(left))
            if self.failure is not None:
                raise self.failure
        return [self._lines[key] for key in sorted(self._lines)]

    def release(self, ctx: RunContext) -> None:
        close_unused(self.adapter)  # closed already when it judged beside generation; closing twice is harmless

    def _units(self, records: Sequence[dict[str, Any]]) -> list[Unit]:
        plan = self.plan
        units: list[Unit] = []
        for record in records:
            model, case_id, repeat = record["model"], record["case_id"], int(record.get("repeat", 0))
            case = self.cases.get(case_id)
            if case is None:
                continue
            for kind in self._kinds:
                if kind == "pairwise":
                    if model in plan.candidates:
                        units.append((kind, model, case_id, repeat))
                elif model in self._model_order and applies(kind, case):
                    units.append((kind, model, case_id, repeat))
        return units

    async def _judge_left(self, units: list[Unit]) -> None:
        by_kind: dict[str, list[Unit]] = {}
        for unit in units:
            by_kind.setdefault(unit[0], []).append(unit)
        self._limiter = None
        try:
            for kind in by_kind:
                self._callers[kind] = self._caller(kind)
            await gather_or_cancel([self._judge(kind, group) for kind, group in by_kind.items()])
        finally:
            for caller in self._callers.values():
                caller.close()
            if self.transport is not None:
                await self.transport.close()
            await self.adapter.aclose()
