"""A run killed with SIGKILL resumes from the cache: finished cases are never requested again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from harness.models.cache import ResponseCache
from harness.testing import FakeOpenAIServer
from tests.run.live import wait_for_answers

CASES = 300


def _harness(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "harness", *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


def test_killed_run_resumes_without_calling_the_model_for_finished_cases(tmp_path: Path, isolated_environment: Path) -> None:
    suite = tmp_path / "suite.yaml"
    suite.write_text("cases:\n" + "".join(f"  - {{id: c{i}, input: 'question {i}'}}\n" for i in range(CASES)))
    out = tmp_path / "reports"
    with FakeOpenAIServer(latency=0.02) as server:
        env = {**os.environ, "OPENAI_BASE_URL": server.base_url, "HARNESS_CACHE_DIR": str(isolated_environment)}
        args = ["run", str(suite), "-m", "openai:m", "-c", "4", "-o", str(out), "-q"]

        first = _harness(args, env)
        results = wait_for_answers(out, 40)
        assert results is not None, "the first run never got going"
        os.kill(first.pid, signal.SIGKILL)
        first.wait(10)
        assert first.returncode == -signal.SIGKILL

        on_disk = sum(1 for line in results.read_bytes().splitlines() if line.endswith(b"}"))
        cache = ResponseCache(isolated_environment / "cache.sqlite")
        cached = cache.count()
        cache.close()
        assert on_disk <= cached < CASES  # every record written is cached; the run was cut short
        assert '"status": "running"' in (results.parent / "run.json").read_text()

        server.reset()
        second = _harness(args, env)
        _, stderr = second.communicate(timeout=120)
        assert second.returncode == 0, stderr.decode()
        assert server.request_count == CASES - cached  # zero calls for cases already answered
        asked = {body["messages"][-1]["content"] for body in server.requests}
        assert len(asked) == CASES - cached  # and no case was asked twice

    newest = max(out.glob("*/results.jsonl"), key=lambda p: p.parent.name)
    lines = newest.read_bytes().splitlines()
    assert len(lines) == CASES
    assert sum(1 for line in lines if b'"cached":true' in line) == cached
