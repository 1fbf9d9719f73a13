"""`harness monitor` end to end against the local server: schedules, drift alerts, webhooks, Prometheus."""

from __future__ import annotations

import socket
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from harness.testing import FakeOpenAIServer
from tests.monitor.conftest import Receiver
from tests.report.helpers import cli

SUITE = """\
name: demo
models:
  live: openai:live-model
cases:
  - {id: c1, input: 'q1', required_patterns: [alpha]}
  - {id: c2, input: 'q2', required_patterns: [alpha]}
  - {id: c3, input: 'q3', required_patterns: [beta]}
monitor:
  webhook: ${HOOK_URL}
  webhook_retries: 1
  rules:
    - pass_rate >= median(5) - 10%
    - error_rate <= 50%
    - {rule: "pass_rate >= 20%", name: floor, retrain: true}
"""
DRIFT = "pass_rate >= median(5) - 10%"


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of an exposition, parsed by prometheus_client's own parser."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(parsed: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    key = (name, tuple(sorted({"suite": "demo", "model": "live", **labels}.items())))
    return parsed[key]


@pytest.fixture
def world(tmp_path: Path, fake_openai: FakeOpenAIServer, receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("OPENAI_BASE_URL", fake_openai.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    monkeypatch.setenv("HOOK_URL", receiver.url)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "suite.yaml").write_text(SUITE, encoding="utf-8")
    fake_openai.responder = lambda body: "alpha and beta"
    return tmp_path


def plant_change_after(server: FakeOpenAIServer, requests: int) -> None:
    """Answer well for the first `requests` requests, then with text that fails every check."""
    server.responder = lambda body: "alpha and beta" if server.request_count <= requests else "no idea"


def test_three_runs_the_drift_rule_fires_and_the_webhook_arrives(
    world: Path, fake_openai: FakeOpenAIServer, receiver: Receiver, capsys: pytest.CaptureFixture[str]
) -> None:
    plant_change_after(fake_openai, 6)  # runs 1 and 2 answer well, run 3 does not
    started = time.monotonic()
    code, out, err = cli(["monitor", "suite.yaml", "--every", "1s", "--runs", "3", "--textfile", "metrics"], capsys)
    assert code == 0
    assert time.monotonic() - started >= 2.0  # three starts, one second apart
    assert fake_openai.request_count == 9  # no cached answers: every run asks the endpoint
    lines = out.splitlines()
    runs = [line for line in lines if line.split(" ")[1:2] == ["run"]]
    assert [line.split(" ")[2] for line in runs] == ["1:", "2:", "3:"]
    assert "1 waiting for history" in runs[0] and "3 ok, 0 broken" in runs[1] and "1 ok, 2 broken" in runs[2]
    alerts = [line for line in lines if line.startswith("ALERT")]
    assert alerts[0].startswith(f"ALERT demo [live] {DRIFT}: pass_rate 0.0%, not >= 90.0% "
                                "(median 100.0% of the last 2 runs - 10.0 pts); run demo-")
    assert alerts[1].startswith("ALERT demo [live] floor (pass_rate >= 20%): pass_rate 0.0%, not >= 20.0%")
    assert alerts[1].endswith("; retraining trigger") and len(alerts) == 2

    [payload] = receiver.bodies  # one POST, for run 3
    assert receiver.paths == ["/hooks/T0KEN"]
    assert payload["suite"] == "demo" and payload["status"] == "firing" and payload["retrain"] is True
    assert [(a["rule"], a["model"], a["state"]) for a in payload["alerts"]] == [
        (DRIFT, "live", "broken"), ("floor", "live", "broken")]
    assert payload["alerts"][0]["threshold"] == pytest.approx(0.9) and payload["alerts"][0]["value"] == 0.0
    assert payload["text"] == "\n".join(alerts)
    assert "T0KEN" not in err  # the webhook URL's token never reaches a log line

    [textfile] = (world / "metrics").iterdir()
    assert textfile.name == "harness_demo_live.prom"
    parsed = samples(textfile.read_text())
    assert value(parsed, "harness_pass_rate") == 0.0
    assert value(parsed, "harness_error_rate") == 0.0
    assert value(parsed, "harness_rule_broken", rule=DRIFT, retrain="false") == 1.0
    assert value(parsed, "harness_rule_broken", rule="floor", retrain="true") == 1.0
    assert value(parsed, "harness_rule_broken", rule="error_rate <= 50%", retrain="false") == 0.0
    assert value(parsed, "harness_rule_broken", rule="run_completes", retrain="false") == 0.0
    assert value(parsed, "harness_last_run_success") == 1.0
    assert abs(value(parsed, "harness_last_run_timestamp_seconds") - time.time()) < 60

    # every run is in the history; `harness history --prometheus` exports the same figures
    code, out, _ = cli(["history", "suite.yaml", "--dir", "reports", "--prometheus"], capsys)
    assert code == 0
    from_history = samples(out)
    for name in ("harness_pass_rate", "harness_error_rate", "harness_latency_p50_seconds", "harness_latency_p95_seconds"):
        assert value(from_history, name) == pytest.approx(value(parsed, name))
    assert value(from_history, "harness_rule_broken", rule=DRIFT, retrain="false") == 1.0
    code, out, _ = cli(["history", "demo", "--dir", "reports"], capsys)
    assert out.count("demo-") >= 3


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_metrics_are_served_over_http(world: Path, capsys: pytest.CaptureFixture[str]) -> None:
    port = _free_port()
    result: dict[str, int] = {}
    args = ["monitor", "suite.yaml", "--every", "1s", "--runs", "2", "--metrics-port", str(port),
            "--metrics-address", "127.0.0.1"]
    thread = threading.Thread(target=lambda: result.setdefault("code", cli(args, capsys)[0]))
    thread.start()
    scraped = None
    deadline = time.monotonic() + 60
    while thread.is_alive() and time.monotonic() < deadline and scraped is None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
                text = response.read().decode()
            if "harness_pass_rate{" in text:
                scraped = text
        except OSError:
            pass
        time.sleep(0.05)
    thread.join(60)
    assert result.get("code") == 0 and scraped is not None
    parsed = samples(scraped)
    assert value(parsed, "harness_pass_rate") == 1.0
    assert value(parsed, "harness_error_rate") == 0.0
    assert value(parsed, "harness_latency_p95_seconds") > 0
    assert value(parsed, "harness_rule_broken", rule="floor", retrain="true") == 0.0
    assert value(parsed, "harness_last_run_success") == 1.0


def test_once_exits_1_when_a_rule_breaks(world: Path, fake_openai: FakeOpenAIServer, receiver: Receiver,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(["monitor", "suite.yaml", "--once"], capsys)
    assert code == 0 and "ALERT" not in out and not receiver.bodies
    fake_openai.responder = lambda body: "nothing"
    code, out, _ = cli(["monitor", "suite.yaml", "--once"], capsys)
    assert code == 1 and out.count("ALERT") == 2 and len(receiver.bodies) == 1


def test_a_failed_run_alerts_and_a_dead_webhook_does_not_stop_the_monitor(
    world: Path, receiver: Receiver, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", f"http://127.0.0.1:{_free_port()}/v1")  # nothing listens there
    receiver.status = 500
    code, out, err = cli(["monitor", "suite.yaml", "--every", "1s", "--runs", "2", "--max-retries", "0"], capsys)
    assert code == 0
    runs = [line for line in out.splitlines() if line.split(" ")[1:2] == ["run"]]
    assert len(runs) == 2 and all("FAILED" in line for line in runs)
    alerts = [line for line in out.splitlines() if line.startswith("ALERT")]
    assert len(alerts) == 2 and all(a.startswith("ALERT demo [live] run_completes: the run failed: ") for a in alerts)
    assert "unreachable" in alerts[0]
    assert len(receiver.bodies) == 4  # two runs, each POST tried twice (webhook_retries: 1), then given up
    assert err.count("attempt 1/2 failed (HTTP 500); retrying") == 2
    assert err.count("not delivered after 2 attempts (HTTP 500); the monitor carries on") == 2
    assert "T0KEN" not in err

    code, out, _ = cli(["monitor", "suite.yaml", "--once", "--max-retries", "0"], capsys)
    assert code == 1 and "run_completes" in out


@pytest.mark.parametrize(("args", "message"), [
    ([], "give --every DURATION for a long-running monitor, or --once"),
    (["--once", "--every", "1m"], "give --every DURATION"),
    (["--every", "soon"], "--every 'soon' is not a duration"),
    (["--once", "--metrics-port", "9108"], "--metrics-port needs --every, not --once"),
])
def test_usage_errors(world: Path, args: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(["monitor", "suite.yaml", *args], capsys)
    assert code == 2 and message in err


def test_bad_rules_and_unset_webhook_variables_exit_2(world: Path, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    (world / "bad.yaml").write_text(SUITE.replace("median(5) - 10%", "median(5) -- 10%"), encoding="utf-8")
    code, _, err = cli(["monitor", "bad.yaml", "--once"], capsys)
    assert code == 2
    assert err.strip().splitlines() == ["bad.yaml:12:31: monitor rule 'pass_rate >= median(5) -- 10%': expected a number after '-'"]
    monkeypatch.delenv("HOOK_URL")
    code, _, err = cli(["monitor", "suite.yaml", "--once"], capsys)
    assert code == 2 and "monitor webhook: environment variable HOOK_URL is not set" in err


def test_a_taken_metrics_port_is_a_usage_error(world: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, _, err = cli(["monitor", "suite.yaml", "--every", "1s", "--runs", "1", "--metrics-port", str(port),
                            "--metrics-address", "127.0.0.1"], capsys)
    assert code == 2 and f"--metrics-port {port}: cannot listen on 127.0.0.1:{port}" in err
