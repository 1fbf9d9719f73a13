"""`harness run`."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.argument("suite", type=click.Path(path_type=Path))
@click.option("-m", "--model", "models", multiple=True, metavar="SPEC",
              help="Model to run (repeatable): a name from the suite's models:, ft:..., openai:NAME, gpt-4o-mini, "
                   "hf:PATH[+ADAPTER], predictions:FILE, run:RUN-DIR[#MODEL]. Default: every model in the suite.")
@click.option("--baseline", metavar="SPEC",
              help="Model the others are compared with, side by side by an LLM judge (a suite model name or a spec); "
                   "generated in the same run, or read from an earlier one with run:RUN-DIR[#MODEL] (a frozen baseline). "
                   "Default: the suite's baseline:.")
@click.option("--judge", "judges", multiple=True, metavar="SPEC",
              help="Judge model (a suite model name or a spec); repeat it for a panel of judges. Overrides the "
                   "suite's judge.model / judge.models.")
@click.option("--ranking", type=click.Choice(["baseline", "round_robin"]),
              help="Which pairs the judge compares: each candidate with the baseline, or every pair of models in "
                   "both orders (round_robin). Default: the suite's ranking: (baseline).")
@click.option("--max-judge-calls", type=click.IntRange(min=0), metavar="N",
              help="Refuse to start (exit 2) when the judging plan takes more than N judge calls.")
@click.option("-o", "--output", type=click.Path(path_type=Path), default=Path("reports"), show_default=True,
              help="Folder under which the run directory is created.")
@click.option("-c", "--concurrency", type=click.IntRange(min=1), default=32, show_default=True,
              help="Requests in flight per model.")
@click.option("--limit", type=click.IntRange(min=1), help="Run only the first N selected cases.")
@click.option("--filter", "filters", multiple=True, metavar="GLOB",
              help="Run cases whose id or a tag matches this glob (repeatable).")
@click.option("--repeat", type=click.IntRange(min=1), default=1, show_default=True,
              help="Independent samples per case (each repeat has its own cache entry).")
@click.option("--no-cache", is_flag=True, help="Neither read nor write the response cache.")
@click.option("--max-errors", metavar="N|FRACTION|none",
              help="Stop with exit 3 when more requests fail: a count (10), fraction (0.05) or percentage (5%); "
                   "'none' never stops. Default: 10 failures in a row, or over 10% of a model's requests once 50 "
                   "have finished.")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=60.0, show_default=True,
              help="Per-request timeout in seconds (each attempt).")
@click.option("--max-request-time", type=click.FloatRange(min=0, min_open=True), metavar="SECONDS",
              help="Most time one request may take, retries and backoff included (default: 3 x --timeout).")
@click.option("--max-retries", type=click.IntRange(min=0), default=4, show_default=True,
              help="Retries on rate limits, 5xx and connection errors (exponential backoff, Retry-After honoured).")
@click.option("-g", "--gate", "gates", multiple=True, metavar="EXPR",
              help="Gate deciding the exit code (repeatable), added to the suite's gates: e.g. 'win_rate >= 0.7', "
                   "'pass_rate[tuned] >= 90%', 'latency_p95 <= 2'. Exit 1 when one fails.")
@click.option("--monthly-requests", type=click.IntRange(min=1), metavar="N",
              help="Requests a month for the cost projection and the fine-tune break-even (default: the suite's cost:).")
@click.option("--allow-stale", is_flag=True,
              help="run: models answer cases that changed since the recording with the recorded answer "
                   "(default: such cases are stale errors, not judged).")
@click.option("--allow-other-suite", is_flag=True,
              help="Accept run: recordings made from a suite of another name (default: refused, exit 2).")
@click.option("--batch", is_flag=True,
              help="Send every model's requests and the judge's through the OpenAI Batch API: half price, answers "
                   "within 24 h. A killed run started again re-attaches to its batches (see `harness batch`).")
@click.option("--no-pipeline", is_flag=True,
              help="Judge only once every answer exists (default: an item is judged as soon as its answers do).")
@click.option("--ray", "ray_address", metavar="ADDRESS",
              help="Generate hf: models on Ray actors: 'local' starts Ray on this machine; 'auto', 'ray://HEAD:10001' "
                   "or HOST:PORT attach to a running cluster (needs pip install 'harness[ray]').")
@click.option("-q", "--quiet", is_flag=True, help="No progress display.")
def run(suite: Path, models: tuple[str, ...], baseline: str | None, judges: tuple[str, ...], ranking: str | None,
        max_judge_calls: int | None, output: Path, concurrency: int, limit: int | None,
        filters: tuple[str, ...], repeat: int, no_cache: bool, max_errors: str | None, timeout: float,
        max_request_time: float | None, max_retries: int, gates: tuple[str, ...], monthly_requests: int | None,
        allow_stale: bool, allow_other_suite: bool, batch: bool, no_pipeline: bool,
        ray_address: str | None, quiet: bool) -> int:
    """Run SUITE against one or more models and write a run directory."""
    from harness.api import RunOptions, run_suite
    from harness.errors import EXIT_GATE_FAILED
    from harness.gates.console import print_gates
    from harness.report.console import print_summary
    from harness.terminal import make_console, output_console

    options = RunOptions(
        models=list(models), output_dir=output, concurrency=concurrency, limit=limit, filters=list(filters),
        repeat=repeat, use_cache=not no_cache, max_errors=max_errors, timeout=timeout, max_retries=max_retries,
        max_request_time=max_request_time,
        progress=not quiet, baseline=baseline, judge=judges[0] if len(judges) == 1 else None,
        judges=list(judges) if len(judges) > 1 else [], ranking=ranking, max_judge_calls=max_judge_calls,
        gates=list(gates), monthly_requests=monthly_requests, allow_stale=allow_stale,
        allow_other_suite=allow_other_suite, batch=batch, pipeline=not no_pipeline, ray=ray_address,
    )
    outcome = run_suite(suite, options, make_console(stderr=True))
    out = output_console()
    print_summary(outcome.summary, out, title=outcome.run_dir.name)
    for warning in outcome.warnings:
        click.echo(f"warning: {warning}", err=True)
    print_gates(outcome.gates, out)
    out.print(f"Run directory: {outcome.run_dir} (report.html, summary.md, junit.xml)", markup=False)
    errors = outcome.errors_line
    if errors is not None:  # the last line: an exit 0 must not hide failed requests
        out.file.flush()
        click.echo(errors, err=True)
    return 0 if outcome.gates_passed else EXIT_GATE_FAILED
