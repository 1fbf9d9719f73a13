"""`harness validate`."""

from __future__ import annotations

from pathlib import Path

import click

from harness.cli.errors import ReportedLines
from harness.errors import HarnessError


@click.command()
@click.argument("suites", nargs=-1, required=True, type=click.Path(path_type=Path))
def validate(suites: tuple[Path, ...]) -> None:
    """Load and expand each SUITE; print case counts per source and tag. Exit 2 on any problem."""
    from harness.suite.loader import load_suite

    problems: list[str] = []
    for path in suites:
        try:
            suite = load_suite(path)
        except HarnessError as exc:
            problems.extend(exc.lines())
            continue
        click.echo(f"{path}: ok, {len(suite.cases)} cases ({suite.name})")
        for source, count in suite.count_by_source().items():
            click.echo(f"  source {source}: {count}")
        for tag, count in sorted(suite.count_by_tag().items()):
            click.echo(f"  tag {tag}: {count}")
    if problems:
        raise ReportedLines(problems)
