"""Fixtures shared by every test: an isolated cache and environment, and a local OpenAI-compatible server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.testing import FakeOpenAIServer

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
