"""`harness validate`."""

from __future__ import annotations

from pathlib import Path

import click

from harness.cli.errors import ReportedLines
from harness.errors import HarnessError


@click.command()
@click.argument("suites", nargs=-1, required=True, type=click.Path(path_type=Path))
def validate(suites: tuple[Path, ...]) -> None:
    """Check each SUITE as `run` would before sending anything: schema, cases, checks, model specs,
    local files, baseline/judge/gate references. Prints every problem as file:line:col (exit 2),
    else case counts per source and tag. Never touches the network."""
    from harness.run.preflight import suite_checks
    from harness.suite.loader import load_suite

    problems: list[str] = []
    for path in suites:
        try:
            suite = load_suite(path, extra_checks=suite_checks)
        except HarnessError as exc:
            problems.extend(exc.lines())
            continue
        for note in suite.notes:
            click.echo(str(note))
        click.echo(f"{path}: ok, {len(suite.cases)} cases ({suite.name})")
        for source, count in suite.count_by_source().items():
            click.echo(f"  source {source}: {count}")
        for tag, count in sorted(suite.count_by_tag().items()):
            click.echo(f"  tag {tag}: {count}")
    if problems:
        raise ReportedLines(problems)
