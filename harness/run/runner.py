"""The async runner: bounded concurrency per model, the error budget (harness.run.budget), a halt flag.

Work is split into batches of the adapter's `max_batch_size`; `max_concurrency` worker
coroutines per model pull batches from a shared iterator. Workers only await the adapter and
hand results to the sink, so per-case work never sits on the event loop's hot path.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from harness.errors import HarnessError, RunError
from harness.models.base import GenerationResponse, ModelAdapter
from harness.run.budget import ErrorBudget, ErrorTally
from harness.run.plan import WorkItem

__all__ = ["ErrorBudget", "ModelCounters", "RunState", "gather_or_cancel", "run_requests"]


@dataclass
class ModelCounters:
    """Progress of one model's requests (what the progress display shows), and its error tally."""

    total: int
    done: int = 0
    errors: int = 0
    successes: int = 0
    tally: ErrorTally = field(default_factory=ErrorTally)

    @property
    def first_error(self) -> str | None:
        return self.tally.quote() or None


@dataclass
class RunState:
    counters: dict[str, ModelCounters]
    budget: ErrorBudget
    # Set (from any thread) when the run must stop sending: a store that cannot be written,
    # a signal. Workers check it before each request and raise it.
    halted: HarnessError | None = None

    def halt(self, error: HarnessError) -> None:
        if self.halted is None:
            self.halted = error


def _batches(items: Sequence[WorkItem], size: int) -> Iterator[list[WorkItem]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


async def _run_model(
    name: str,
    adapter: ModelAdapter,
    items: Sequence[WorkItem],
    state: RunState,
    on_result: Callable[[WorkItem, GenerationResponse], None],
) -> None:
    caps = adapter.capabilities
    batches = _batches(items, max(1, caps.max_batch_size))
    counters = state.counters[name]
    budget = state.budget

    async def worker() -> None:
        for batch in batches:
            if state.halted is not None:
                raise state.halted
            responses = await adapter.generate([item.request for item in batch])
            for item, response in zip(batch, responses, strict=True):
                counters.done += 1
                error = response.error
                counters.tally.add(error)
                if error is None:
                    counters.successes += 1
                else:
                    counters.errors += 1
                    budget.errors += 1
                on_result(item, response)
            # Answers that cost nothing to reproduce (a predictions file) are facts of the
            # data, reported as errors, not a failing endpoint to stop calling.
            reason = budget.verdict(f"model '{name}'", counters.tally, counters.total) if caps.cacheable else None
            if reason is not None:
                raise RunError(reason)

    workers = min(max(1, caps.max_concurrency), max(1, -(-len(items) // max(1, caps.max_batch_size))))
    await gather_or_cancel([worker() for _ in range(workers)])


async def gather_or_cancel(coroutines: Sequence[Coroutine[Any, Any, None]]) -> None:
    """Run coroutines as tasks; on the first failure cancel the others, wait for them, re-raise."""
    tasks = [asyncio.ensure_future(c) for c in coroutines]
    if not tasks:
        return
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        for task in done:
            if not task.cancelled() and task.exception() is not None:
                raise task.exception()  # type: ignore[misc]
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def run_requests(
    adapters: dict[str, ModelAdapter],
    work: dict[str, list[WorkItem]],
    state: RunState,
    on_result: Callable[[WorkItem, GenerationResponse], None],
) -> None:
    """Send every pending request; models run side by side. Raises RunError on abort."""
    await gather_or_cancel(
        [_run_model(name, adapters[name], items, state, on_result) for name, items in work.items() if items]
    )
