"""`harness gate`: re-evaluate gates on a finished run, without calling any model."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option("-g", "--gate", "gates", multiple=True, metavar="EXPR",
              help="Gate expression, repeatable (e.g. 'win_rate >= 0.7', 'pass_rate[tuned] >= 90%'); "
                   "evaluated with the gates the run recorded.")
@click.option("--only", is_flag=True, help="Evaluate only the --gate expressions, not the ones the run recorded.")
def gate(run_dir: Path, gates: tuple[str, ...], only: bool) -> int:
    """Evaluate gates over RUN_DIR's summary.json: exit 0 when all pass, 1 when one fails."""
    from harness.errors import EXIT_GATE_FAILED, UsageError
    from harness.gates.console import print_gates
    from harness.gates.evaluate import evaluate_gates, parse_gates, run_gate_texts
    from harness.gates.figures import RunFigures
    from harness.report.finalize import refresh_bounds
    from harness.run.store import load_run
    from harness.terminal import output_console

    parsed = parse_gates(list(gates))
    data = load_run(run_dir)
    if data.summary is None:
        raise UsageError(f"'{run_dir}' has no summary.json: the run did not get far enough to be gated")
    recorded = [] if only else parse_gates(run_gate_texts(data.run), origin="recorded gate")
    if not recorded and not parsed:
        raise UsageError("no gates to evaluate: the run recorded none; give --gate EXPR")
    refresh_bounds(data)  # a run summarized before today's bounds is gated with them
    outcomes = evaluate_gates([*recorded, *parsed], RunFigures(data.summary, data.run))
    print_gates(outcomes, output_console())
    return 0 if all(o.passed for o in outcomes) else EXIT_GATE_FAILED
