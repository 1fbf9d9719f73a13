"""Label judges: the built-in template, reply parsing, and located errors in the suite and template files."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.cli import cli, invoke
from harness.errors import SuiteError
from harness.judging.parsing import parse_label
from harness.judging.templates import builtin_template_text, load_template
from harness.suite.loader import load_suite

LABELS = ["polite", "neutral", "rude"]


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_builtin_label_template_lists_the_labels_and_the_answer() -> None:
    template = load_template("label", Path.cwd(), "label")
    messages = template.messages({"question": "Say hi", "answer": "ANSWER-TEXT", "labels": LABELS, "rubric": "Be fair."})
    prompt = messages[-1]["content"]
    assert "ANSWER-TEXT" in prompt and "Say hi" in prompt and "Be fair." in prompt
    assert "- polite\n- neutral\n- rude" in prompt
    assert "polite, neutral, rude" in template.retry_message({"labels": LABELS})


def test_harness_judge_template_label_prints_the_builtin(capsys: pytest.CaptureFixture[str]) -> None:
    code = invoke(lambda: cli.main(args=["judge", "template", "label"], prog_name="harness", standalone_mode=False))
    assert code == 0
    assert capsys.readouterr().out == builtin_template_text("label")


@pytest.mark.parametrize(
    ("reply", "label", "score"),
    [
        ('{"reason": "kind words", "label": "polite"}', "polite", 1.0),
        ('Sure. ```json\n{"reason": "curt", "label": " Rude "}\n```', "rude", 0.0),
        ('{"reason": "plain", "label": "NEUTRAL"}', "neutral", 1.0),
    ],
)
def test_label_replies(reply: str, label: str, score: float) -> None:
    parsed = parse_label(reply, LABELS, ["polite", "neutral"])
    assert parsed.ok and parsed.value.label == label and parsed.value.score == score


@pytest.mark.parametrize(
    ("reply", "problem"),
    [
        ('{"reason": "x", "label": "angry"}', '"label" must be one of polite, neutral, rude'),
        ('{"label": "polite"}', 'no "reason"'),
        ("polite", "no JSON object"),
        ('{"reason": "x", "label": 3}', '"label" must be one of'),
    ],
)
def test_invalid_label_replies(reply: str, problem: str) -> None:
    parsed = parse_label(reply, LABELS, ["polite"])
    assert not parsed.ok and problem in (parsed.problem or "")


def test_label_template_without_the_labels_placeholder_is_located(tmp_path: Path) -> None:
    write(tmp_path / "mine.yaml", "kind: label\nprompt: 'Classify {{ answer }}'\nretry_prompt: again\n")
    with pytest.raises(SuiteError) as raised:
        load_template("mine.yaml", tmp_path, "label")
    assert any("mine.yaml:2:9: a label template must use {{ labels }}" in line for line in raised.value.lines())


SUITE_HEAD = "cases:\n  - input: hi\njudge:\n  model: gpt-4o\n"


def test_suite_label_block_loads(tmp_path: Path) -> None:
    suite = write(tmp_path / "suite.yaml", SUITE_HEAD + "  label: {labels: [polite, rude], passing: [polite]}\n")
    judge = load_suite(suite).judge
    assert judge is not None and judge.label is not None
    assert judge.template("label") == "label" and judge.label.passing == ["polite"]


@pytest.mark.parametrize(
    ("block", "expected"),
    [
        ("  label: {labels: [polite, rude], passing: [kind]}\n", "5:44: passing label(s) 'kind' not among the labels (polite, rude)"),
        ("  label: {labels: [polite, Polite], passing: [polite]}\n", "5:19: label(s) Polite, polite given twice"),
        ("  label: {labels: [yes, no], passing: ['yes']}\n", "5:19: YAML reads yes/no/true/false as booleans"),
        ("  label: {labels: [a, b], passing: [a], template: rubric}\n", "5:51: judge template 'rubric' is a rubric template, expected label"),
        ("  label: {labels: [a], passing: [a]}\n", "5:19: List should have at least 2 items"),
    ],
)
def test_suite_label_block_errors_are_located(tmp_path: Path, block: str, expected: str) -> None:
    suite = write(tmp_path / "suite.yaml", SUITE_HEAD + block)
    with pytest.raises(SuiteError) as raised:
        load_suite(suite)
    lines = raised.value.lines()
    assert len(lines) == 1 and expected in lines[0], lines


def test_panel_naming_a_judge_twice_is_located(tmp_path: Path) -> None:
    suite = write(tmp_path / "suite.yaml", "cases:\n  - input: hi\njudge:\n  models: [j1, j2, j1]\n")
    with pytest.raises(SuiteError) as raised:
        load_suite(suite)
    assert raised.value.lines() == [f"{suite}:4:11: the panel names judge(s) j1 twice"]


def test_panel_and_single_judge_together_are_refused(tmp_path: Path) -> None:
    suite = write(tmp_path / "suite.yaml", "cases:\n  - input: hi\njudge:\n  model: j0\n  models: [j1, j2]\n  quorum: 3\n")
    with pytest.raises(SuiteError) as raised:
        load_suite(suite)
    assert "give `model` (one judge) or `models` (a panel), not both" in raised.value.lines()[0]
