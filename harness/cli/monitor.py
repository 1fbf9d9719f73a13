"""`harness monitor`: run a suite on a schedule against a deployed model, alert on broken rules."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.argument("suite", type=click.Path(path_type=Path))
@click.option("-m", "--model", "models", multiple=True, metavar="SPEC",
              help="Model to watch (repeatable): a name from the suite's models:, openai:NAME, ft:..., a plain OpenAI name. "
                   "Default: every model in the suite.")
@click.option("--every", metavar="DURATION", help="Start a run this often: 30s, 15m, 1h, 1h30m, 1d.")
@click.option("--once", is_flag=True, help="One run, then exit: 1 when a rule broke, 0 otherwise (for cron and CI schedules).")
@click.option("--runs", type=click.IntRange(min=1), metavar="N", help="With --every: stop after N runs (default: run until stopped).")
@click.option("--baseline", metavar="SPEC",
              help="Model the others are compared with by the judge (for win_rate rules); pin it with a predictions: "
                   "file or an earlier run.")
@click.option("--judge", metavar="SPEC", help="Judge model; overrides the suite's judge.model.")
@click.option("-o", "--output", type=click.Path(path_type=Path), default=Path("reports"), show_default=True,
              help="Folder of the run directories and history.sqlite the rules read.")
@click.option("--metrics-port", type=click.IntRange(min=1, max=65535), metavar="PORT",
              help="Serve Prometheus gauges on http://ADDRESS:PORT/metrics (e.g. 9108).")
@click.option("--metrics-address", default="0.0.0.0", show_default=True, metavar="ADDRESS",
              help="Address /metrics listens on.")
@click.option("--textfile", "textfile_dir", type=click.Path(path_type=Path), metavar="DIR",
              help="Also write the gauges to DIR/harness_<suite>_<models>.prom for node_exporter's textfile collector.")
@click.option("-c", "--concurrency", type=click.IntRange(min=1), default=32, show_default=True, help="Requests in flight per model.")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=60.0, show_default=True,
              help="Per-request timeout in seconds.")
@click.option("--max-retries", type=click.IntRange(min=0), default=4, show_default=True,
              help="Retries on rate limits, 5xx and connection errors.")
@click.option("--max-errors", metavar="N|FRACTION", help="A run with more failed requests counts as a failed run.")
def monitor(suite: Path, models: tuple[str, ...], every: str | None, once: bool, runs: int | None, baseline: str | None,
            judge: str | None, output: Path, metrics_port: int | None, metrics_address: str, textfile_dir: Path | None,
            concurrency: int, timeout: float, max_retries: int, max_errors: str | None) -> int:
    """Run SUITE against a deployed model now and then, check the suite's monitor: rules after each run.

    Every run is a normal run directory under --output, indexed in its history.sqlite. A broken rule
    prints one ALERT line and, with `webhook:` in the monitor block, is POSTed there as JSON. A run
    that fails counts as the broken rule `run_completes`; the monitor carries on. Answers are never
    taken from the response cache.
    """
    from harness.errors import EXIT_GATE_FAILED, UsageError
    from harness.monitor.service import Monitor, MonitorOptions, parse_duration
    from harness.suite.loader import load_suite

    if once == (every is not None):
        raise UsageError("give --every DURATION for a long-running monitor, or --once for one run (cron, CI)")
    if once and (metrics_port is not None or runs is not None):
        raise UsageError(f"{'--metrics-port' if metrics_port is not None else '--runs'} needs --every, not --once "
                         "(with cron, export through --textfile)")
    try:
        interval = parse_duration(every) if every is not None else None
    except ValueError as exc:
        raise UsageError(f"--every {exc}") from None
    loaded = load_suite(suite)

    def out(line: str) -> None:
        click.echo(line)

    def err(line: str) -> None:
        click.echo(line, err=True)

    options = MonitorOptions(
        models=list(models), output_dir=output, baseline=baseline, judge=judge, every=interval, runs=runs,
        metrics_port=metrics_port, metrics_address=metrics_address, textfile_dir=textfile_dir,
        concurrency=concurrency, timeout=timeout, max_retries=max_retries, max_errors=max_errors,
    )
    watcher = Monitor(loaded, options, out, err)
    if not watcher.rules:
        err(f"warning: {suite} has no monitor: rules; only failed runs raise alerts")
    if once:
        iteration = watcher.run_once()
        return EXIT_GATE_FAILED if iteration.broken else 0
    watcher.start_server()
    try:
        watcher.run_forever()
    finally:
        watcher.stop()
    return 0
