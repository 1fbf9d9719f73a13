"""A scripted candidate, baseline and judge on the fake server, whose Batch API runs on fast-forwarded time."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from harness.api import RunOptions, RunOutcome, run_suite
from harness.testing import FakeOpenAIServer
from tests.judging.conftest import SUITE, Scripted

JUDGED = {"models": ["openai:cand"], "baseline": "openai:base", "judge": "openai:judge"}


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer(responder=Scripted()) as running:
        monkeypatch.setenv("OPENAI_BASE_URL", running.base_url)
        monkeypatch.setenv("HARNESS_BATCH_POLL", "0.005,0.02")
        yield running


@pytest.fixture
def suite(tmp_path: Path) -> Path:
    path = tmp_path / "suite.yaml"
    path.write_text(SUITE, encoding="utf-8")
    return path


def run(suite: Path, log: io.StringIO | None = None, **overrides: Any) -> RunOutcome:
    options: dict[str, Any] = {**JUDGED, "output_dir": suite.parent / "reports", "progress": False, "max_retries": 0}
    options.update(overrides)
    return run_suite(suite, RunOptions(**options), Console(file=log or io.StringIO(), width=200))


def by_model(server: FakeOpenAIServer) -> dict[str, list[dict[str, Any]]]:
    """Request bodies the server answered through batches, by model."""
    grouped: dict[str, list[dict[str, Any]]] = {}
    for body in server.batch_api.answered if server.batch_api else []:
        grouped.setdefault(body["model"], []).append(body)
    return grouped


def comparable(records: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """What a result says, without how it was obtained (latency, batch id, cache)."""
    return [(r["model"], r["case_id"], r["repeat"], r["output"], r["error"], r["passed"], r["usage"]) for r in records]


def verdicts(lines: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [(line["kind"], line["case_id"], line["outcome"], [o["verdict"] for o in line.get("orders", [])])
            for line in lines]
