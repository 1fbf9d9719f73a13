"""Fixtures for metric tests: suite files written into the test's folder."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest


@pytest.fixture
def write_suite(tmp_path: Path) -> Callable[[str], Path]:
    """Write a suite (dedented YAML) to tmp_path/suite.yaml and return its path."""

    def write(text: str, name: str = "suite.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write


@pytest.fixture
def write_predictions(tmp_path: Path) -> Callable[[str, dict[str, str]], Path]:
    """Write a predictions file {case id: output} to tmp_path/<name> and return its path."""

    def write(name: str, outputs: dict[str, str]) -> Path:
        path = tmp_path / name
        path.write_bytes(b"\n".join(orjson.dumps({"id": k, "output": v}) for k, v in outputs.items()) + b"\n")
        return path

    return write
