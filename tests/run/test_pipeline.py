"""The run as a pipeline of stages: order, and what still runs after an abort or Ctrl-C."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rich.console import Console

from harness.errors import RunError
from harness.run.compose import default_stages
from harness.run.context import RunContext
from harness.run.options import RunOptions
from harness.run.pipeline import Stage, run_pipeline
from harness.run.stages import GenerateStage, JudgeStage, PrepareStage, ReportStage, ScoreStage


@pytest.fixture
def context(tmp_path: Path) -> RunContext:
    (tmp_path / "preds.jsonl").write_text(
        '{"id": "a", "output": "alpha"}\n{"id": "b", "output": "nope"}\n', encoding="utf-8"
    )
    suite = tmp_path / "suite.yaml"
    suite.write_text(
        "name: pipe\nmodels: {p: 'predictions:preds.jsonl'}\n"
        "cases:\n  - {id: a, input: x, required_patterns: [alpha]}\n  - {id: b, input: y, required_patterns: [alpha]}\n",
        encoding="utf-8",
    )
    options = RunOptions(output_dir=tmp_path / "out", cache_dir=tmp_path / "cache", progress=False, history=False)
    return PrepareStage().prepare(suite, options, Console(stderr=True, quiet=True))


class Recorder:
    """A stage that records that it ran (or was skipped) and optionally raises."""

    def __init__(self, log: list[str], name: str, after_stop: bool, raises: BaseException | None = None) -> None:
        self.log, self.name, self.runs_after_stop, self.raises = log, name, after_stop, raises
        self.phase = f"{name}_s"

    def run(self, ctx: RunContext) -> None:
        self.log.append(f"run {self.name}")
        if self.raises is not None:
            raise self.raises

    def skip(self, ctx: RunContext) -> None:
        self.log.append(f"skip {self.name}")


def run_info(ctx: RunContext) -> dict[str, object]:
    return json.loads((ctx.run_dir / "run.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def test_prepare_writes_a_running_run_json_before_anything_is_sent(context: RunContext) -> None:
    assert run_info(context)["status"] == "running"
    assert [item.case.id for item in context.work] == ["a", "b"]
    assert context.records == []


def test_default_stages_run_in_data_order(context: RunContext) -> None:
    stages = default_stages(context)
    assert [type(s) for s in stages] == [GenerateStage, ScoreStage, ReportStage]  # no judge planned
    run_pipeline(context, stages)
    assert [r["passed"] for r in context.records] == [True, False]
    assert context.summary["models"]["p"]["pass_rate"] == 0.5
    assert run_info(context)["status"] == "complete"
    assert {"generate_s", "score_s", "report_s"} <= set(context.clock.timings)
    assert (context.run_dir / "report.html").exists()


def test_an_abort_skips_what_would_spend_and_keeps_what_exists(context: RunContext) -> None:
    log: list[str] = []
    stages = [
        Recorder(log, "one", False, RunError("endpoint gone")),
        Recorder(log, "judge", False),
        Recorder(log, "keep", True),
    ]
    with pytest.raises(RunError) as caught:
        run_pipeline(context, stages)
    assert log == ["run one", "skip judge", "run keep"]
    assert caught.value.run_dir == context.run_dir  # type: ignore[attr-defined]
    info = run_info(context)
    assert info["status"] == "aborted" and info["error"] == "endpoint gone"
    assert {"one_s", "judge_s", "keep_s"} <= set(context.clock.timings)


def test_the_first_failure_is_the_one_reported(context: RunContext) -> None:
    log: list[str] = []
    stages = [Recorder(log, "one", False, RunError("first")), Recorder(log, "keep", True, RunError("second"))]
    with pytest.raises(RunError, match="first"):
        run_pipeline(context, stages)
    assert run_info(context)["error"] == "first"


def test_ctrl_c_marks_the_run_interrupted_and_still_keeps_what_exists(context: RunContext) -> None:
    log: list[str] = []
    stages = [Recorder(log, "one", False, KeyboardInterrupt()), Recorder(log, "two", False), Recorder(log, "keep", True)]
    with pytest.raises(KeyboardInterrupt):
        run_pipeline(context, stages)
    assert log == ["run one", "skip two", "run keep"]
    assert run_info(context)["status"] == "interrupted"


def test_a_second_ctrl_c_while_keeping_stops_at_once(context: RunContext) -> None:
    log: list[str] = []
    stages = [
        Recorder(log, "one", False, KeyboardInterrupt()),
        Recorder(log, "keep", True, KeyboardInterrupt()),
        Recorder(log, "report", True),
    ]
    with pytest.raises(KeyboardInterrupt):
        run_pipeline(context, stages)
    assert log == ["run one", "run keep"]


def test_score_and_report_after_an_aborted_generation(context: RunContext) -> None:
    """The real stages after an abort: results, summary and report describe what was answered."""
    log: list[str] = []
    generate = GenerateStage()
    stages: list[Stage] = [
        generate, Recorder(log, "fail", False, RunError("budget spent")), JudgeStage(), ScoreStage(), ReportStage()
    ]
    with pytest.raises(RunError, match="budget spent"):
        run_pipeline(context, stages)
    assert len(context.records) == 2
    assert (context.run_dir / "summary.json").exists() and (context.run_dir / "report.html").exists()
    assert not (context.run_dir / "judgments.jsonl").exists()
    assert run_info(context)["status"] == "aborted"
