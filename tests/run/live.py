"""Watching a `harness run` that is still going, for tests that interrupt it part-way."""

from __future__ import annotations

import time
from pathlib import Path


def wait_for_answers(output: Path, count: int, timeout: float = 60.0) -> Path | None:
    """The results.jsonl under `output` once it holds `count` lines, or None after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = list(output.glob("*/results.jsonl"))
        if found and len(found[0].read_bytes().splitlines()) >= count:
            return found[0]
        time.sleep(0.01)
    return None
