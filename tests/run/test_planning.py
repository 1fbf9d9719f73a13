"""Deciding the run's models, baseline and judge before anything is sent; misconfigurations fail fast."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import UsageError
from harness.judging.plan import JudgePlan
from harness.models.resolve import ResolvedModel
from harness.run.planning import baseline_name, check_judged_gates, plan_models
from harness.suite.loader import load_suite


def suite_at(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "suite.yaml"
    path.write_text(text, encoding="utf-8")
    return path


BASE = "cases:\n  - {input: hi, rubric: 'says hi'}\n"


def plan(
    tmp_path: Path, text: str, models: list[str], baseline: str | None = None, judge: str | None = None
) -> tuple[list[ResolvedModel], JudgePlan | None]:
    suite = load_suite(suite_at(tmp_path, text))
    return plan_models(suite, suite.cases, models, baseline, judge)


def test_the_baseline_is_added_to_the_run(tmp_path: Path) -> None:
    models, judging = plan(tmp_path, BASE, ["openai:cand"], "openai:base", "openai:judge")
    assert [m.name for m in models] == ["openai:cand", "openai:base"]
    assert judging is not None
    assert (judging.baseline, judging.candidates) == ("openai:base", ["openai:cand"])
    assert set(judging.templates) == {"pairwise", "rubric"}
    assert judging.params(judging.templates["pairwise"]).temperature == 0


def test_suite_baseline_and_judge_names(tmp_path: Path) -> None:
    text = BASE + (
        "models:\n  base: openai:b\n  tuned: openai:t\n  grader: {spec: openai:g, generation: {temperature: 0.9, max_tokens: 99}}\n"
        "baseline: base\njudge: {model: grader}\n"
    )
    models, judging = plan(tmp_path, text, [])
    # the judge's suite model is not a model under test
    assert [m.name for m in models] == ["base", "tuned"]
    assert judging is not None and judging.judge.name == "grader" and judging.candidates == ["tuned"]
    params = judging.params(judging.templates["pairwise"])
    assert (params.temperature, params.max_tokens) == (0, 99)  # greedy whatever the model's settings


def test_baseline_without_a_judge_is_compared_by_checks_and_metrics(tmp_path: Path) -> None:
    models, judging = plan(tmp_path, BASE, ["openai:cand"], "openai:base")
    assert judging is None and [m.name for m in models] == ["openai:cand", "openai:base"]
    suite = load_suite(suite_at(tmp_path, BASE + "models:\n  base: openai:b\nbaseline: base\n"))
    assert baseline_name(suite, None) == "base"
    assert baseline_name(suite, "openai:b") == "base"  # a spec a suite model has means that model
    assert baseline_name(suite, "openai:other") == "openai:other"
    assert baseline_name(load_suite(suite_at(tmp_path, BASE)), None) is None


@pytest.mark.parametrize("gate", ["win_rate >= 0.6", "win_rate[cand].lower >= 0.5", "rubric >= 7", "closed_qa >= 0.8"])
def test_a_judged_gate_without_a_judge_is_refused(tmp_path: Path, gate: str) -> None:
    with pytest.raises(UsageError, match=r"gate '.*' needs an LLM judge, and this run has none: pass --judge SPEC"):
        check_judged_gates(["pass_rate >= 0.5", gate], None)
    _, judging = plan(tmp_path, BASE, ["openai:cand"], "openai:base", "openai:judge")
    check_judged_gates(["pass_rate >= 0.5", gate], judging)  # with a judge: fine
    check_judged_gates(["pass_rate >= 0.5", "rougeL[cand].lower >= 0.4"], None)  # unjudged figures: fine


def test_baseline_without_a_judge_is_fine_when_pairwise_is_off(tmp_path: Path) -> None:
    models, judging = plan(tmp_path, BASE + "judge: {pairwise: false}\n", ["openai:cand"], "openai:base")
    assert judging is None and [m.name for m in models] == ["openai:cand", "openai:base"]


def test_a_baseline_alone_has_nothing_to_compare(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="nothing to compare with the baseline 'openai:base'"):
        plan(tmp_path, BASE, ["openai:base"], "openai:base", "openai:judge")


def test_a_judge_with_nothing_to_judge_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="has nothing to judge"):
        plan(tmp_path, "cases:\n  - {input: hi}\n", ["openai:cand"], None, "openai:judge")


def test_a_predictions_file_cannot_judge(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="must be a model that generates"):
        plan(tmp_path, BASE, ["openai:cand"], "openai:base", "predictions:x.jsonl")


def test_without_judge_or_baseline_nothing_changes(tmp_path: Path) -> None:
    models, judging = plan(tmp_path, BASE, ["openai:cand"])
    assert judging is None and [m.name for m in models] == ["openai:cand"]


def test_a_baseline_spec_that_a_suite_model_has_is_that_model(tmp_path: Path) -> None:
    models, judging = plan(
        tmp_path,
        "models: {base: openai:base-model, tuned: openai:tuned-model}\ncases: [{input: x}]\n",
        ["tuned"], baseline="openai:base-model", judge="openai:j",
    )
    assert [m.name for m in models] == ["tuned", "base"]
    assert judging is not None and (judging.baseline, judging.candidates) == ("base", ["tuned"])
