"""The `harness_run` fixture's callable: run a suite or a list of cases, return the loaded run."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.run.store import RunData

_counter = itertools.count(1)


def make_runner(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[..., RunData]:
    from harness.api import RunOptions, load_run, run_suite
    from harness.suite.loader import Suite, load_suite

    output = request.config.getoption("harness_output", None)
    test_dir = request.path.parent

    def run(suite: str | Path | Sequence[Mapping[str, Any]], models: Sequence[str] = (), **options: Any) -> RunData:
        loaded: Suite
        if isinstance(suite, (str, Path)):
            path = Path(suite)
            if not path.is_absolute() and not path.is_file():
                path = test_dir / path  # relative to the test file, like the case lists' paths
            loaded = load_suite(path)
        else:
            name = f"{request.node.name}".replace("/", "-")[:60] or "harness_run"
            file = tmp_path / f"harness-run-{next(_counter)}.yaml"
            file.write_text(yaml.safe_dump({"name": name, "cases": [dict(case) for case in suite]}, sort_keys=False),
                            encoding="utf-8")
            # relative paths (predictions: files) mean the test's folder, not the temporary file's
            loaded = dataclasses.replace(load_suite(file), path=test_dir / file.name)
        options.setdefault("output_dir", Path(output) if output else tmp_path / "harness")
        options.setdefault("history", bool(output))
        options.setdefault("progress", False)
        outcome = run_suite(loaded, RunOptions(models=list(models), **options))
        return load_run(outcome.run_dir)

    return run
