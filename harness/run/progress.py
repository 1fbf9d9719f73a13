"""Progress while a run is under way: rich bars on a terminal, a few plain lines in CI logs."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from harness.run.runner import ModelCounters

REFRESH_S = 0.25


@asynccontextmanager
async def show_progress(counters: dict[str, ModelCounters], console: Console, enabled: bool) -> AsyncIterator[None]:
    """Poll the counters instead of being called per request: one refresh costs the same
    whatever the request rate, so progress never shows up in the runner's profile."""
    if not enabled or not counters:
        yield
        return
    if console.is_terminal:
        progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[errors]}"),
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
            console=console,
            auto_refresh=False,
        )
        tasks = {name: progress.add_task(escape(name), total=c.total, errors="") for name, c in counters.items()}

        def refresh() -> None:
            for name, c in counters.items():
                errors = f"[red]{c.errors} errors[/]" if c.errors else ""
                progress.update(tasks[name], completed=c.done, errors=errors)
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

    reported = {name: 0 for name in counters}
    started = time.monotonic()

    def report(final: bool) -> None:
        for name, c in counters.items():
            quarter = (4 * c.done) // max(1, c.total)
            if quarter > reported[name] or (final and c.done and reported[name] < 4):
                reported[name] = quarter
                console.print(
                    f"{name}: {c.done}/{c.total} done, {c.errors} errors, {time.monotonic() - started:.1f}s",
                    markup=False,
                    highlight=False,
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
