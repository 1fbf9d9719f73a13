"""Fault matrix on real `harness run` processes: an endpoint that keeps failing, for any reason,
stops the run with exit 3 and one line naming the error kind and quoting the server; a run with
a few failures finishes with exit 0 and says so on its last line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from harness.testing import FakeOpenAIServer, Fault

CASES = 40
CONCURRENCY = 4
RETRIES = 1


def _suite(tmp_path: Path, cases: int = CASES) -> Path:
    suite = tmp_path / "suite.yaml"
    suite.write_text("name: faults\ncases:\n" + "".join(f"  - {{id: c{i}, input: 'question {i}'}}\n" for i in range(cases)))
    return suite


def _run(server: FakeOpenAIServer, suite: Path, out: Path, *extra: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OPENAI_BASE_URL": server.base_url}
    args = [sys.executable, "-m", "harness", "run", str(suite), "-m", "openai:m", "-c", str(CONCURRENCY),
            "--max-retries", str(RETRIES), "-o", str(out), "-q", *extra]
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=timeout, check=False)


def _run_json(out: Path) -> tuple[dict[str, Any], int]:
    (run_dir,) = [p for p in out.iterdir() if p.is_dir()]
    kept = len((run_dir / "results.jsonl").read_text().splitlines())
    return json.loads((run_dir / "run.json").read_text()), kept


ALWAYS = [
    ("500", Fault(status=500, message="shard 7 is overloaded"), "server_error", "HTTP 500: shard 7 is overloaded"),
    ("429", Fault(status=429, retry_after=0.01, message="quota exceeded for org-x"), "rate_limit", "quota exceeded for org-x"),
    ("timeout", Fault(delay=3.0), "timeout", "timeout: \""),
    ("malformed", Fault(malformed=True), "invalid_response", "malformed response"),
    ("dropped", Fault(drop=True), "connection", ""),
]


@pytest.mark.slow
@pytest.mark.parametrize(("name", "fault", "kind", "quote"), ALWAYS, ids=[a[0] for a in ALWAYS])
def test_an_endpoint_that_always_fails_stops_the_run_with_exit_3(
    tmp_path: Path, name: str, fault: Fault, kind: str, quote: str
) -> None:
    out = tmp_path / "reports"
    with FakeOpenAIServer(faults=lambda index, body: fault) as server:
        result = _run(server, _suite(tmp_path), out, "--timeout", "0.5", timeout=90)
        served = server.request_count
    assert result.returncode == 3, result.stderr
    first = result.stderr.splitlines()[0]
    assert first.startswith("error: model 'openai:m': ") and kind in first and quote in first, first
    assert "Traceback" not in result.stderr
    # It stopped early: at most one round of requests past the failures that decided it.
    assert served <= (10 + CONCURRENCY) * (RETRIES + 1) < CASES * (RETRIES + 1)
    run, kept = _run_json(out)
    assert run["status"] == "aborted" and kind in run["error"]
    assert kept >= 10  # every failure that was received is in results.jsonl


@pytest.mark.slow
def test_a_hung_endpoint_is_given_up_after_the_request_time_bound(tmp_path: Path) -> None:
    # Retries alone would make each request wait 10 x 1 s; the bound cuts it at 1.5 s.
    out = tmp_path / "reports"
    with FakeOpenAIServer(faults=lambda index, body: Fault(delay=30)) as server:
        env = {**os.environ, "OPENAI_BASE_URL": server.base_url}
        args = [sys.executable, "-m", "harness", "run", str(_suite(tmp_path, 20)), "-m", "openai:m", "-c", "20",
                "--timeout", "1", "--max-retries", "10", "--max-request-time", "1.5", "-o", str(out), "-q"]
        result = subprocess.run(args, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 3, result.stderr
    assert "timeout" in result.stderr and "no answer within 1.5 s, retries included" in result.stderr


@pytest.mark.slow
def test_a_share_of_failures_above_the_default_budget_stops_the_run(tmp_path: Path) -> None:
    # One request in four fails: never ten in a row, but far over 10 % after 50.
    out = tmp_path / "reports"
    with FakeOpenAIServer(faults=lambda index, body: Fault(status=500, message="flaky") if index % 4 == 0 else None) as server:
        result = _run(server, _suite(tmp_path, 200), out, "--max-retries", "0")
    assert result.returncode == 3, result.stderr
    assert "requests failed (" in result.stderr and "server_error" in result.stderr and "HTTP 500: flaky" in result.stderr
    assert "stopped early (default error budget" in result.stderr
    run, kept = _run_json(out)
    assert run["status"] == "aborted" and 50 <= kept < 200


@pytest.mark.slow
def test_mixed_faults_under_the_budget_finish_with_exit_0_and_an_errors_line(tmp_path: Path) -> None:
    faults = {5: Fault(status=500, message="hiccup"), 17: Fault(malformed=True), 33: Fault(status=400, message="bad")}

    def policy(index: int, body: dict[str, Any]) -> Fault | None:
        number = int(body["messages"][-1]["content"].split()[-1])
        return faults.get(number)

    out = tmp_path / "reports"
    with FakeOpenAIServer(faults=policy) as server:
        result = _run(server, _suite(tmp_path), out, "--max-retries", "0")
    assert result.returncode == 0, result.stderr
    last = result.stderr.splitlines()[-1]
    assert last.startswith("warning: 3 of 40 answers are errors (") and "within the error budget" in last, last
    assert "Run directory:" in result.stdout
    run, kept = _run_json(out)
    assert run["status"] == "complete" and kept == CASES


@pytest.mark.slow
def test_max_errors_none_never_stops(tmp_path: Path) -> None:
    out = tmp_path / "reports"
    with FakeOpenAIServer(faults=lambda index, body: Fault(status=500)) as server:
        result = _run(server, _suite(tmp_path, 20), out, "--max-retries", "0", "--max-errors", "none")
        served = server.request_count
    assert result.returncode == 0, result.stderr
    assert served == 20
    assert result.stderr.splitlines()[-1].startswith("warning: 20 of 20 answers are errors (server_error 20")
