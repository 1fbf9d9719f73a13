"""A disk that fills mid-run, on a real (small) tmpfs: the run stops sending at once, keeps what
it received in whichever store still works, says `aborted` and why, exits 3 naming the path, and
a rerun with space completes without asking again for anything that was kept."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.testing import FakeOpenAIServer

BACKLOG_FILE = "cache-backlog.jsonl"  # harness.run.backlog.BACKLOG_FILE
CASES = 600
CONCURRENCY = 4
ANSWER = "x" * 1500  # 600 records of ~2 KB: more than the 1 MB disk holds


class SmallDisk:
    def __init__(self, path: Path) -> None:
        self.path = path

    def grow(self) -> None:
        subprocess.run(["mount", "-o", "remount,size=64m", str(self.path)], check=True)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[SmallDisk]:
    if os.geteuid() != 0:
        pytest.skip("a real full disk needs a 1 MB tmpfs, which only root can mount (CI runs as root)")
    path = tmp_path / "small-disk"
    path.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(path)], capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield SmallDisk(path)
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def _suite(tmp_path: Path) -> Path:
    suite = tmp_path / "suite.yaml"
    suite.write_text("name: disk\ncases:\n" + "".join(f"  - {{id: c{i}, input: 'question {i}'}}\n" for i in range(CASES)))
    return suite


def _run(server: FakeOpenAIServer, suite: Path, out: Path, cache_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OPENAI_BASE_URL": server.base_url, "HARNESS_CACHE_DIR": str(cache_dir)}
    args = [sys.executable, "-m", "harness", "run", str(suite), "-m", "openai:m", "-c", str(CONCURRENCY), "-o", str(out), "-q"]
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=300, check=False)


def _asked(server: FakeOpenAIServer) -> list[str]:
    return [body["messages"][-1]["content"] for body in server.requests]


def _cached_questions(cache_dir: Path) -> int:
    with sqlite3.connect(cache_dir / "cache.sqlite") as db:
        return int(db.execute("SELECT COUNT(*) FROM responses").fetchone()[0])


def _only_run_dir(out: Path) -> Path:
    (run_dir,) = [p for p in out.iterdir() if p.is_dir()]
    return run_dir


def _answer(body: dict[str, Any]) -> str:
    return f"{body['messages'][-1]['content']} {ANSWER}"


@pytest.mark.slow
def test_a_full_output_disk_stops_the_run_and_the_cache_keeps_the_answers(tmp_path: Path, small_disk: SmallDisk) -> None:
    suite, out, cache_dir = _suite(tmp_path), small_disk.path / "reports", tmp_path / "cache"
    with FakeOpenAIServer(responder=_answer) as server:
        first = _run(server, suite, out, cache_dir)
        asked_first = _asked(server)
        run_dir = _only_run_dir(out)
        assert first.returncode == 3, first.stderr
        assert first.stderr.splitlines()[0] == f"error: cannot write {run_dir / 'results.jsonl'}: No space left on device"
        run = json.loads((run_dir / "run.json").read_text())
        assert run["status"] == "aborted" and "No space left on device" in run["error"]
        assert not list(run_dir.glob("*.tmp")) and not list(run_dir.glob(".space-reserve"))
        kept = _cached_questions(cache_dir)
        assert kept < CASES
        assert len(asked_first) - kept <= CONCURRENCY  # it stopped at once: only in-flight answers were lost

        small_disk.grow()
        server.reset()
        second = _run(server, suite, out, cache_dir)
        asked_second = _asked(server)
    assert second.returncode == 0, second.stderr
    assert len(asked_second) == CASES - kept and len(set(asked_second)) == len(asked_second)
    assert set(asked_first) | set(asked_second) == {f"question {i}" for i in range(CASES)}


@pytest.mark.slow
def test_a_full_cache_disk_stops_the_run_and_the_run_directory_keeps_the_answers(tmp_path: Path, small_disk: SmallDisk) -> None:
    suite, out, cache_dir = _suite(tmp_path), tmp_path / "reports", small_disk.path / "cache"
    with FakeOpenAIServer(responder=_answer) as server:
        first = _run(server, suite, out, cache_dir)
        asked_first = _asked(server)
        run_dir = _only_run_dir(out)
        assert first.returncode == 3, first.stderr
        first_line = first.stderr.splitlines()[0]
        assert first_line.startswith(f"error: cannot write the response cache {cache_dir / 'cache.sqlite'}: "), first_line
        assert "full" in first_line or "No space" in first_line
        run = json.loads((run_dir / "run.json").read_text())
        assert run["status"] == "aborted" and str(cache_dir / "cache.sqlite") in run["error"]
        records = (run_dir / "results.jsonl").read_text().splitlines()
        backlog = (run_dir / BACKLOG_FILE).read_text().splitlines()
        assert backlog and len(records) == _cached_questions(cache_dir) + len(backlog)  # every answer is somewhere
        assert len(asked_first) - len(records) <= CONCURRENCY
        assert (run_dir / "summary.json").is_file()  # the output disk works: the reports are written
        assert not list(run_dir.glob("*.tmp"))

        small_disk.grow()
        server.reset()
        second = _run(server, suite, out, cache_dir)
        asked_second = _asked(server)
    assert second.returncode == 0, second.stderr
    assert not (run_dir / BACKLOG_FILE).exists()  # moved into the cache
    assert len(asked_second) == CASES - len(records) and not set(asked_second) & {
        json.loads(line)["input"] for line in records
    }
    assert set(asked_first) | set(asked_second) == {f"question {i}" for i in range(CASES)}
