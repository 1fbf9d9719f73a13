"""`harness diff`: what changed between two runs of one suite, and is it a significant regression."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.argument("base_run", type=click.Path(path_type=Path))
@click.argument("new_run", type=click.Path(path_type=Path))
@click.option("-m", "--model", "models", multiple=True, metavar="NAME",
              help="Compare only this model (repeatable). Default: every model in both runs.")
@click.option("-o", "--output", type=click.Path(path_type=Path),
              help="Folder for diff.html and diff.md. Default: NEW_RUN.")
@click.option("--alpha", type=float, default=0.05, show_default=True,
              help="Significance level of the McNemar test (the bootstrap intervals are 95%).")
@click.option("--fail-on-regression", is_flag=True, help="Exit 1 when a regression is significant.")
@click.option("--max-flips", type=click.IntRange(min=0), metavar="N",
              help="Exit 1 when a model has more than N pass→fail flips, significant or not.")
def diff(base_run: Path, new_run: Path, models: tuple[str, ...], output: Path | None, alpha: float,
         fail_on_regression: bool, max_flips: int | None) -> int:
    """Compare NEW_RUN with BASE_RUN case by case: flips, McNemar, paired bootstrap CIs, win-rate change."""
    from rich.markup import escape
    from rich.table import Table

    from harness.errors import EXIT_GATE_FAILED
    from harness.report.diff import diff_runs
    from harness.report.diff_render import model_rows, write_diff
    from harness.run.store import load_run
    from harness.terminal import output_console

    result = diff_runs(load_run(base_run), load_run(new_run), list(models), alpha, max_flips=max_flips)
    out = output_console()
    if result.suite_changed:
        out.print("[yellow]note:[/] the suite file changed between the runs; only cases in both are paired")
    if result.added or result.removed:
        out.print(f"cases added {len(result.added)}, removed {len(result.removed)}")
    for model in result.models:
        test = model.mcnemar
        table = Table(title=f"{escape(model.label)}: {model.paired} paired cases, pass→fail {test.regressions}, "
                            f"fail→pass {test.improvements}, McNemar p={test.p_value:.3g}", title_justify="left")
        for column in ("figure", "before", "after", "change", "95% CI", "n"):
            table.add_column(column, justify="left" if column == "figure" else "right")
        for row in model_rows(model):
            table.add_row(escape(row["figure"]), row["base"], row["new"], f"{row['mark']} {row['delta']}", row["ci"], row["n"])
        out.print(table)
        for flip in model.regressed[:10]:
            out.print(f"  [red]pass → fail[/] {escape(flip.case_id)}: {escape('; '.join(flip.reasons))}", highlight=False)
        if len(model.regressed) > 10:
            out.print(f"  ... and {len(model.regressed) - 10} more")
        for reason in model.reasons:
            out.print(f"[bold red]significant regression:[/] {escape(reason)}", highlight=False)
        note = model.power_note()
        if note:
            out.print(f"[yellow]not shown:[/] {escape(note)}")
    for path in write_diff(result, output or new_run):
        out.print(str(path), highlight=False)
    too_many = result.too_many_flips()
    for model in too_many:
        out.print(f"[bold red]{model.mcnemar.regressions} pass→fail flips[/] for {escape(model.label)}, "
                  f"more than --max-flips {max_flips}")
    if result.significant_regression:
        out.print("[bold red]significant regression[/]" if fail_on_regression else
                  "significant regression (add --fail-on-regression to fail on it)")
        return EXIT_GATE_FAILED if fail_on_regression or too_many else 0
    if too_many:
        return EXIT_GATE_FAILED
    if result.inconclusive:
        out.print("[yellow]no significant regression shown[/], but this sample cannot rule one out (see above)")
        return 0
    out.print("[green]no significant regression[/]")
    return 0
