"""One run per suite and pytest session, shared by its items (and by pytest-xdist workers).

The first item of a suite to be set up starts the run, for the cases and models of the items
that survived `-k`/`-m` (all of them when only gate items are selected). Under pytest-xdist
every worker holds the same selected items; the first to get there takes a file lock in the
session's shared temporary directory, runs the suite and leaves a note naming the run
directory (or the error); the others wait on the lock and read the run directory. So each
request is sent once however many workers there are, and every worker reports its own items.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from harness.suite.loader import Suite

RUNS = pytest.StashKey[list[dict[str, Any]]]()


@dataclass
class SuitePlan:
    """What a collected suite will run: the loaded suite, model names and the refs that produce them."""

    path: Path
    suite: Suite
    models: dict[str, str]  # model name -> the reference run_suite resolves to it
    requested: list[str]  # --harness-model as given (empty: the suite's models)
    repeat: int
    gates: list[str]


@dataclass
class SuiteRun:
    """The shared result of one suite's run in this session."""

    plan: SuitePlan
    started: bool = False
    run_dir: Path | None = None
    error: str | None = None
    records: dict[tuple[str, str, int], dict[str, Any]] = field(default_factory=dict)
    gates: list[dict[str, Any]] = field(default_factory=list)
    cases: int = 0

    def record(self, case_id: str, model: str, repeat: int) -> dict[str, Any] | None:
        return self.records.get((case_id, model, repeat))

    def ensure(self, session: pytest.Session) -> None:
        """Run the suite unless this session already has (or another xdist worker did)."""
        if self.started:
            return
        self.started = True
        from harness.pytest_plugin.collect import CaseItem, GateItem

        mine = [item for item in session.items if isinstance(item, (CaseItem, GateItem)) and item.suite_run is self]
        cases = [item for item in mine if isinstance(item, CaseItem)]
        case_ids = {item.case.id for item in cases}
        models = list(dict.fromkeys(item.model for item in cases))
        config = session.config
        workerinput = getattr(config, "workerinput", None)
        if workerinput is None:
            note = self._execute(config, case_ids, models)
        else:
            from filelock import FileLock

            shared = _temp_root(config).parent  # xdist: each worker's basetemp is <root>/popen-gwN
            key = hashlib.sha256(str(self.plan.path).encode()).hexdigest()[:16]
            with FileLock(str(shared / f"harness-{key}.lock")):
                note_file = shared / f"harness-{key}.json"
                if note_file.is_file():
                    note = json.loads(note_file.read_text(encoding="utf-8"))
                else:
                    note = self._execute(config, case_ids, models)
                    note_file.write_text(json.dumps(note), encoding="utf-8")
        self._load(note)
        config.stash.setdefault(RUNS, []).append(note)

    def _execute(self, config: pytest.Config, case_ids: set[str], models: list[str]) -> dict[str, Any]:
        """Run the suite now; the note other workers and the summary read."""
        from harness.api import RunOptions, run_suite
        from harness.errors import HarnessError
        from harness.terminal import make_console

        plan = self.plan
        suite = plan.suite
        selected_all = not case_ids or (
            case_ids == {case.id for case in suite.cases} and set(models) == set(plan.models)
        )
        if selected_all:
            refs = list(plan.requested)
        else:
            suite = replace(suite, cases=[case for case in suite.cases if case.id in case_ids])
            refs = [plan.models[name] for name in models]
        output = config.getoption("harness_output")
        shared = _temp_root(config).parent if getattr(config, "workerinput", None) is not None else _temp_root(config)
        output_dir = Path(output) if output else shared / "harness"
        options = RunOptions(
            models=refs, output_dir=output_dir, repeat=plan.repeat, use_cache=not config.getoption("harness_no_cache"),
            progress=False, history=bool(output),
        )
        note: dict[str, Any] = {"suite": str(plan.path), "cases": len(suite.cases), "of": len(plan.suite.cases),
                                "run_dir": None, "error": None}
        try:
            outcome = run_suite(suite, options, make_console(stderr=True, quiet=True))
            note["run_dir"] = str(outcome.run_dir)
        except HarnessError as exc:
            run_dir = getattr(exc, "run_dir", None)
            note["run_dir"] = str(run_dir) if run_dir is not None else None
            note["error"] = " ".join(exc.lines())
        return note

    def _load(self, note: dict[str, Any]) -> None:
        from harness.api import load_run

        self.error = note.get("error")
        self.cases = int(note.get("cases") or 0)
        if note.get("run_dir"):
            self.run_dir = Path(note["run_dir"])
            data = load_run(self.run_dir)
            self.records = {(r["case_id"], r["model"], int(r.get("repeat") or 0)): r for r in data.results}
            self.gates = list((data.summary or {}).get("gates") or [])


def _temp_root(config: pytest.Config) -> Path:
    # pytest's own temporary directory for this session (kept for the last few sessions, then
    # removed by pytest); the factory is what the tmp_path fixtures use.
    factory = config._tmp_path_factory  # type: ignore[attr-defined]
    root: Path = factory.getbasetemp()
    return root


def summary_lines(config: pytest.Config) -> list[str]:
    seen: dict[str, dict[str, Any]] = {}
    for note in config.stash.get(RUNS, []):
        seen.setdefault(note["suite"], note)
    lines = []
    for note in seen.values():
        scope = f"{note['cases']} of {note['of']} cases" if note["cases"] != note["of"] else f"{note['cases']} cases"
        where = f"run directory {note['run_dir']}" if note.get("run_dir") else "no run directory"
        line = f"{note['suite']}: {scope}, {where}"
        if note.get("error"):
            line += f"; the run failed: {note['error']}"
        lines.append(line)
    return lines
