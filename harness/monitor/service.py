"""The monitor: run a suite on a schedule, index each run, check the rules, alert, export gauges.

One iteration is `run_suite` (no response cache: a deployed model is asked every time), the
rules against the history of the suite, one alert line per broken rule and one webhook POST per
run with broken rules, then a fresh snapshot for `/metrics` and the textfile. A run that fails
(endpoint down, error budget spent, anything raised) breaks the built-in `run_completes` rule
and the monitor carries on; only Ctrl-C or SIGTERM stops it.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness.errors import HarnessError, UsageError
from harness.gates.figures import RunFigures
from harness.monitor.alerts import Webhook, alert_line, alert_payload, resolve_webhook
from harness.monitor.evaluate import (
    PastRuns,
    RuleResult,
    completed_run_results,
    evaluate_rules,
    failed_run_results,
    read_run_figures,
)
from harness.monitor.metrics import (
    Snapshot,
    SnapshotCollector,
    registry_for,
    serve,
    textfile_path,
    timestamp,
    write_textfile,
)
from harness.monitor.rules import RUN_COMPLETES, Rule, parse_rules
from harness.suite.loader import Suite

Log = Callable[[str], None]
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_duration(text: str) -> float:
    """`90s`, `15m`, `1h30m`, `1d` or plain seconds (`30`) as seconds. ValueError otherwise."""
    value = text.strip().lower()
    if re.fullmatch(r"\d+(?:\.\d+)?", value):
        seconds = float(value)
    else:
        parts = list(_DURATION.finditer(value))
        if not parts or "".join(p.group(0) for p in parts) != value:
            raise ValueError(f"'{text}' is not a duration: write 30s, 15m, 1h, 1h30m or 1d")
        seconds = sum(float(p.group(1)) * _UNITS[p.group(2)] for p in parts)
    if seconds <= 0:
        raise ValueError(f"'{text}': the interval must be positive")
    return seconds


@dataclass
class MonitorOptions:
    """What `harness monitor` can be told."""

    models: list[str] = field(default_factory=list)
    output_dir: Path = Path("reports")
    baseline: str | None = None
    judge: str | None = None
    every: float | None = None  # seconds between run starts; None with once
    runs: int | None = None  # stop after this many runs (None: until stopped)
    metrics_port: int | None = None
    metrics_address: str = "0.0.0.0"
    textfile_dir: Path | None = None
    concurrency: int = 32
    timeout: float = 60.0
    max_retries: int = 4
    max_errors: str | None = None


@dataclass
class Iteration:
    """What one run of the monitor found."""

    number: int
    run_id: str | None
    run_dir: Path | None
    results: list[RuleResult]

    @property
    def broken(self) -> list[RuleResult]:
        return [result for result in self.results if result.broken]


class Monitor:
    def __init__(self, suite: Suite, options: MonitorOptions, out: Log, err: Log) -> None:
        from harness.run.planning import plan_models

        self.suite = suite
        self.options = options
        self.out = out
        self.err = err
        config = suite.spec.monitor if suite.spec is not None else None
        self.config = config
        self.rules: list[Rule] = parse_rules(config) if config is not None else []
        webhook_url = resolve_webhook(config.webhook) if config is not None else None
        self.webhook = (
            Webhook(webhook_url, config.webhook_retries, config.webhook_timeout)
            if webhook_url is not None and config is not None else None
        )
        # model specs and the judge set-up are checked now (exit 2), not at the first run
        models, _ = plan_models(suite, suite.cases, options.models, options.baseline, options.judge)
        self.model_names = [model.name for model in models]
        self.collector = SnapshotCollector()
        self.registry = registry_for(self.collector)
        self.textfile = (
            textfile_path(options.textfile_dir, suite.name, self.model_names) if options.textfile_dir is not None else None
        )
        self.snapshot = snapshot_from_history(options.output_dir, suite.name, self.model_names, self.rules)
        if self.snapshot is not None:
            self.collector.update(self.snapshot)
        self._server: Any = None

    # -- serving ------------------------------------------------------------------------------
    def start_server(self) -> None:
        port, address = self.options.metrics_port, self.options.metrics_address
        if port is None:
            return
        try:
            self._server, _ = serve(self.registry, port, address)
        except OSError as exc:
            raise UsageError(f"--metrics-port {port}: cannot listen on {address}:{port} ({exc.strerror or exc})") from None
        self.err(f"serving Prometheus metrics on http://{address}:{port}/metrics")

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    # -- one run ------------------------------------------------------------------------------
    def _run(self) -> tuple[RunFigures | None, Path | None, str | None]:
        """Run the suite: (its figures or None when it failed, run directory, failure reason)."""
        from harness.api import RunOptions, run_suite
        from harness.terminal import make_console

        options = self.options
        run_options = RunOptions(
            models=list(options.models), output_dir=options.output_dir, concurrency=options.concurrency,
            use_cache=False, max_errors=options.max_errors, timeout=options.timeout, max_retries=options.max_retries,
            progress=False, history=True, baseline=options.baseline, judge=options.judge,
        )
        try:
            outcome = run_suite(self.suite, run_options, make_console(stderr=True))
        except HarnessError as exc:
            run_dir = getattr(exc, "run_dir", None)
            return None, run_dir, exc.lines()[0]
        except (KeyboardInterrupt, SystemExit):
            raise
        except Exception as exc:  # a monitor is a service: one broken run must not end it
            return None, None, f"internal error: {type(exc).__name__}: {exc}"
        ctx = read_run_figures(outcome.run_dir)
        if ctx is None:
            return None, outcome.run_dir, f"cannot read the run directory {outcome.run_dir}"
        return ctx, outcome.run_dir, None

    def iterate(self, number: int) -> Iteration:
        from harness.report.history import load_history

        ctx, run_dir, failure = self._run()
        run_id = run_dir.name if run_dir is not None else None
        if ctx is not None:
            run_id = str(ctx.run.get("run_id") or run_id)
            past = [run for run in load_history(self.options.output_dir, self.suite.name) if run.run_id != run_id]
            results = completed_run_results(self.model_names) + evaluate_rules(self.rules, ctx, PastRuns(past))
        else:
            results = failed_run_results(self.model_names, failure or "unknown failure")
        iteration = Iteration(number, run_id, run_dir, results)
        self._report(iteration, ctx)
        self._export(iteration, ctx)
        return iteration

    def _report(self, iteration: Iteration, ctx: RunFigures | None) -> None:
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        counts = {state: sum(1 for r in iteration.results if r.state == state and r.rule != RUN_COMPLETES)
                  for state in ("ok", "broken", "pending")}
        status = "complete" if ctx is not None else "FAILED"
        figures = ""
        if ctx is not None:
            figures = "; " + "; ".join(_figure_summary(ctx, model) for model in self.model_names)
        rules = f"rules: {counts['ok']} ok, {counts['broken']} broken" + (
            f", {counts['pending']} waiting for history" if counts["pending"] else "")
        self.out(f"{stamp} run {iteration.number}: {iteration.run_id or self.suite.name} {status}{figures}; {rules}")
        broken = iteration.broken
        lines = [alert_line(self.suite.name, result, iteration.run_id) for result in broken]
        for line in lines:
            self.out(line)
        if broken and self.webhook is not None:
            payload = alert_payload(self.suite.name, iteration.run_id,
                                    str(iteration.run_dir) if iteration.run_dir else None, broken, lines)
            self.webhook.post(payload, self.err)

    def _export(self, iteration: Iteration, ctx: RunFigures | None) -> None:
        previous = self.snapshot
        snapshot = Snapshot(self.suite.name, list(self.model_names), last_run_time=time.time(), last_run_ok=ctx is not None)
        if ctx is not None:
            snapshot.add_run(ctx)
            snapshot.rules = list(iteration.results)
        elif previous is not None:
            # figures and rule states stay those of the last completed run; the failure is its own rule
            snapshot = replace(previous, models=list(self.model_names), last_run_time=snapshot.last_run_time,
                               last_run_ok=False,
                               rules=[r for r in previous.rules if r.rule != RUN_COMPLETES] + iteration.results)
        else:
            snapshot.rules = list(iteration.results)
        self.snapshot = snapshot
        self.collector.update(snapshot)
        if self.textfile is not None:
            try:
                write_textfile(self.textfile, self.registry)
            except OSError as exc:
                self.err(f"cannot write the textfile {self.textfile}: {exc.strerror or exc}")

    # -- schedules ----------------------------------------------------------------------------
    def run_once(self) -> Iteration:
        return self.iterate(1)

    def run_forever(self) -> None:
        """Start a run every `every` seconds (fixed rate; a run that overruns skips the slots it missed)."""
        every = self.options.every
        assert every is not None
        start = time.monotonic()
        number = 0
        slot = 0
        while True:
            number += 1
            self.iterate(number)
            if self.options.runs is not None and number >= self.options.runs:
                return
            now = time.monotonic()
            next_slot = max(slot + 1, math.floor((now - start) / every) + 1)
            if next_slot > slot + 1:
                self.err(f"warning: the run took longer than --every; skipped {next_slot - slot - 1} scheduled run(s)")
            slot = next_slot
            time.sleep(max(0.0, start + slot * every - time.monotonic()))


def _figure_summary(ctx: RunFigures, model: str) -> str:
    from harness.gates.figures import FIGURES, format_value

    parts = []
    for name in ("pass_rate", "error_rate", "latency_p95", "win_rate"):
        reading = ctx.read(FIGURES[name], model)
        if reading.point is not None:
            parts.append(f"{name} {format_value(reading.point, FIGURES[name].kind)}")
    return f"{model}: " + (", ".join(parts) if parts else "no figures")


def snapshot_from_history(directory: Path, suite: str, models: Sequence[str] | None,
                          rules: Sequence[Rule]) -> Snapshot | None:
    """The gauges of a suite as its history leaves them: figures and rules of the latest completed run,
    last-run time and success of the latest run. None when the history has no run of the suite."""
    from harness.report.history import HISTORY_FILE, load_history

    if not (directory / HISTORY_FILE).is_file():
        return None
    runs = load_history(directory, suite)
    if not runs:
        return None
    latest = runs[-1]
    names = list(models) if models else list(latest.models)
    latest_ctx = read_run_figures(Path(latest.path))
    finished = timestamp((latest_ctx.run.get("finished_at") if latest_ctx else None) or latest.started_at)
    ok = latest.status == "complete"
    snapshot = Snapshot(suite, names, last_run_time=finished, last_run_ok=ok)
    complete = [index for index, run in enumerate(runs) if run.status == "complete"]
    rules_results: list[RuleResult] = []
    if complete:
        index = complete[-1]
        run = runs[index]
        ctx = latest_ctx if index == len(runs) - 1 else read_run_figures(Path(run.path))
        if ctx is not None:
            snapshot.add_run(ctx)
            rules_results = evaluate_rules(rules, ctx, PastRuns(runs[:index]))
        else:  # the run directory is gone: the history keeps its headline figures
            snapshot.figures = {key: value for key, value in run.figures.items() if key[0] in names}
            snapshot.last_success_time = timestamp(run.started_at)
    status = f"the latest run {latest.run_id} ended {latest.status}"
    snapshot.rules = (completed_run_results(names) if ok else failed_run_results(names, status)) + rules_results
    return snapshot
