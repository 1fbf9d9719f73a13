"""Fixtures for hf: generation on Ray: the tiny models of the hf: tests, suites over them, and
one local Ray instance per test module (2 CPUs), shut down after the module."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.models.hf.conftest import QUESTIONS as HF_QUESTIONS
from tests.models.hf.conftest import TinyModels, offline_hub, tiny  # noqa: F401  (fixtures used here)

if os.environ.get("CI"):  # CI installs the dev extra, which has ray: a missing package there is a failure
    import ray
else:
    ray = pytest.importorskip("ray")

QUESTIONS = [*HF_QUESTIONS, "Numbers one two three four five six seven", "User: hello"]


@pytest.fixture(scope="module")
def ray_instance() -> Iterator[Any]:
    """One local Ray instance with 2 CPUs for the whole module; runs attach to it."""
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR,
             namespace="harness")
    try:
        yield ray
    finally:
        ray.shutdown()


def write_suite(path: Path, models: TinyModels, ray_settings: str | None, cases: int = len(QUESTIONS),
                extra_models: str = "", max_tokens: int = 6) -> Path:
    """A suite with the tiny base, two adapters on it (and `extra_models`), on Ray with `ray_settings`."""
    engine = f"engine: {{ray: {ray_settings}}}\n" if ray_settings is not None else ""
    lines = [
        "name: tiny-ray",
        f"generation: {{max_tokens: {max_tokens}}}",
        engine.rstrip("\n"),
        "models:",
        f"  base: {{spec: 'hf:{models.base}', options: {{batch_size: 2, threads: 1}}}}",
        f"  tuned-a: {{spec: 'hf:{models.base}+{models.lora_a}', options: {{batch_size: 2, threads: 1}}}}",
        f"  tuned-b: {{spec: 'hf:{models.base}+{models.lora_b}', options: {{batch_size: 2, threads: 1}}}}",
        extra_models.rstrip("\n"),
        "cases:",
        *(f"  - {{id: q{i:02d}, input: {json.dumps(QUESTIONS[i % len(QUESTIONS)] + ('' if i < len(QUESTIONS) else f' {i}'))}}}"
          for i in range(cases)),
    ]
    path.write_text("\n".join(line for line in lines if line) + "\n")
    return path


def records(run_dir: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (run_dir / "results.jsonl").read_text().splitlines()]


def outputs(rows: list[dict[str, Any]]) -> dict[tuple[str, str], str | None]:
    """(model, case) -> output; fails on a duplicate."""
    found: dict[tuple[str, str], str | None] = {}
    for row in rows:
        key = (row["model"], row["case_id"])
        assert key not in found, f"answered twice: {key}"
        found[key] = row["output"]
    return found


def run_dir_of(output: Path) -> Path:
    (run_dir,) = sorted(path for path in output.iterdir() if path.is_dir())
    return run_dir
