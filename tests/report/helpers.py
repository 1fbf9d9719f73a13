"""Running the CLI in-process and reading a run directory's files."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.cli import main


def cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    captured = capsys.readouterr()
    return int(exit_info.value.code or 0), captured.out, captured.err


def run_dirs(root: Path) -> list[Path]:
    return sorted(path for path in (root / "reports").iterdir() if path.is_dir())
