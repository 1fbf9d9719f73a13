"""`harness judge`: human review of a run's pairwise judgments, and the built-in judge templates."""

from __future__ import annotations

from pathlib import Path

import click


@click.group()
def judge() -> None:
    """Human review of LLM-judge verdicts, and the built-in judge templates."""


@judge.command()
@click.argument("run_dir", metavar="RUN", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path),
              help="Where to write the review sheet (default RUN/review.csv). The key is always RUN/review-key.json.")
@click.option("-n", "--limit", type=click.IntRange(min=1), default=100, show_default=True,
              help="Items sampled per candidate.")
@click.option("--candidate", metavar="NAME", help="Only this candidate's comparisons (default: every candidate).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the sampling and the answer order.")
@click.option("--force", is_flag=True, help="Overwrite an existing review sheet.")
def export(run_dir: Path, output: Path | None, limit: int, candidate: str | None, seed: int, force: bool) -> None:
    """Write a blind review sheet (CSV) of RUN's pairwise items for human reviewers.

    Each row has the question and both answers in random order; reviewers fill `verdict`
    with 1, 2 or tie. Then run `harness judge agreement RUN SHEET`.
    """
    from harness.judging.review import SHEET_FILE, export_review
    from harness.run.store import load_run

    run = load_run(run_dir)
    sheet = output or run.path / SHEET_FILE
    rows, key = export_review(run, sheet, limit=limit, seed=seed, candidate=candidate, force=force)
    click.echo(f"Wrote {rows} items to {sheet} (key: {key}). Fill the verdict column with 1, 2 or tie.")


@judge.command()
@click.argument("run_dir", metavar="RUN", type=click.Path(path_type=Path))
@click.argument("labels", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
def agreement(run_dir: Path, labels: Path, as_json: bool) -> None:
    """Judge-human agreement on RUN from a filled review sheet LABELS (columns item, verdict)."""
    import orjson
    from rich.table import Table

    from harness.judging.review import ANCHORS, judge_human_agreement
    from harness.run.store import load_run
    from harness.terminal import make_console

    result = judge_human_agreement(load_run(run_dir), labels)
    if as_json:
        click.echo(orjson.dumps(result.as_dict(), option=orjson.OPT_INDENT_2).decode())
        return

    def pct(value: float | None) -> str:
        return "-" if value is None else f"{100 * value:.0f}%"

    table = Table(title=f"judge vs human ({result.labelled} items labelled, {result.blank} blank)", title_justify="left")
    for column in ("", "with ties", "without ties", "Cohen's kappa"):
        table.add_column(column, justify="right" if column else "left")
    kappa = "-" if result.kappa is None else f"{result.kappa:.2f}"
    table.add_row(
        "this judge vs your reviewers",
        f"{pct(result.with_ties[1])} (n={result.with_ties[0]})",
        f"{pct(result.without_ties[1])} (n={result.without_ties[0]})",
        kappa,
    )
    for name, (with_ties, without_ties) in ANCHORS.items():
        table.add_row(f"MT-Bench: {name}", pct(with_ties), pct(without_ties), "")
    make_console().print(table)


@judge.command()
@click.argument("name", type=click.Choice(["pairwise", "rubric", "rubric_pass_fail", "closed_qa"]))
def template(name: str) -> None:
    """Print a built-in judge template, to copy into your own judges/ folder and edit."""
    from harness.judging.templates import builtin_template_text

    click.echo(builtin_template_text(name), nl=False)
