"""The async runner: bounded concurrency per model, error budget, fail-fast on a dead endpoint.

Work is split into batches of the adapter's `max_batch_size`; `max_concurrency` worker
coroutines per model pull batches from a shared iterator. Workers only await the adapter and
hand results to the sink, so per-case work never sits on the event loop's hot path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from harness.errors import RunError
from harness.models.base import GenerationResponse, ModelAdapter
from harness.models.calls import UNREACHABLE_AFTER, ModelCounters, gather_or_cancel
from harness.run.plan import WorkItem

__all__ = ["UNREACHABLE_AFTER", "ErrorBudget", "ModelCounters", "RunState", "gather_or_cancel", "run_requests"]

@dataclass
class ErrorBudget:
    """`--max-errors`: abort the run when more requests than this have failed."""

    limit: int | None
    errors: int = 0

    @staticmethod
    def parse(text: str | None, total: int) -> ErrorBudget:
        if text is None:
            return ErrorBudget(None)
        value = text.strip()
        try:
            if value.endswith("%"):
                return ErrorBudget(int(total * float(value[:-1]) / 100))
            if "." in value:
                fraction = float(value)
                if not 0 <= fraction <= 1:
                    raise ValueError
                return ErrorBudget(int(total * fraction))
            count = int(value)
            if count < 0:
                raise ValueError
            return ErrorBudget(count)
        except ValueError:
            raise ValueError(f"--max-errors takes a count (10), a fraction (0.05) or a percentage (5%), not '{text}'") from None


@dataclass
class RunState:
    """Counters by name (one per model, plus any work shown beside it: batches, pipelined judging)
    as the progress display shows them, and the run's error budget."""

    counters: dict[str, ModelCounters]
    budget: ErrorBudget
    fatal: list[str] = field(default_factory=list)


def count_result(counters: ModelCounters, budget: ErrorBudget, response: GenerationResponse) -> None:
    """Count one answered (or failed) request of a model."""
    counters.done += 1
    error = response.error
    if error is None:
        counters.successes += 1
        return
    counters.errors += 1
    budget.errors += 1
    if counters.first_error is None:
        counters.first_error = f"{error.kind}: {error.message}"
    if error.kind == "connection":
        counters.connection_errors += 1


def check_budget(name: str, counters: ModelCounters, budget: ErrorBudget) -> None:
    """Raise RunError once more requests have failed than --max-errors allows."""
    if budget.limit is not None and budget.errors > budget.limit:
        raise RunError(
            f"aborted: {budget.errors} requests failed, more than --max-errors allows ({budget.limit}); "
            f"first error of model '{name}': {counters.first_error}"
        )


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
            responses = await adapter.generate([item.request for item in batch])
            for item, response in zip(batch, responses, strict=True):
                count_result(counters, budget, response)
                on_result(item, response)
            if counters.successes == 0 and counters.connection_errors >= min(UNREACHABLE_AFTER, counters.total):
                raise RunError(
                    f"model '{name}': the endpoint is unreachable ({counters.first_error}); "
                    "is the server running, and are OPENAI_BASE_URL / base_url right?"
                )
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
