"""A byte-based progress bar for streaming passes over data files (only on a terminal)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

_REFRESH_S = 0.2


@contextmanager
def byte_progress(
    paths: Sequence[Path], description: str, console: Console, enabled: bool = True, passes: int = 1
) -> Iterator[Callable[[int], None] | None]:
    """Yield an `on_bytes` callback that advances a bar over the files' total size (x passes), or None."""
    if not enabled or not console.is_terminal:
        yield None
        return
    total = sum(p.stat().st_size for p in paths if p.is_file()) * passes
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        auto_refresh=False,
    )
    task = progress.add_task(description, total=total or None)
    done = 0
    last = 0.0

    # Called once per line: it only adds, and touches the bar a few times a second.
    def on_bytes(count: int) -> None:
        nonlocal done, last
        done += count
        now = time.monotonic()
        if now - last >= _REFRESH_S:
            last = now
            progress.update(task, completed=done)
            progress.refresh()

    with progress:
        yield on_bytes
