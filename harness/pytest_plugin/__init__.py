"""The pytest plugin (entry point `pytest11`): suites as tests, and the `harness_run` fixture.

    pytest --harness suites/support.yaml --harness-model openai:my-model
    pytest                                  # also collects files named *.harness.yaml / *.harness.yml

Each case x model x repeat is an item `suite.yaml::case-id[model]`; each suite gate is an item
`suite.yaml::gate[expression]`. A suite is run once per session, when its first item is set up,
for the cases and models of the selected items (`-k`, `-m TAG`); under pytest-xdist one worker
runs it and the others read its run directory (see session.py).

This module is imported by every pytest run in an environment where harness is installed, so it
imports nothing but pytest and the standard library; the rest loads when a suite is collected.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from harness.run.store import RunData

DEFAULT_FILE_PATTERNS = ["*.harness.yaml", "*.harness.yml"]
SUITE_PATHS = pytest.StashKey[list[Path]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("harness", "harness: evaluation suites as tests")
    group.addoption("--harness", action="append", default=[], metavar="SUITE",
                    help="Collect the cases and gates of this suite file as tests (repeatable).")
    group.addoption("--harness-model", action="append", default=[], metavar="SPEC",
                    help="Model to run the suites against (repeatable); default: each suite's models:.")
    group.addoption("--harness-repeat", type=int, default=1, metavar="N",
                    help="Independent samples per case and model (one item each).")
    group.addoption("--harness-output", metavar="DIR",
                    help="Write each suite's run directory and reports under DIR and index it in DIR/history.sqlite "
                         "(default: pytest's temporary directory).")
    group.addoption("--harness-no-cache", action="store_true",
                    help="Neither read nor write the response cache.")
    parser.addini("harness_files", type="args", default=DEFAULT_FILE_PATTERNS,
                  help="Glob patterns of suite files collected as tests (default: *.harness.yaml *.harness.yml).")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "harness: a case or gate of a harness suite")
    suites: list[Path] = []
    for value in config.getoption("harness") or []:
        path = (config.invocation_params.dir / value).resolve()
        if not path.is_file():
            raise pytest.UsageError(f"--harness {value}: suite file not found (looked at {path})")
        suites.append(path)
    config.stash[SUITE_PATHS] = suites
    if config.getoption("harness_repeat") < 1:
        raise pytest.UsageError("--harness-repeat must be at least 1")
    # The suites join whatever pytest collects (the arguments, or testpaths): `-m harness` runs them alone.
    given = {(config.invocation_params.dir / arg.split("::")[0]).resolve() for arg in config.args}
    config.args.extend(str(path) for path in suites if path not in given)


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.suffix not in (".yaml", ".yml"):
        return None
    config = parent.config
    explicit = file_path.resolve() in config.stash.get(SUITE_PATHS, [])
    if not explicit and not any(fnmatch.fnmatch(file_path.name, p) for p in config.getini("harness_files")):
        return None
    from harness.pytest_plugin.collect import SuiteFile

    collector: pytest.Collector = SuiteFile.from_parent(parent, path=file_path)
    return collector


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    from harness.pytest_plugin.session import summary_lines

    lines = summary_lines(config)
    if lines:
        terminalreporter.section("harness")
        for line in lines:
            terminalreporter.write_line(line)


def pytest_sessionfinish(session: pytest.Session) -> None:
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: hand the runs to the controller's summary
        from harness.pytest_plugin.session import RUNS

        workeroutput["harness_runs"] = session.config.stash.get(RUNS, [])


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    runs = (getattr(node, "workeroutput", None) or {}).get("harness_runs")
    if runs:
        from harness.pytest_plugin.session import RUNS

        node.config.stash.setdefault(RUNS, []).extend(runs)


@pytest.fixture
def harness_run(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[..., RunData]:
    """Run a suite (a path) or a list of cases (dicts in the suite format) against models; returns the run.

        def test_refunds(harness_run):
            run = harness_run([{"id": "r1", "input": "Refund policy?", "required_patterns": ["30 days"]}],
                              models=["openai:support-v3"])
            assert run.summary["models"]["support-v3"]["pass_rate"] == 1.0

    Keyword options are those of `harness.api.RunOptions` (gates, repeat, baseline, judge, ...).
    Relative paths in a list of cases' model specs resolve against the test file's folder.
    """
    from harness.pytest_plugin.fixture import make_runner

    return make_runner(request, tmp_path)
