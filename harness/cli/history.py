"""`harness history`: past runs with their headline figures, and the trend of each figure."""

from __future__ import annotations

from pathlib import Path

import click


def _suite_name(value: str) -> str:
    """A suite name, or the name a suite file declares (its stem when it declares none)."""
    path = Path(value)
    if path.suffix in (".yaml", ".yml") and path.is_file():
        import yaml

        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (yaml.YAMLError, OSError):
            data = None
        name = data.get("name") if isinstance(data, dict) else None
        if isinstance(name, str):
            return name
        return path.stem
    return value


@click.command()
@click.argument("suite", required=False)
@click.option("-d", "--dir", "directory", type=click.Path(path_type=Path), default=Path("reports"), show_default=True,
              help="Folder holding the run directories and history.sqlite.")
@click.option("-n", "--limit", type=click.IntRange(min=1), default=20, show_default=True, help="Show the last N runs.")
@click.option("-f", "--figure", "figures", multiple=True, metavar="NAME",
              help="Figures to show (repeatable; default pass_rate, win_rate, and the run's reference metrics).")
@click.option("-m", "--model", "models", multiple=True, metavar="NAME", help="Only these models (repeatable).")
@click.option("--prometheus", is_flag=True,
              help="Print the latest figures of SUITE in the Prometheus exposition format (what `harness monitor` exports).")
@click.option("--html", "html", is_flag=True,
              help="Write the history page (trend charts, runs linked to their reports) instead of the tables.")
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None,
              help="Where --html writes the page (default DIR/history-SUITE.html).")
def history(suite: str | None, directory: Path, limit: int, figures: tuple[str, ...], models: tuple[str, ...],
            prometheus: bool, html: bool, output: Path | None) -> int:
    """List runs of SUITE (a name or a suite file) with their figures, and each figure's trend.

    Runs are indexed in DIR/history.sqlite when they finish; run directories found under DIR that
    are not indexed yet are added first. Without SUITE, lists the suites the history knows.
    """
    from rich.markup import escape
    from rich.table import Table

    from harness.errors import UsageError
    from harness.gates.figures import FIGURES, format_value
    from harness.report.history import index_directory, load_history, sparkline, suites, trends
    from harness.terminal import output_console

    if not directory.is_dir():
        raise UsageError(f"no run history: '{directory}' does not exist (give the runs' folder with --dir)")
    index_directory(directory)
    out = output_console(180)
    if html and suite is None:
        raise UsageError("--html draws one suite's history: give SUITE (`harness history` lists them)")
    if suite is None:
        if prometheus:
            raise UsageError("--prometheus needs a SUITE (a name or a suite file)")
        table = Table(title=f"suites in {directory}", title_justify="left")
        table.add_column("suite")
        table.add_column("runs", justify="right")
        for name, count in suites(directory):
            table.add_row(escape(name), str(count))
        out.print(table)
        return 0
    name = _suite_name(suite)
    if prometheus:
        from harness.monitor.exposition import print_history_exposition

        return print_history_exposition(suite, name, directory, list(models))
    runs = load_history(directory, name, limit, models)
    if not runs:
        known = ", ".join(n for n, _ in suites(directory)) or "none"
        raise UsageError(f"no runs of suite '{name}' under {directory} (suites: {known})")
    if html:
        from harness.report.history_html import write_history_html
        from harness.run.store import slug

        page = write_history_html(name, runs, output or directory / f"history-{slug(name)}.html", figures, models)
        click.echo(str(page))
        return 0

    available: list[str] = []
    for run in runs:
        available.extend(f for _, f in run.figures if f not in available)
    if figures:
        shown = list(figures)
    else:
        preferred = [f for f in ("pass_rate", "win_rate", "rubric") if f in available]
        shown = preferred + [f for f in available if f not in FIGURES][:4]

    def fmt(figure: str, value: float | None) -> str:
        kind = FIGURES[figure].kind if figure in FIGURES else "score"
        return format_value(value, kind)

    table = Table(title=f"{escape(name)}: last {len(runs)} runs", title_justify="left")
    for column in ("started", "run", "status", "gates", "model", *shown):
        table.add_column(column.replace("_", " "), justify="right" if column in shown else "left", overflow="fold")
    for run in runs:
        gates = "-" if not run.gates_total else ("[green]pass[/]" if not run.gates_failed
                                                  else f"[red]{run.gates_failed} failed[/]")
        for index, model in enumerate(run.models):
            if models and model not in models:
                continue
            first = index == 0
            table.add_row(
                (run.started_at or "")[:16].replace("T", " ") if first else "",
                escape(run.run_id) if first else "",
                escape(run.status or "") if first else "",
                gates if first else "",
                escape(model) + (" (baseline)" if model == run.baseline else ""),
                *[fmt(f, run.figures.get((model, f))) for f in shown],
            )
    out.print(table)

    trend_table = Table(title="trend (oldest → newest)", title_justify="left")
    for column in ("model", "figure", "trend", "latest", "change", "range"):
        trend_table.add_column(column, justify="right" if column in ("latest", "change", "range") else "left")
    for trend in trends(runs):
        if trend.figure not in shown or (models and trend.model not in models):
            continue
        change = trend.change
        kind = FIGURES[trend.figure].kind if trend.figure in FIGURES else "score"
        if change is None:
            change_text = "-"
        elif kind == "fraction":
            change_text = f"{100 * change:+.1f} pts"
        else:
            change_text = ("+" if change >= 0 else "-") + fmt(trend.figure, abs(change))
        colour = "red" if trend.worse else ("green" if change else "")
        trend_table.add_row(
            escape(trend.model), trend.figure, sparkline(trend.values), fmt(trend.figure, trend.last),
            f"[{colour}]{change_text}[/]" if colour else change_text,
            f"{fmt(trend.figure, min(trend.values))} – {fmt(trend.figure, max(trend.values))}",
        )
    out.print(trend_table)
    return 0
