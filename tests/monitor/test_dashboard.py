"""The Grafana dashboard in examples/ queries only series the monitor exports."""

from __future__ import annotations

import json
import re
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from harness.monitor.evaluate import RuleResult
from harness.monitor.metrics import Snapshot, exposition

DASHBOARD = Path(__file__).resolve().parents[2] / "examples" / "grafana-harness-monitor.json"


def test_dashboard_series_exist() -> None:
    snapshot = Snapshot("demo", ["m"], figures={("m", name): 0.5 for name in (
        "pass_rate", "error_rate", "win_rate", "latency_p50", "latency_p95", "cost_per_1k")},
        metrics={("m", "rougeL"): 0.4}, last_run_time=1.0, last_run_ok=True, last_success_time=1.0,
        rules=[RuleResult("r", "pass_rate >= 90%", "m", "ok", "fine")])
    exported = {family.name for family in text_string_to_metric_families(exposition(snapshot))}
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    queried = {name for panel in dashboard["panels"] for target in panel["targets"]
               for name in re.findall(r"harness_[a-z0-9_]+", target["expr"])}
    assert queried and queried <= exported, queried - exported
    assert {"harness_pass_rate", "harness_rule_broken", "harness_win_rate"} <= queried
