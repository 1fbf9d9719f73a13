"""`harness cache`: see what the response cache holds, prune it, and move it between machines."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def cache_dir_option(function: F) -> F:
    decorator = click.option(
        "--cache-dir", type=click.Path(path_type=Path, file_okay=False), metavar="DIR",
        help="The cache folder (default: $HARNESS_CACHE_DIR, else $XDG_CACHE_HOME/harness or ~/.cache/harness).",
    )
    return decorator(function)


def _size(count: int) -> str:
    value = float(count)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"


def _age(seconds: float) -> str:
    if seconds < 60:
        return f"{max(0, int(seconds))}s"
    if seconds < 3600:
        return f"{int(seconds // 60)}m"
    if seconds < 86400:
        return f"{int(seconds // 3600)}h"
    return f"{int(seconds // 86400)}d"


def _counts(entries: dict[str, int]) -> str:
    return " and ".join(f"{count:,} {kind}" for kind, count in entries.items())


@click.group()
def cache() -> None:
    """The response cache: what it holds, pruning, export and import (for CI runners that start empty)."""


@cache.command()
@cache_dir_option
@click.option("--dir", "folder", is_flag=True, help="Print the cache folder instead of the database file.")
def path(cache_dir: Path | None, folder: bool) -> None:
    """Print where the cache database is."""
    from harness.run.cache_admin import cache_file

    found = cache_file(cache_dir)
    click.echo(str(found.parent if folder else found))


@cache.command()
@cache_dir_option
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
def info(cache_dir: Path | None, as_json: bool) -> None:
    """Size, and entries per model fingerprint and kind (answers, judgments) with their ages."""
    import time

    import orjson
    from rich.console import Console
    from rich.table import Table

    from harness.run.cache_admin import cache_file, cache_info

    found = cache_info(cache_file(cache_dir))
    if as_json:
        data = {
            "path": str(found.path),
            "size_bytes": found.size_bytes,
            "groups": [vars(group) for group in found.groups],
        }
        click.echo(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode())
        return
    if not found.groups:
        click.echo(f"The cache at {found.path} is empty.")
        return
    now = time.time()
    table = Table(title=f"{found.path} ({_size(found.size_bytes)})", title_justify="left")
    for column in ("kind", "fingerprint", "entries", "size", "newest", "oldest"):
        table.add_column(column, justify="right" if column in ("entries", "size", "newest", "oldest") else "left",
                         overflow="fold")
    for group in found.groups:
        table.add_row(group.kind, group.fingerprint, f"{group.entries:,}", _size(group.payload_bytes),
                      _age(now - group.newest), _age(now - group.oldest))
    # Fingerprints are shown as written: no markup, no `:name:` emoji codes, no highlighting.
    plain: dict[str, Any] = {"markup": False, "emoji": False, "highlight": False}
    console = Console(**plain) if Console().is_terminal else Console(width=200, **plain)
    console.print(table)
    click.echo(f"{found.entries('answers'):,} answers, {found.entries('judgments'):,} judgments; ages are time since cached.")


@cache.command()
@cache_dir_option
@click.option("--older-than", metavar="AGE", help="Entries cached longer ago than this: 30d, 12h, 90m, 2w.")
@click.option("-m", "--model", "models", multiple=True, metavar="SPEC",
              help="Entries of this model (repeatable): an endpoint model on every endpoint, an hf: model by its weights.")
@click.option("--fingerprint", "fingerprints", multiple=True, metavar="GLOB",
              help="Entries whose fingerprint (as `harness cache info` shows) matches this glob (repeatable).")
@click.option("--kind", type=click.Choice(["answers", "judgments"]), help="Only this kind of entry (default: both).")
@click.option("--dry-run", is_flag=True, help="Count what would be removed; remove nothing.")
@click.option("--compact", is_flag=True,
              help="Then rewrite the file to give the freed space back to the disk (locks the cache while it runs).")
def prune(cache_dir: Path | None, older_than: str | None, models: tuple[str, ...], fingerprints: tuple[str, ...],
          kind: str | None, dry_run: bool, compact: bool) -> None:
    """Remove cached entries. Given criteria combine: an entry must meet all of them."""
    from harness.errors import UsageError
    from harness.run.cache_admin import cache_file, model_patterns, parse_duration
    from harness.run.cache_admin import prune as prune_cache

    if older_than is None and not models and not fingerprints and kind is None:
        raise UsageError("say what to prune: --older-than AGE, --model SPEC, --fingerprint GLOB and/or --kind KIND")
    seconds = parse_duration(older_than) if older_than is not None else None
    patterns = [pattern for spec in models for pattern in model_patterns(spec)] + list(fingerprints)
    target = cache_file(cache_dir)
    result = prune_cache(target, seconds, patterns, [kind] if kind else [], dry_run=dry_run, compact=compact)
    if dry_run:
        click.echo(f"Would remove {_counts(result.removed)} from {target}.")
        return
    click.echo(f"Removed {_counts(result.removed)} from {target}.")
    if result.compacted:
        click.echo(f"The file went from {_size(result.size_before)} to {_size(result.size_after)}.")
    elif any(result.removed.values()):
        click.echo("Freed space is reused by later entries; --compact gives it back to the disk.")


@cache.command()
@cache_dir_option
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
def export(cache_dir: Path | None, file: Path) -> None:
    """Write the cache's answers and judgments to FILE, a portable SQLite file for `harness cache import`.

    Safe while a run uses the cache: the export is one consistent snapshot.
    """
    from harness.run.cache_admin import cache_file, export_cache

    result = export_cache(cache_file(cache_dir), file)
    click.echo(f"Exported {_counts(result.entries)} to {file} ({_size(result.size_bytes)}).")


@cache.command(name="import")
@cache_dir_option
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
def import_(cache_dir: Path | None, file: Path) -> None:
    """Merge FILE (written by `harness cache export`) into the cache; entries it already has are kept."""
    from harness.run.cache_admin import cache_file, import_cache

    target = cache_file(cache_dir)
    result = import_cache(target, file)
    kept = sum(result.kept.values())
    click.echo(f"Imported {_counts(result.entries)} into {target}" + (f" ({kept:,} were already there)." if kept else "."))
