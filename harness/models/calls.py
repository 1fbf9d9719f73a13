"""Calling a model many times over: counters per model (with their error tally), gather-or-cancel.

Shared by generation (harness/run/runner.py) and judging (harness/judging/caller.py), below both,
so that judging does not import the run package that composes it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any

from harness.models.budget import ErrorTally


@dataclass
class ModelCounters:
    """Requests of one model (or of any line the progress display shows: a batch, the judge)."""

    total: int
    done: int = 0
    errors: int = 0
    successes: int = 0
    label: str | None = None  # what the progress display shows instead of the name (a batch and its status)
    tally: ErrorTally = field(default_factory=ErrorTally)  # the live requests, for the error budget

    @property
    def first_error(self) -> str | None:
        """The most frequent kind of error and the server's words for it."""
        return self.tally.quote() or None


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
