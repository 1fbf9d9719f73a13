"""Crash safety of batches: kill -9 while polling, Ctrl-C, `harness batch list|cancel`, all in real processes."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.testing import BatchScript, FakeOpenAIServer
from tests.judging.conftest import SUITE, Scripted

pytestmark = pytest.mark.slow  # real processes, several runs each

HOUR = 3600.0


def harness(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "harness", *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def wait_for(condition: Callable[[], bool], what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def recorded(cache: Path) -> list[tuple[Any, ...]]:
    if not (cache / "cache.sqlite").exists():
        return []
    db = sqlite3.connect(cache / "cache.sqlite")
    try:
        return db.execute("SELECT batch_id, kind, requests, status FROM batch_jobs ORDER BY id").fetchall()
    except sqlite3.OperationalError:
        return []
    finally:
        db.close()


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer(responder=Scripted()) as running:
        yield running


@pytest.fixture
def setup(tmp_path: Path, server: FakeOpenAIServer, isolated_environment: Path) -> tuple[list[str], dict[str, str]]:
    suite = tmp_path / "suite.yaml"
    suite.write_text(SUITE, encoding="utf-8")
    env = {**os.environ, "OPENAI_BASE_URL": server.base_url, "HARNESS_CACHE_DIR": str(isolated_environment),
           "HARNESS_BATCH_POLL": "0.01,0.05"}
    args = ["run", str(suite), "-m", "openai:cand", "--baseline", "openai:base", "--judge", "openai:judge",
            "--batch", "-o", str(tmp_path / "reports"), "-q"]
    return args, env


def polled(server: FakeOpenAIServer, kind: str) -> bool:
    """A batch of this kind ('judge' or the models) was created and is being polled."""
    assert server.batch_api is not None
    return any((b.lines[0]["body"]["model"] == "judge") == (kind == "judge") and b.status == "in_progress"
               for b in list(server.batch_api.batches.values()))


def check_complete(tmp_path: Path, server: FakeOpenAIServer) -> dict[str, Any]:
    newest = max((tmp_path / "reports").glob("*/summary.json"), key=lambda p: p.parent.name)
    summary: dict[str, Any] = json.loads(newest.read_text())
    assert summary["pairwise"]["openai:cand"]["wins"] == 4 and summary["pairwise"]["openai:cand"]["invalid"] == 0
    assert server.batch_api is not None
    bodies = server.batch_api.answered
    asked = [(b["model"], json.dumps(b["messages"])) for b in bodies]
    assert len(asked) == len(set(asked)) == 24  # 12 answers and 12 judge requests, none asked twice
    assert server.request_count == 0  # and nothing went direct
    return summary


@pytest.mark.parametrize("killed_in", ["generate", "judge"])
def test_kill_9_while_polling_then_rerun_reattaches_and_creates_no_batch(
    killed_in: str, tmp_path: Path, server: FakeOpenAIServer, setup: tuple[list[str], dict[str, str]],
    isolated_environment: Path,
) -> None:
    args, env = setup
    assert server.batch_api is not None
    slow = "judge" if killed_in == "judge" else None

    def policy(index: int, lines: list[dict[str, Any]]) -> BatchScript:
        is_judge = lines[0]["body"]["model"] == "judge"
        return BatchScript(in_progress_s=HOUR if slow is None or (slow == "judge") == is_judge else 0)

    server.batch_api.policy = policy
    first = harness(args, env)
    try:
        wait_for(lambda: polled(server, killed_in) and len(recorded(isolated_environment)) >= (3 if slow else 2),
                 f"the {killed_in} batches to be polled")
        time.sleep(0.2)  # a few more status checks
    finally:
        os.kill(first.pid, signal.SIGKILL)
        first.wait(10)
    assert first.returncode == -signal.SIGKILL
    before = list(server.batch_api.batches)
    rows = recorded(isolated_environment)
    assert [row[0] for row in rows] == before  # every batch created was recorded with its id
    assert {row[3] for row in rows if row[1] == killed_in} == {"in_progress"}

    server.batch_api.clock.advance(HOUR)  # the batches finish while nothing watches them
    server.batch_api.policy = None  # and batches created from now on are quick
    second = harness(args, env)
    _, stderr = second.communicate(timeout=120)
    assert second.returncode == 0, stderr.decode()
    new = [b for b in server.batch_api.batches.values() if b.id not in before]
    # nothing submitted before is submitted again; killed while generating, the judge's batch is still to come
    assert [b.lines[0]["body"]["model"] for b in new] == ([] if killed_in == "judge" else ["judge"])
    check_complete(tmp_path, server)
    info = json.loads(max((tmp_path / "reports").glob("*/run.json"), key=lambda p: p.parent.name).read_text())
    assert info["batches"]["created"] == len(new) and info["batches"]["reattached"] == (1 if killed_in == "judge" else 2)


def test_ctrl_c_leaves_batches_running_and_says_how_to_resume_and_cancel(
    tmp_path: Path, server: FakeOpenAIServer, setup: tuple[list[str], dict[str, str]], isolated_environment: Path
) -> None:
    args, env = setup
    assert server.batch_api is not None
    server.batch_api.policy = lambda index, lines: BatchScript(in_progress_s=HOUR)
    first = harness(args, env)
    wait_for(lambda: polled(server, "generate") and len(recorded(isolated_environment)) == 2, "the batches to be polled")
    time.sleep(0.2)
    first.send_signal(signal.SIGINT)
    _, stderr = first.communicate(timeout=60)
    text = stderr.decode()
    assert first.returncode == 130, text
    run_dir = next((tmp_path / "reports").glob("*/run.json")).parent.resolve()
    assert "2 batches still running at the endpoint" in text
    assert "resume: run the same command again" in text
    assert f"cancel: harness batch cancel {run_dir}" in text
    assert server.batch_api.cancelled == []  # Ctrl-C cancels nothing

    listing = subprocess.run([sys.executable, "-m", "harness", "batch", "list", str(run_dir)], env=env,
                             capture_output=True, text=True, timeout=60)
    assert listing.returncode == 0, listing.stderr
    assert listing.stdout.count("in_progress") == 2 and "openai:cand" in listing.stdout

    cancel = subprocess.run([sys.executable, "-m", "harness", "batch", "cancel", str(run_dir)], env=env,
                            capture_output=True, text=True, timeout=60)
    assert cancel.returncode == 0, cancel.stderr
    assert sorted(server.batch_api.cancelled) == sorted(server.batch_api.batches)
    assert cancel.stdout.count(": cancelling") == 2

    # the next run collects the cancelled batches: nothing was answered, so every case is an error...
    server.batch_api.policy = None
    second = harness(args, env)
    _, stderr = second.communicate(timeout=120)
    assert second.returncode == 0, stderr.decode()
    newest = max((tmp_path / "reports").glob("*/summary.json"), key=lambda p: p.parent.name)
    models = json.loads(newest.read_text())["models"]
    assert models["openai:cand"]["errors_by_kind"] == {"batch_cancelled": 6}
    # ...and the one after sends them again, in new batches
    third = harness(args, env)
    _, stderr = third.communicate(timeout=120)
    assert third.returncode == 0, stderr.decode()
    check_complete(tmp_path, server)
    assert len(server.batch_api.batches) == 5  # 2 cancelled, 2 sent again, 1 for the judge
    nothing = subprocess.run([sys.executable, "-m", "harness", "batch", "list"], env=env, capture_output=True, text=True,
                             timeout=60)
    assert nothing.returncode == 0 and "no batches still running" in nothing.stdout


def test_batch_cli_errors_are_one_line(tmp_path: Path, isolated_environment: Path) -> None:
    env = {**os.environ, "HARNESS_CACHE_DIR": str(isolated_environment)}
    missing = subprocess.run([sys.executable, "-m", "harness", "batch", "list"], env=env, capture_output=True, text=True)
    assert missing.returncode == 2 and missing.stderr.startswith("error: no cache database at ")
    isolated_environment.mkdir(parents=True, exist_ok=True)
    sqlite3.connect(isolated_environment / "cache.sqlite").close()
    not_run = subprocess.run([sys.executable, "-m", "harness", "batch", "cancel", str(tmp_path)], env=env,
                             capture_output=True, text=True)
    assert not_run.returncode == 2 and "is not a run directory" in not_run.stderr
    assert len(not_run.stderr.strip().splitlines()) == 1
