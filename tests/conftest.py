"""Fixtures shared by every test: an isolated cache and environment, and a local OpenAI-compatible server."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from harness.testing import FakeOpenAIServer

if TYPE_CHECKING:
    from harness.api import RunOutcome

ROOT = Path(__file__).resolve().parents[1]
pytest_plugins = ["pytester"]  # tests/pytest_plugin run pytest sessions of their own


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test gets its own response cache and no endpoint or key from the developer's shell."""
    cache_dir = tmp_path / "harness-cache"
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(cache_dir))
    for name in ("OPENAI_BASE_URL", "OPENAI_API_KEY", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID"):
        monkeypatch.delenv(name, raising=False)
    return cache_dir


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAIServer]:
    """A running fake endpoint echoing the last message; tests replace `responder`/`faults` as needed."""
    with FakeOpenAIServer() as server:
        yield server


@pytest.fixture(scope="session")
def quickstart_run(tmp_path_factory: pytest.TempPathFactory) -> RunOutcome:
    """The shipped offline quickstart (suites/quickstart.yaml: two local hf: models), run once per session."""
    if not os.environ.get("CI"):  # CI installs the local extra: a missing package there is a failure
        for package in ("torch", "transformers", "peft"):
            pytest.importorskip(package)
    os.environ["HF_HUB_OFFLINE"] = "1"  # nothing may reach the hub
    from rich.console import Console

    from harness.api import RunOptions, run_suite

    options = RunOptions(output_dir=tmp_path_factory.mktemp("quickstart"), progress=False, use_cache=False)
    return run_suite(ROOT / "suites" / "quickstart.yaml", options, Console(file=io.StringIO()))
