"""`harness batch list|cancel`: the Batch API batches a run sent, as the cache database recorded them."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

_CACHE_HELP = "Folder of the cache database the run used (default: $HARNESS_CACHE_DIR or ~/.cache/harness)."


def _store_path(cache_dir: Path | None) -> Path:
    from harness.models.cache import default_cache_dir

    return (cache_dir or default_cache_dir()) / "cache.sqlite"


@click.group()
def batch() -> None:
    """Batches sent by `harness run --batch`: list them, cancel them.

    A run stopped while its batches were running (Ctrl-C, a kill) leaves them running at the
    endpoint: the same `harness run` command again re-attaches to them and collects their answers.
    """


@batch.command("list")
@click.argument("run", required=False, type=click.Path(path_type=Path))
@click.option("--all", "everything", is_flag=True, help="Every batch recorded, not only those still running.")
@click.option("--offline", is_flag=True, help="Show the recorded status without asking the API.")
@click.option("--cache-dir", type=click.Path(path_type=Path), help=_CACHE_HELP)
def list_command(run: Path | None, everything: bool, offline: bool, cache_dir: Path | None) -> int:
    """List RUN's batches (default: every batch still running), with their status at the API."""
    from rich.markup import escape
    from rich.table import Table

    from harness.run.batch.admin import list_batches
    from harness.terminal import output_console

    views = list_batches(_store_path(cache_dir), run, everything, refresh=not offline)
    out = output_console(180)
    if not views:
        what = f"for {run}" if run is not None else ("recorded" if everything else "still running")
        out.print(f"no batches {what}", highlight=False)
        return 0
    table = Table(title_justify="left")
    for column in ("batch", "kind", "model", "requests", "status", "done / failed", "created", "collected"):
        table.add_column(column, justify="right" if column in ("requests", "done / failed") else "left")
    for view in views:
        job = view.job
        counts = f"{view.completed} / {view.failed}" if view.completed is not None else ""
        status = view.status + (f" (API: {view.problem})" if view.problem else "")
        table.add_row(
            escape(job.batch_id or "(creating)"), job.kind, escape(job.model), f"{job.requests:,}", escape(status), counts,
            datetime.fromtimestamp(job.created).strftime("%Y-%m-%d %H:%M"),
            "yes" if job.collected is not None else "no",
        )
    out.print(table)
    running = [view for view in views if view.job.collected is None]
    if running:
        out.print("Batches not collected yet: run the same `harness run` command again to collect them, or cancel "
                  "them with `harness batch cancel RUN`.", highlight=False)
    return 0


@batch.command("cancel")
@click.argument("run", required=False, type=click.Path(path_type=Path))
@click.option("--batch", "batch_ids", multiple=True, metavar="ID", help="Cancel this batch (repeatable) instead of a run's.")
@click.option("--cache-dir", type=click.Path(path_type=Path), help=_CACHE_HELP)
def cancel_command(run: Path | None, batch_ids: tuple[str, ...], cache_dir: Path | None) -> int:
    """Cancel RUN's batches that are still running (or those given with --batch).

    Requests a cancelled batch had answered are kept: the next run collects them; the others
    become `batch_cancelled` errors, which the run after that sends again.
    """
    from harness.run.batch.admin import cancel_batches

    done = cancel_batches(_store_path(cache_dir), run, batch_ids)
    if not done:
        click.echo(f"no batches still running for {run}" if run is not None else "nothing to cancel")
        return 0
    for job, outcome in done:
        click.echo(f"{job.batch_id or '(never created)'} ({job.kind}, model {job.model}, {job.requests:,} requests): {outcome}")
    return 0
