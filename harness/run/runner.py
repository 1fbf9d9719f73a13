"""The async runner: bounded concurrency per model, the error budget (harness.models.budget), a halt flag.

Work is split into batches of the adapter's `max_batch_size`; `max_concurrency` worker
coroutines per model pull batches from a shared iterator. Workers only await the adapter and
hand results to the sink, so per-case work never sits on the event loop's hot path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from harness.errors import HarnessError, RunError
from harness.models.base import GenerationResponse, ModelAdapter
from harness.models.budget import NOT_ENDPOINT_FAILURES, ErrorBudget
from harness.models.calls import ModelCounters, gather_or_cancel
from harness.run.plan import WorkItem

__all__ = ["ErrorBudget", "ModelCounters", "RunState", "gather_or_cancel", "run_requests"]


@dataclass
class RunState:
    """Counters by name (one per model, plus any work shown beside it: batches, pipelined judging)
    as the progress display shows them, and the run's error budget."""

    counters: dict[str, ModelCounters]
    budget: ErrorBudget
    # Set (from any thread) when the run must stop sending: a store that cannot be written.
    # Workers check it before each request and raise it.
    halted: HarnessError | None = None

    def halt(self, error: HarnessError) -> None:
        if self.halted is None:
            self.halted = error


def count_result(counters: ModelCounters, budget: ErrorBudget, response: GenerationResponse) -> None:
    """Count one answered (or failed) request of a model."""
    counters.done += 1
    counters.tally.add(response.error)
    if response.error is None:
        counters.successes += 1
        return
    counters.errors += 1
    if response.error.kind not in NOT_ENDPOINT_FAILURES:
        budget.errors += 1


def check_budget(name: str, counters: ModelCounters, budget: ErrorBudget) -> None:
    """Raise RunError once the model's failed requests spend the error budget."""
    reason = budget.verdict(f"model '{name}'", counters.tally, counters.total)
    if reason is not None:
        raise RunError(reason)


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
                count_result(counters, budget, response)
                on_result(item, response)
            # Answers that cost nothing to reproduce (a predictions file) are facts of the
            # data, reported as errors, not a failing endpoint to stop calling.
            if caps.cacheable:
                check_budget(name, counters, budget)

    workers = min(max(1, caps.max_concurrency), max(1, -(-len(items) // max(1, caps.max_batch_size))))
    await gather_or_cancel([worker() for _ in range(workers)])


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
