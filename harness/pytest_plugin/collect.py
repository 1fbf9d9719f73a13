"""Suite files as pytest collectors: one item per case x model x repeat, one per gate.

A failed check fails its item with the case's failure reasons; a request that failed (timeout,
rate limit, server error, no prediction) fails its setup, which pytest counts as an error, not a
failure. A gate item fails with its gate rows, and is skipped when the gate does not
apply to the models of the session. Case tags become markers (`-m billing`).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.checks.base import check_text
from harness.pytest_plugin.session import SuitePlan, SuiteRun
from harness.suite.case import Case

OUTPUT_SHOWN = 300  # characters of the model's output in a failure message


class CaseFailed(AssertionError):
    """A case whose checks did not all pass."""


class GateFailed(AssertionError):
    """A gate that does not hold."""


def _plan(path: Path, config: pytest.Config) -> SuitePlan:
    from harness.run.planning import plan_models
    from harness.suite.loader import load_suite

    suite = load_suite(path)
    requested = list(config.getoption("harness_model") or [])
    models, _ = plan_models(suite, suite.cases, requested, None, None)
    refs = {model.name: (model.name if model.name in suite.models else model.spec.raw) for model in models}
    return SuitePlan(path, suite, refs, requested, int(config.getoption("harness_repeat")), list(suite.gates))


class SuiteFile(pytest.File):
    suite_run: SuiteRun

    def collect(self) -> Iterator[pytest.Item]:
        from harness.errors import HarnessError

        try:
            plan = _plan(self.path, self.config)
        except HarnessError as exc:
            raise self.CollectError("\n".join(exc.lines())) from None
        self.suite_run = SuiteRun(plan)
        repeat = plan.repeat
        for tag in sorted({tag for case in plan.suite.cases for tag in case.tags}):
            self.config.addinivalue_line("markers", f"{tag}: harness suite tag")
        for case in plan.suite.cases:
            for model in plan.models:
                for index in range(repeat):
                    label = model if repeat == 1 else f"{model}-r{index}"
                    yield CaseItem.from_parent(self, name=f"{case.id}[{label}]", case=case, model=model, repeat=index)
        for text in plan.gates:
            yield GateItem.from_parent(self, name=f"gate[{text}]", gate=text)


class _SuiteItem(pytest.Item):
    @property
    def suite_run(self) -> SuiteRun:
        parent = self.parent
        assert isinstance(parent, SuiteFile)
        return parent.suite_run

    def _ensure_run(self) -> SuiteRun:
        run = self.suite_run
        run.ensure(self.session)
        return run

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str | Any:
        if isinstance(excinfo.value, (CaseFailed, GateFailed)):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style=style)


class CaseItem(_SuiteItem):
    def __init__(self, *, case: Case, model: str, repeat: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.case = case
        self.model = model
        self.repeat = repeat
        self.result: dict[str, Any] | None = None
        self.add_marker("harness")
        for tag in case.tags:
            if not tag.startswith("_"):
                self.add_marker(tag)
        self.user_properties.extend([("case", case.id), ("model", model)])

    def setup(self) -> None:
        run = self._ensure_run()
        record = run.record(self.case.id, self.model, self.repeat)
        if record is None:
            why = f"the run failed: {run.error}" if run.error else "the run has no result for it"
            pytest.fail(f"case '{self.case.id}' on model '{self.model}': no answer ({why})", pytrace=False)
        self.result = record
        error = record.get("error")
        if error:
            pytest.fail(f"case '{self.case.id}' on model '{self.model}': the request failed: "
                        f"{error.get('kind')}: {error.get('message')}", pytrace=False)
        if record.get("latency_s") is not None:
            self.user_properties.append(("latency_s", record["latency_s"]))

    def runtest(self) -> None:
        record = self.result
        assert record is not None
        if record.get("passed"):
            return
        failing = [check for check in record.get("checks") or [] if not check.get("passed")]
        lines = [f"case '{self.case.id}' on model '{self.model}' failed {len(failing)} check(s):"]
        lines += [f"  - {check_text(check)}" for check in failing]
        output = record.get("output") or ""
        shown = output if len(output) <= OUTPUT_SHOWN else output[:OUTPUT_SHOWN] + "…"
        lines.append(f"  output: {shown!r}")
        raise CaseFailed("\n".join(lines))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        origin = self.case.origin.rsplit(":", 1)
        line = int(origin[1]) - 1 if len(origin) == 2 and origin[1].isdigit() else None
        return self.path, line, f"{self.case.id} [{self.model}]"


class GateItem(_SuiteItem):
    def __init__(self, *, gate: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.gate = gate
        self.add_marker("harness")

    def setup(self) -> None:
        run = self._ensure_run()
        if run.error and not run.gates:
            pytest.fail(f"gate '{self.gate}': not evaluated, the run failed: {run.error}", pytrace=False)

    def runtest(self) -> None:
        run = self.suite_run
        rows = [row for row in run.gates if row.get("gate") == self.gate]
        if not rows:
            pytest.skip(f"gate '{self.gate}' does not apply to the models of this session")
        failed = [row for row in rows if not row.get("passed")]
        if failed:
            from harness.gates.figures import format_value

            lines = [f"gate '{self.gate}' failed:"]
            for row in failed:
                value = format_value(row.get("value"), row.get("kind", "score"))
                threshold = format_value(row.get("threshold"), row.get("kind", "score"))
                note = f" ({row['note']})" if row.get("note") else ""
                lines.append(f"  - {row['figure']}: {row['bound']} {value}, needs {row['comparator']} {threshold}{note}")
            if run.cases and run.cases != len(run.plan.suite.cases):
                lines.append(f"  (on the {run.cases} of {len(run.plan.suite.cases)} cases selected)")
            raise GateFailed("\n".join(lines))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"gate {self.gate}"
