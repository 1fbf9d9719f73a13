"""The generate stage: every (case, model, repeat) answered once, from the cache or by its model.

Cache hits go straight to the result sink; the rest go to an engine. The direct engine sends
requests from this process with bounded concurrency (harness/run/runner.py); other engines
(Batch API, Ray actors) implement the same `GenerationEngine` protocol. Answers stream into the
sink as they arrive, which caches them and appends them to results.jsonl, so a run killed at
any moment resumes from what it received.

An `AnswerListener` runs beside the engine in the same event loop and sees every answer as it
arrives (pipelined judging: an item is judged as soon as its answers exist). The stage owns
the progress display, so the engine's counters and the listener's show together.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, Protocol

from rich.console import Console

from harness.interrupt import run_async
from harness.models.base import GenerationResponse, ModelAdapter
from harness.progress import show_progress
from harness.run.context import RunContext
from harness.run.plan import WorkItem
from harness.run.runner import ModelCounters, RunState, gather_or_cancel, run_requests
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
        """Answer every pending item through `on_result`, counting in `state.counters` (which the
        stage displays; add counters there for more lines); raise RunError to abort the run."""
        ...


class AnswerListener(Protocol):
    """Work beside generation that sees every answer (cached or new) as it arrives."""

    def start(self, state: RunState) -> None:
        """Before generation: add its counters to `state.counters` to show its progress."""
        ...

    def put(self, item: WorkItem, response: GenerationResponse) -> None:
        """One answer; called on the event loop (or before it starts, for cache hits). Must be quick."""
        ...

    async def run(self, generation_done: asyncio.Event) -> None:
        """Do its work until generation is done and its own work is finished. A RunError here
        aborts the generation too; failures meant for a later stage are kept, not raised."""
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
        await run_requests(adapters, pending, state, on_result)


class GenerateStage:
    phase = "generate_s"
    runs_after_stop = False

    def __init__(self, engine: GenerationEngine | None = None, listener: AnswerListener | None = None) -> None:
        self.engine = engine or DirectEngine()
        self.listener = listener

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
        listener = self.listener
        on_result: OnResult = sink.put
        if listener is not None:
            def on_result(item: WorkItem, response: GenerationResponse) -> None:
                sink.put(item, response)
                listener.put(item, response)

        for item, hit in hits:
            on_result(item, hit)
        if listener is not None:
            listener.start(state)
        try:
            run_async(self._generate(ctx, pending, state, on_result))
        finally:
            try:
                sink.close()
            finally:
                ctx.records = sink.sorted_records()
                ctx.results_failed = sink.results_failed

    async def _generate(self, ctx: RunContext, pending: dict[str, list[WorkItem]], state: RunState, on_result: OnResult) -> None:
        try:
            async with show_progress(state.counters, ctx.console, ctx.options.progress):
                generation = self.engine.generate(ctx.adapters, pending, state, on_result, ctx.console, ctx.options.progress)
                if self.listener is None:
                    await generation
                else:
                    await _beside(generation, self.listener)
        finally:
            for adapter in ctx.adapters.values():
                await adapter.aclose()

    def skip(self, ctx: RunContext) -> None:
        async def close() -> None:
            for adapter in ctx.adapters.values():
                await adapter.aclose()

        asyncio.run(close())


async def _beside(generation: Coroutine[Any, Any, None], listener: AnswerListener) -> None:
    """Generation and the listener side by side; the listener hears when generation is over."""
    done = asyncio.Event()

    async def generate() -> None:
        try:
            await generation
        finally:
            done.set()

    await gather_or_cancel([generate(), listener.run(done)])
