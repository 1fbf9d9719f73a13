"""Progress while a run is under way: rich bars on a terminal, a few plain lines in CI logs."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from harness.models.calls import ModelCounters

REFRESH_S = 0.25


@asynccontextmanager
async def show_progress(counters: dict[str, ModelCounters], console: Console, enabled: bool) -> AsyncIterator[None]:
    """Poll the counters instead of being called per request: one refresh costs the same
    whatever the request rate, so progress never shows up in the runner's profile. Counters
    added to the dict while it runs (batches, pipelined judging) get a line of their own."""
    if not enabled or not counters:
        yield
        return
    if console.is_terminal:
        progress = Progress(
            TextColumn("{task.description}", style="bold", markup=False),  # model names are user text: literal
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[errors]}"),
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
            console=console,
            auto_refresh=False,
        )
        tasks: dict[str, TaskID] = {}

        def refresh() -> None:
            for name, c in list(counters.items()):
                if name not in tasks:
                    tasks[name] = progress.add_task(c.label or name, total=c.total, errors="")
                errors = f"[red]{c.errors} errors[/]" if c.errors else ""
                progress.update(tasks[name], completed=c.done, total=c.total, errors=errors,
                                description=c.label or name)
            progress.refresh()

        async def loop() -> None:
            while True:
                refresh()
                await asyncio.sleep(REFRESH_S)

        with progress:
            poller = asyncio.create_task(loop())
            try:
                yield
            finally:
                poller.cancel()
                refresh()
        return

    reported: dict[str, int] = {}
    started = time.monotonic()

    def report(final: bool) -> None:
        for name, c in list(counters.items()):
            quarter = (4 * c.done) // max(1, c.total)
            if quarter > reported.get(name, 0) or (final and c.done and reported.get(name, 0) < 4):
                reported[name] = quarter
                console.print(
                    f"{c.label or name}: {c.done}/{c.total} done, {c.errors} errors, {time.monotonic() - started:.1f}s",
                    highlight=False, markup=False,
                )

    async def plain_loop() -> None:
        while True:
            await asyncio.sleep(1.0)
            report(False)

    poller = asyncio.create_task(plain_loop())
    try:
        yield
    finally:
        poller.cancel()
        report(True)
