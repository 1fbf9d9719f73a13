"""`harness init [DIR]`: write a starter evaluation that validates and runs offline as it is."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.argument("directory", required=False, type=click.Path(path_type=Path, file_okay=False), default=Path("."))
@click.option("--force", is_flag=True, help="Overwrite starter files that already exist.")
def init(directory: Path, force: bool) -> int:
    """Write a starter into DIRECTORY (default: here): a suite with cases, references, a rubric and
    gates; saved answers of two models; an editable judge template in judges/; a sample fine-tuning
    file; and a script for the offline stand-in judge. Nothing is overwritten without --force."""
    from harness.starter import write_starter

    written = write_starter(directory, force)
    for path in written:
        click.echo(f"wrote {path}")
    where = "" if directory.resolve() == Path.cwd().resolve() else f"cd {directory} && "
    click.echo(f"next: {where}harness validate suite.yaml && harness run suite.yaml && harness view")
    return 0
