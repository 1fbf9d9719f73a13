"""`harness judge`: judge a finished run again, human review of its judgments, the built-in judge templates."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

RERUN = "rerun"


class JudgeGroup(click.Group):
    """`harness judge RUN ...` is short for `harness judge rerun RUN ...`: a first argument that is
    not a subcommand is taken as a run directory. A subcommand's name always wins, so a run
    directory called `export` is re-judged with `harness judge rerun export`."""

    def resolve_command(self, ctx: click.Context, args: list[str]) -> tuple[str | None, click.Command | None, list[str]]:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            if not Path(args[0]).exists():
                raise click.UsageError(
                    f"'{args[0]}' is neither a `harness judge` command ({', '.join(self.commands)}) nor a run directory"
                )
            return RERUN, self.commands[RERUN], args
        return super().resolve_command(ctx, args)


@click.group(cls=JudgeGroup)
def judge() -> None:
    """Judge a finished run again (`harness judge RUN --judge SPEC`, short for `harness judge rerun`),
    human review of LLM-judge verdicts, and the built-in judge templates."""


@judge.command(name=RERUN)
@click.argument("run_dir", metavar="RUN", type=click.Path(path_type=Path))
@click.option("--judge", "judge_spec", metavar="SPEC",
              help="Judge model (a spec or a suite model name). Default: RUN's judge.")
@click.option("--baseline", metavar="NAME|SPEC",
              help="Compare with this model of RUN, or with recorded answers (run:RUN-DIR#MODEL, predictions:FILE). "
                   "Default: RUN's baseline.")
@click.option("--template", "templates", multiple=True, metavar="KIND=TEMPLATE",
              help="Judge template for pairwise, rubric or closed_qa: a built-in name, a YAML file, or off "
                   "(repeatable). Default: the suite's judge: block.")
@click.option("--suite", type=click.Path(path_type=Path), help="The suite file (default: the one RUN was made from).")
@click.option("-o", "--output", type=click.Path(path_type=Path),
              help="Folder for the new run directory (default: the folder that holds RUN).")
@click.option("-g", "--gate", "gates", multiple=True, metavar="EXPR", help="Gate deciding the exit code (repeatable).")
@click.option("-c", "--concurrency", type=click.IntRange(min=1), default=32, show_default=True,
              help="Judge requests in flight.")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=60.0, show_default=True,
              help="Per-request timeout in seconds.")
@click.option("--max-retries", type=click.IntRange(min=0), default=4, show_default=True,
              help="Retries on rate limits, 5xx and connection errors.")
@click.option("--no-cache", is_flag=True, help="Neither read nor write cached judgments.")
@click.option("--allow-stale", is_flag=True, help="Judge cases that changed in the suite since RUN, with RUN's answers.")
@click.option("--allow-other-suite", is_flag=True, help="Accept a --suite or run: baseline of another suite name.")
@click.option("-q", "--quiet", is_flag=True, help="No progress display.")
def rerun(run_dir: Path, judge_spec: str | None, baseline: str | None, templates: tuple[str, ...], suite: Path | None,
          output: Path | None, gates: tuple[str, ...], concurrency: int, timeout: float, max_retries: int,
          no_cache: bool, allow_stale: bool, allow_other_suite: bool, quiet: bool) -> int:
    """Judge RUN's answers again, with another judge, template or baseline; nothing is generated.

    Writes a new run directory whose run.json links to RUN (`rejudged_from`). Judgments already
    cached for the same judge and template are reused. Exit 1 when a gate fails.
    """
    from harness.api import RejudgeOptions, rejudge_run
    from harness.errors import EXIT_GATE_FAILED
    from harness.gates.console import print_gates
    from harness.report.console import print_summary
    from harness.run.rejudge import parse_template_option
    from harness.terminal import make_console, output_console

    chosen: dict[str, Any] = dict(parse_template_option(text) for text in templates)
    options = RejudgeOptions(
        judge=judge_spec, baseline=baseline, templates=chosen, suite=suite, output_dir=output, gates=list(gates),
        concurrency=concurrency, timeout=timeout, max_retries=max_retries, use_cache=not no_cache,
        progress=not quiet, allow_stale=allow_stale, allow_other_suite=allow_other_suite,
    )
    outcome = rejudge_run(run_dir, options, make_console(stderr=True))
    out = output_console()
    print_summary(outcome.summary, out, title=outcome.run_dir.name)
    for warning in outcome.warnings:
        click.echo(f"warning: {warning}", err=True)
    print_gates(outcome.gates, out)
    out.print(f"Run directory: {outcome.run_dir} (judged again from {run_dir}; report.html, summary.md)", markup=False)
    return 0 if outcome.gates_passed else EXIT_GATE_FAILED


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
    from harness.report.review import SHEET_FILE, export_review
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

    from harness.report.review import ANCHORS, judge_human_agreement
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
@click.argument("name", type=click.Choice(["pairwise", "rubric", "rubric_pass_fail", "closed_qa", "label"]))
def template(name: str) -> None:
    """Print a built-in judge template, to copy into your own judges/ folder and edit."""
    from harness.judging.templates import builtin_template_text

    click.echo(builtin_template_text(name), nl=False)
