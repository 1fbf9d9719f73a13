"""The run directory: where a run's inputs, answers and figures live, and how to read them back.

Layout: run.json (what ran, no secrets), results.jsonl (one record per case x model x repeat),
summary.json (aggregates), results.csv (flat), judgments.jsonl (LLM-judge verdicts, when a
judge ran). Reports and gates read only these files.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from harness.errors import UsageError, file_problem

RUN_FILE = "run.json"
RESULTS_FILE = "results.jsonl"
SUMMARY_FILE = "summary.json"
CSV_FILE = "results.csv"
JUDGMENTS_FILE = "judgments.jsonl"


def slug(text: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.")
    return cleaned[:60] or "suite"


SPACE_RESERVE = ".space-reserve"
RESERVE_BYTES = 64 * 1024  # enough for run.json and summary.json once the disk is full


def write_json(path: Path, data: Any) -> None:
    """Write atomically: a crash leaves the old file or the new one, never half of one.
    A failed write (disk full, read-only) removes its temporary file and raises OSError."""
    temporary = path.with_name(path.name + ".tmp")
    try:
        temporary.write_bytes(orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS))
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write_jsonl(path: Path, records: list[dict[str, Any]]) -> None:
    temporary = path.with_name(path.name + ".tmp")
    try:
        with temporary.open("wb") as handle:
            for record in records:
                handle.write(orjson.dumps(record, option=orjson.OPT_NON_STR_KEYS))
                handle.write(b"\n")
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def reserve_space(run_dir: Path) -> None:
    """Set aside a little disk in the run directory, so that when the disk fills mid-run the
    run can still be marked `aborted` (released by `release_space`)."""
    path = run_dir / SPACE_RESERVE
    with path.open("wb") as handle:
        try:
            os.posix_fallocate(handle.fileno(), 0, RESERVE_BYTES)
        except (AttributeError, OSError):
            handle.write(b"\0" * RESERVE_BYTES)


def release_space(run_dir: Path) -> bool:
    """Give the reserve back; True when there was one."""
    path = run_dir / SPACE_RESERVE
    if not path.exists():
        return False
    path.unlink(missing_ok=True)
    return True


def truncate_torn_line(path: Path) -> None:
    """Cut a last line left half-written (a full disk) so the file ends on a whole record."""
    try:
        with path.open("rb+") as handle:
            size = handle.seek(0, os.SEEK_END)
            if size == 0:
                return
            step = min(size, 1 << 16)
            end = size
            while end > 0:
                start = max(0, end - step)
                handle.seek(start)
                chunk = handle.read(end - start)
                newline = chunk.rfind(b"\n")
                if newline >= 0:
                    handle.truncate(start + newline + 1)
                    return
                end = start
            handle.truncate(0)
    except OSError:
        pass


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    records = []
    with path.open("rb") as handle:
        for raw in handle:
            if raw.strip():
                try:
                    records.append(orjson.loads(raw))
                except orjson.JSONDecodeError:
                    break  # a run killed mid-write leaves at most one torn last line
    return records


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def create_run_dir(output_root: Path, suite_name: str) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    base = f"{slug(suite_name)}-{stamp}"
    try:
        output_root.mkdir(parents=True, exist_ok=True)
        for attempt in range(1, 1000):
            candidate = output_root / (base if attempt == 1 else f"{base}-{attempt}")
            try:
                candidate.mkdir()
                return candidate
            except FileExistsError:
                continue
    except OSError as exc:
        raise UsageError(file_problem(exc, exc.filename or output_root, "create the run directory")) from None
    raise UsageError(f"cannot create a run directory under {output_root}")


@dataclass
class RunData:
    """A finished (or interrupted) run read back from disk."""

    path: Path
    run: dict[str, Any]
    results: list[dict[str, Any]]
    summary: dict[str, Any] | None
    judgments: list[dict[str, Any]] = field(default_factory=list)

    @property
    def model_names(self) -> list[str]:
        return [m["name"] for m in self.run.get("models", [])]


def load_run(path: str | Path) -> RunData:
    """Read a run directory. Raises UsageError when it is not one."""
    run_dir = Path(path)
    run_file = run_dir / RUN_FILE
    if not run_file.is_file():
        raise UsageError(f"'{path}' is not a run directory (no {RUN_FILE})")
    try:
        run = orjson.loads(run_file.read_bytes())
    except orjson.JSONDecodeError as exc:
        raise UsageError(f"{run_file}: invalid JSON ({exc.args[0]})") from None
    results_file = run_dir / RESULTS_FILE
    results = read_jsonl(results_file) if results_file.is_file() else []
    summary_file = run_dir / SUMMARY_FILE
    summary = orjson.loads(summary_file.read_bytes()) if summary_file.is_file() else None
    judgments_file = run_dir / JUDGMENTS_FILE
    judgments = read_jsonl(judgments_file) if judgments_file.is_file() else []
    return RunData(run_dir, run, results, summary, judgments)
