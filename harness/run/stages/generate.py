"""The generate stage: every (case, model, repeat) answered once, from the cache or by its model.

Cache hits go straight to the result sink; the rest go to an engine. The direct engine sends
requests from this process with bounded concurrency (harness/run/runner.py); other engines
(Batch API, Ray actors) implement the same `GenerationEngine` protocol. Answers stream into the
sink as they arrive, which caches them and appends them to results.jsonl, so a run killed at
any moment resumes from what it received.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Protocol

from rich.console import Console

from harness.models.base import GenerationResponse, ModelAdapter
from harness.run.context import RunContext
from harness.run.interrupt import run_async
from harness.run.plan import WorkItem
from harness.run.progress import show_progress
from harness.run.runner import ModelCounters, RunState, run_requests
from harness.run.sink import ResultSink
from harness.run.store import RESULTS_FILE

OnResult = Callable[[WorkItem, GenerationResponse], None]


class GenerationEngine(Protocol):
    """How pending requests reach their models."""

    async def generate(
        self,
        adapters: dict[str, ModelAdapter],
        pending: dict[str, list[WorkItem]],
        state: RunState,
        on_result: OnResult,
        console: Console,
        progress: bool,
    ) -> None:
        """Answer every pending item through `on_result`; raise RunError to abort the run."""
        ...


class DirectEngine:
    """Requests sent from this process: `max_concurrency` workers per model, models side by side."""

    async def generate(
        self,
        adapters: dict[str, ModelAdapter],
        pending: dict[str, list[WorkItem]],
        state: RunState,
        on_result: OnResult,
        console: Console,
        progress: bool,
    ) -> None:
        async with show_progress(state.counters, console, progress):
            await run_requests(adapters, pending, state, on_result)


class GenerateStage:
    phase = "generate_s"
    runs_after_stop = False

    def __init__(self, engine: GenerationEngine | None = None) -> None:
        self.engine = engine or DirectEngine()

    def run(self, ctx: RunContext) -> None:
        pending: dict[str, list[WorkItem]] = {name: [] for name in ctx.model_names}
        hits = []
        for item in ctx.work:
            hit = ctx.cached.get(item.key) if item.key is not None else None
            if hit is not None:
                hits.append((item, hit))
            else:
                pending[item.model].append(item)
        counters = {name: ModelCounters(total=len(items)) for name, items in pending.items() if items}
        state = RunState(counters, ctx.budget)
        # A store that cannot be written halts the runner before its next request.
        sink = ResultSink(ctx.run_dir / RESULTS_FILE, ctx.cache_path, on_failure=state.halt)
        for item, hit in hits:
            sink.put(item, hit)
        try:
            run_async(self._generate(ctx, pending, state, sink))
        finally:
            try:
                sink.close()
            finally:
                ctx.records = sink.sorted_records()
                ctx.results_failed = sink.results_failed

    async def _generate(
        self, ctx: RunContext, pending: dict[str, list[WorkItem]], state: RunState, sink: ResultSink
    ) -> None:
        try:
            await self.engine.generate(ctx.adapters, pending, state, sink.put, ctx.console, ctx.options.progress)
        finally:
            for adapter in ctx.adapters.values():
                await adapter.aclose()

    def skip(self, ctx: RunContext) -> None:
        async def close() -> None:
            for adapter in ctx.adapters.values():
                await adapter.aclose()

        asyncio.run(close())
