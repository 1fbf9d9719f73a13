"""Prometheus gauges of a monitored suite, from one `Snapshot` of its latest runs.

The same snapshot feeds `/metrics` (`--metrics-port`), the node_exporter textfile (`--textfile`)
and `harness history SUITE --prometheus`, through prometheus-client's own collector, exposition
and textfile writer. prometheus_client is imported only here, and only when called.

Figures describe the latest completed run; `harness_last_run_*` and the `run_completes` rule
describe the latest attempt, so a failed run leaves the last good figures in place and says so.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.gates.figures import FIGURES, RunFigures
from harness.monitor.evaluate import RuleResult

if TYPE_CHECKING:
    from prometheus_client.core import CollectorRegistry, Metric

# (figure name in harness, gauge name, help)
GAUGES = (
    ("pass_rate", "harness_pass_rate", "Share of answered cases whose checks all pass (0-1)."),
    ("error_rate", "harness_error_rate", "Share of requests that failed (0-1)."),
    ("win_rate", "harness_win_rate", "Pairwise win rate against the baseline, LLM judge (0-1)."),
    ("latency_p50", "harness_latency_p50_seconds", "Median request latency in seconds."),
    ("latency_p95", "harness_latency_p95_seconds", "95th percentile request latency in seconds."),
    ("cost_per_1k", "harness_cost_per_1k_requests", "Cost of 1,000 requests at the run's mean token counts, in the price table's currency."),
)


@dataclass
class Snapshot:
    """What the gauges show for one suite."""

    suite: str
    models: list[str]
    figures: dict[tuple[str, str], float] = field(default_factory=dict)  # (model, figure) -> value
    baselines: dict[str, str] = field(default_factory=dict)  # model -> the baseline of its win rate
    metrics: dict[tuple[str, str], float] = field(default_factory=dict)  # (model, reference metric) -> value
    last_run_time: float | None = None  # unix seconds of the latest attempt
    last_run_ok: bool | None = None
    last_success_time: float | None = None
    rules: list[RuleResult] = field(default_factory=list)

    def add_run(self, ctx: RunFigures) -> None:
        """Take the figures of a completed run."""
        for name, _, _ in GAUGES:
            figure = FIGURES[name]
            for model in self.models:
                reading = ctx.read(figure, model)
                if reading.point is not None:
                    self.figures[(model, name)] = reading.point
                    if reading.versus:
                        self.baselines[model] = reading.versus
        for metric in ctx.metric_names():
            metric_figure = ctx.figure(metric)
            if metric_figure is None:
                continue
            for model in self.models:
                reading = ctx.read(metric_figure, model)
                if reading.point is not None:
                    self.metrics[(model, metric)] = reading.point
        self.last_success_time = timestamp(ctx.run.get("finished_at")) or self.last_success_time


def timestamp(text: Any) -> float | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        return None


class SnapshotCollector:
    """A prometheus_client collector over the current snapshot (replaced atomically after each run)."""

    def __init__(self, snapshot: Snapshot | None = None) -> None:
        self._lock = threading.Lock()
        self._snapshot = snapshot

    def update(self, snapshot: Snapshot) -> None:
        with self._lock:
            self._snapshot = snapshot

    def describe(self) -> list[Metric]:
        return []  # the families depend on the snapshot; collect() is called on registration otherwise

    def collect(self) -> Iterator[Metric]:
        from prometheus_client.core import GaugeMetricFamily

        with self._lock:
            snapshot = self._snapshot
        if snapshot is None:
            return
        labels = ["suite", "model"]
        for name, gauge, text in GAUGES:
            family = GaugeMetricFamily(gauge, text, labels=[*labels, "baseline"] if name == "win_rate" else labels)
            for model in snapshot.models:
                value = snapshot.figures.get((model, name))
                if value is None:
                    continue
                extra = [snapshot.baselines.get(model, "")] if name == "win_rate" else []
                family.add_metric([snapshot.suite, model, *extra], value)
            yield family
        family = GaugeMetricFamily("harness_reference_metric", "Reference metric of the latest completed run.",
                                   labels=[*labels, "metric"])
        for (model, metric), value in sorted(snapshot.metrics.items()):
            family.add_metric([snapshot.suite, model, metric], value)
        yield family
        times = (
            ("harness_last_run_timestamp_seconds", "Unix time the latest run finished (or failed).", snapshot.last_run_time),
            ("harness_last_success_timestamp_seconds", "Unix time the latest completed run finished.",
             snapshot.last_success_time),
            ("harness_last_run_success", "1 when the latest run completed, 0 when it failed.",
             None if snapshot.last_run_ok is None else float(snapshot.last_run_ok)),
        )
        for gauge, text, value in times:
            family = GaugeMetricFamily(gauge, text, labels=labels)
            if value is not None:
                for model in snapshot.models:
                    family.add_metric([snapshot.suite, model], value)
            yield family
        family = GaugeMetricFamily(
            "harness_rule_broken", "1 when the monitor rule is broken, 0 when it holds (absent while it has no data).",
            labels=[*labels, "rule", "retrain"],
        )
        for result in snapshot.rules:
            if result.state != "pending":
                family.add_metric([snapshot.suite, result.model or "", result.rule, str(result.retrain).lower()],
                                  float(result.broken))
        yield family


def registry_for(collector: SnapshotCollector) -> CollectorRegistry:
    from prometheus_client import CollectorRegistry

    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    return registry


def exposition(snapshot: Snapshot) -> str:
    """The snapshot in the Prometheus text exposition format."""
    from prometheus_client import generate_latest

    return generate_latest(registry_for(SnapshotCollector(snapshot))).decode()


def textfile_path(directory: Path, suite: str, models: Sequence[str]) -> Path:
    """`DIR/harness_<suite>_<models>.prom`: one file per monitored suite and model set, so monitors don't clash."""
    parts = [suite, *models]
    name = "_".join(re.sub(r"[^A-Za-z0-9]+", "-", part).strip("-") or "x" for part in parts)
    return directory / f"harness_{name[:150]}.prom"


def write_textfile(path: Path, registry: CollectorRegistry) -> None:
    """Write atomically (prometheus-client writes a temporary file and renames it)."""
    from prometheus_client import write_to_textfile

    path.parent.mkdir(parents=True, exist_ok=True)
    write_to_textfile(str(path), registry)


def serve(registry: CollectorRegistry, port: int, address: str) -> tuple[Any, threading.Thread]:
    """Start `/metrics` on a daemon thread; returns (server, thread). OSError when the port is taken."""
    from prometheus_client import start_http_server

    server, thread = start_http_server(port, addr=address, registry=registry)
    return server, thread
