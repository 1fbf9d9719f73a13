"""File-system errors are user errors: one line with the path and the OS reason, exit 2 before
anything is sent, exit 3 after, never "internal error"."""

from __future__ import annotations

import os
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.cli import main
from harness.testing import FakeOpenAIServer
from tests.data.conftest import filler, write_jsonl


class Mount:
    """A folder that can be made read-only for real: a tmpfs remounted `ro` as root (permission
    bits do not stop root), `chmod` otherwise."""

    def __init__(self, path: Path, tmpfs: bool) -> None:
        self.path = path
        self.tmpfs = tmpfs

    def readonly(self) -> None:
        if self.tmpfs:
            subprocess.run(["mount", "-o", "remount,ro", str(self.path)], check=True)
        else:
            for folder, _, files in os.walk(self.path):
                for name in files:
                    os.chmod(os.path.join(folder, name), 0o444)
                os.chmod(folder, 0o555)

    @property
    def reason(self) -> str:
        return "Read-only file system" if self.tmpfs else "Permission denied"


@pytest.fixture
def mount(tmp_path: Path) -> Iterator[Mount]:
    path = tmp_path / "mount"
    path.mkdir()
    tmpfs = os.geteuid() == 0
    if tmpfs and subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(path)], check=False).returncode:
        pytest.skip("cannot mount a tmpfs here")
    try:
        yield Mount(path, tmpfs)
    finally:
        if tmpfs:
            subprocess.run(["umount", "-l", str(path)], check=False)
        else:
            for folder, _, _ in os.walk(path):
                os.chmod(folder, 0o755)


def cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    return int(exit_info.value.code or 0), capsys.readouterr().err


@pytest.fixture
def suite(tmp_path: Path) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text("name: t\ncases:\n  - {id: a, input: hi}\n  - {id: b, input: yo}\n")
    return path


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as running:
        monkeypatch.setenv("OPENAI_BASE_URL", running.base_url)
        yield running


def test_a_read_only_output_folder_is_exit_2_before_anything_is_sent(
    suite: Path, mount: Mount, server: FakeOpenAIServer, capsys: pytest.CaptureFixture[str]
) -> None:
    mount.readonly()
    code, err = cli(["run", str(suite), "-m", "openai:m", "-o", str(mount.path / "reports"), "-q"], capsys)
    assert code == 2
    assert err.splitlines()[0].startswith("error: cannot ") and str(mount.path) in err and mount.reason in err, err
    assert len(err.splitlines()) == 1 and "internal error" not in err
    assert server.request_count == 0


def test_a_cache_folder_that_cannot_be_written_is_exit_2_before_anything_is_sent(
    suite: Path, tmp_path: Path, mount: Mount, server: FakeOpenAIServer, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(mount.path / "cache"))
    out = str(tmp_path / "reports")
    assert cli(["run", str(suite), "-m", "openai:m", "-o", out, "-q"], capsys)[0] == 0  # fills the cache
    server.reset()
    mount.readonly()  # the cache file exists and reads, but takes no write
    code, err = cli(["run", str(suite), "-m", "openai:m", "-o", out, "-q"], capsys)
    assert code == 2, err
    cache = mount.path / "cache" / "cache.sqlite"
    assert err.startswith(f"error: cannot use the response cache {cache}: ") and "--no-cache" in err, err
    assert server.request_count == 0
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(mount.path / "new-cache"))
    code, err = cli(["run", str(suite), "-m", "openai:m", "-o", out, "-q"], capsys)
    assert code == 2 and err.startswith(f"error: cannot use the response cache {mount.path / 'new-cache' / 'cache.sqlite'}: ")
    assert mount.reason in err and server.request_count == 0


def test_a_history_that_cannot_be_written_is_exit_2_before_sending(
    suite: Path, tmp_path: Path, server: FakeOpenAIServer, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "reports"
    (out / "history.sqlite").mkdir(parents=True)  # not a database
    code, err = cli(["run", str(suite), "-m", "openai:m", "-o", str(out), "-q"], capsys)
    assert code == 2 and err.startswith(f"error: cannot open {out / 'history.sqlite'}: "), err
    assert server.request_count == 0


def test_a_history_that_fails_after_the_run_is_exit_3(
    suite: Path, tmp_path: Path, server: FakeOpenAIServer, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import harness.report.history as history

    def full(directory: Path, data: object) -> None:
        with history.connect(directory):
            raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(history, "record_run", full)
    out = tmp_path / "reports"
    code, err = cli(["run", str(suite), "-m", "openai:m", "-o", str(out), "-q"], capsys)
    assert code == 3
    assert err.splitlines()[0] == f"error: cannot write {out / 'history.sqlite'}: database or disk is full"
    assert server.request_count == 2


def test_data_outputs_in_a_read_only_folder_are_exit_2_with_the_path(
    tmp_path: Path, mount: Mount, capsys: pytest.CaptureFixture[str]
) -> None:
    data = write_jsonl(tmp_path / "train.jsonl", filler(12))
    mount.readonly()
    target = mount.path / "clean.jsonl"
    code, err = cli(["data", "clean", str(data), "-o", str(target)], capsys)
    assert code == 2 and err.strip().startswith("error: cannot write ") and str(mount.path) in err and mount.reason in err, err
    code, err = cli(["data", "split", str(data), "-o", str(mount.path / "splits")], capsys)
    assert code == 2 and str(mount.path) in err and mount.reason in err and "internal error" not in err, err


def test_reporting_a_run_in_a_read_only_folder_is_exit_2(
    suite: Path, mount: Mount, server: FakeOpenAIServer, capsys: pytest.CaptureFixture[str]
) -> None:
    out = mount.path / "reports"
    assert cli(["run", str(suite), "-m", "openai:m", "-o", str(out), "-q"], capsys)[0] == 0
    (run_dir,) = [p for p in out.iterdir() if p.is_dir()]
    mount.readonly()
    code, err = cli(["report", str(run_dir), "--no-history"], capsys)
    assert code == 2 and err.startswith(f"error: cannot write {run_dir / 'summary.json'}: {mount.reason}"), err
