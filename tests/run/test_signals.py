"""SIGTERM (a cancelled CI job) and SIGINT (Ctrl-C) on a real `harness run`: nothing more is
sent, what was answered is kept, scored and reported, run.json says `interrupted`, and the exit
code and message are the documented ones."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.testing import FakeOpenAIServer
from tests.run.live import wait_for_answers

CASES = 300


@pytest.mark.slow
@pytest.mark.parametrize(
    ("sig", "code", "message"),
    [
        (signal.SIGTERM, 143, "terminated (SIGTERM): nothing more is sent"),
        (signal.SIGINT, 130, "interrupted (Ctrl-C): nothing more is sent"),
    ],
    ids=["SIGTERM", "SIGINT"],
)
def test_a_signal_stops_the_run_and_keeps_what_was_answered(
    tmp_path: Path, sig: signal.Signals, code: int, message: str
) -> None:
    suite = tmp_path / "suite.yaml"
    suite.write_text(
        "name: signals\ncases:\n"
        + "".join(f"  - {{id: c{i}, input: 'question {i}', reference: 'echo: question {i}'}}\n" for i in range(CASES))
    )
    out = tmp_path / "reports"
    with FakeOpenAIServer(latency=0.02) as server:
        env = {**os.environ, "OPENAI_BASE_URL": server.base_url}
        args = [sys.executable, "-m", "harness", "run", str(suite), "-m", "openai:m", "-c", "4", "-o", str(out), "-q"]
        process = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        results = wait_for_answers(out, 40)
        assert results is not None, "the run never got going"
        process.send_signal(sig)
        _, stderr = process.communicate(timeout=60)
        served_at_exit = server.request_count
        time.sleep(0.3)
        assert server.request_count == served_at_exit  # nothing is sent after the process ended

    assert process.returncode == code, stderr
    lines = [line for line in stderr.splitlines() if line]  # click echoes a newline after ^C
    assert lines[0].startswith(message), stderr
    assert lines[1] == f"Partial results: {results.parent}"
    assert "Aborted." not in stderr and "Traceback" not in stderr
    run_dir = results.parent
    run = json.loads((run_dir / "run.json").read_text())
    assert run["status"] == "interrupted" and run["finished_at"]
    records = [json.loads(line) for line in (run_dir / "results.jsonl").read_text().splitlines()]
    assert 40 <= len(records) < CASES
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["models"]["openai:m"]["results"] == len(records)
    assert (run_dir / "report.html").is_file() and (run_dir / "summary.md").is_file()
    assert not list(run_dir.glob("*.tmp"))
    assert served_at_exit - len(records) <= 4  # at most the requests that were in flight
