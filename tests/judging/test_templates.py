"""Judge templates: the built-ins load and render, overrides by path, and located errors for bad ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import SuiteError
from harness.judging.templates import BUILTIN_TEMPLATES, Scale, load_template
from harness.suite.loader import load_suite


@pytest.mark.parametrize("name", BUILTIN_TEMPLATES)
def test_builtin_templates_load(name: str) -> None:
    kind = "rubric" if name.startswith("rubric") else name
    template = load_template(name, Path.cwd(), kind)
    assert template.origin == "builtin"
    assert len(template.sha256) == 64


def test_pairwise_prompt_carries_question_answers_reference_rubric_and_conversation() -> None:
    template = load_template("pairwise", Path.cwd(), "pairwise")
    messages = template.messages(
        {
            "question": "Which product?",
            "conversation": [{"role": "user", "content": "I forgot my password"}, {"role": "assistant", "content": "Sure"}],
            "answer_a": "ANSWER-ONE",
            "answer_b": "ANSWER-TWO",
            "reference": "THE-REFERENCE",
            "rubric": "THE-RUBRIC",
        }
    )
    assert messages[0]["role"] == "system"
    prompt = messages[-1]["content"]
    for text in ("Which product?", "I forgot my password", "ANSWER-ONE", "ANSWER-TWO", "THE-REFERENCE", "THE-RUBRIC"):
        assert text in prompt
    assert prompt.index("ANSWER-ONE") < prompt.index("ANSWER-TWO")
    assert "[[A]]" in prompt and "[[C]]" in prompt


def test_answers_are_inserted_as_text_not_evaluated() -> None:
    template = load_template("pairwise", Path.cwd(), "pairwise")
    prompt = template.messages({"question": "q", "answer_a": "{{ 7 * 7 }}", "answer_b": "{% raw %}"})[-1]["content"]
    assert "{{ 7 * 7 }}" in prompt and "49" not in prompt


def test_rubric_template_states_its_scale() -> None:
    template = load_template("rubric", Path.cwd(), "rubric")
    assert template.scale == Scale(min=1, max=10)
    prompt = template.messages({"question": "q", "answer": "a", "rubric": "r"})[-1]["content"]
    assert "from 1" in prompt and "10" in prompt
    assert load_template("rubric_pass_fail", Path.cwd(), "rubric").scale == "pass_fail"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_override_by_path_relative_to_the_suite(tmp_path: Path) -> None:
    write(
        tmp_path / "judges" / "mine.yaml",
        "kind: pairwise\nprompt: 'Q {{ question }} A {{ answer_a }} B {{ answer_b }}'\nretry_prompt: again\n"
        "verdict: {pattern: 'WINNER: (X|Y|TIE)', first: X, second: Y, tie: TIE}\n",
    )
    template = load_template("judges/mine.yaml", tmp_path, "pairwise")
    assert template.verdict.first == "X"
    assert template.messages({"question": "q", "answer_a": "1", "answer_b": "2"}) == [
        {"role": "user", "content": "Q q A 1 B 2"}
    ]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "kind: pairwise\nprompt: '{{ answer_a }} {{ answer_b }} {{ question }} {{ bogus }}'\nretry_prompt: x\n",
            "mine.yaml:2:9: prompt uses unknown placeholder(s) bogus",
        ),
        ("kind: pairwise\nprompt: '{{ question }} {{ answer_a }}'\nretry_prompt: x\n", "must use {{ answer_b }}"),
        (
            "kind: pairwise\nprompt: '{{ question }} {{ answer_a }} {{ answer_b }}'\nretry_prompt: x\nverdict: {pattern: '(A'}\n",
            "mine.yaml:4:10: pattern is not a valid regular expression",
        ),
        (
            "kind: pairwise\nprompt: '{{ question }} {{ answer_a }} {{ answer_b }}'\nretry_prompt: x\nscale: pass_fail\n",
            "`scale` applies to rubric templates only",
        ),
        ("kind: pairwise\nprompt: '{{ question }} {{ answer_a }} {{ answer_b }}'\n", "mine.yaml:1:1: missing required key 'retry_prompt'"),
        ("kind: rubric\nprompt: '{{ answer }} {{ rubric }}'\nretry_prompt: x\nscale: {min: 5, max: 5}\n", "must be below max"),
        ("kind: pairwise\nprompt: '{{ question }} {% if %}'\nretry_prompt: x\n", "mine.yaml:2:9: prompt: template syntax error"),
    ],
)
def test_bad_templates_fail_with_located_lines(tmp_path: Path, body: str, expected: str) -> None:
    write(tmp_path / "mine.yaml", body)
    with pytest.raises(SuiteError) as raised:
        load_template("mine.yaml", tmp_path, "pairwise" if "pairwise" in body else "rubric")
    assert any(expected in line for line in raised.value.lines()), raised.value.lines()


def test_wrong_kind_and_unknown_names_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="is a pairwise template, expected rubric"):
        load_template("pairwise", tmp_path, "rubric")
    with pytest.raises(ValueError, match="unknown judge template 'pairwize'"):
        load_template("pairwize", tmp_path, "pairwise")
    with pytest.raises(ValueError, match="not found"):
        load_template("judges/none.yaml", tmp_path, "pairwise")


def test_suite_loading_reports_template_problems_at_the_suite_line(tmp_path: Path) -> None:
    suite = write(
        tmp_path / "suite.yaml",
        "cases:\n  - input: hi\njudge:\n  model: gpt-4o\n  pairwise: judges/missing.yaml\n  rubric: closed_qa\n",
    )
    with pytest.raises(SuiteError) as raised:
        load_suite(suite)
    lines = raised.value.lines()
    assert any(line.startswith(f"{suite}:5:13: judge template 'judges/missing.yaml' not found") for line in lines), lines
    assert any(line.startswith(f"{suite}:6:11: judge template 'closed_qa' is a closed_qa template") for line in lines), lines


def test_suite_judge_block_is_strict(tmp_path: Path) -> None:
    suite = write(tmp_path / "suite.yaml", "cases:\n  - input: hi\njudge:\n  modle: gpt-4o\n")
    with pytest.raises(SuiteError) as raised:
        load_suite(suite)
    assert "modle" in raised.value.lines()[0]


def test_closed_qa_true_means_the_builtin(tmp_path: Path) -> None:
    suite = write(tmp_path / "suite.yaml", "cases:\n  - input: hi\njudge:\n  closed_qa: true\n  rubric: false\n")
    loaded = load_suite(suite)
    assert loaded.judge is not None
    assert loaded.judge.template("closed_qa") == "closed_qa"
    assert loaded.judge.template("rubric") is None
    assert loaded.judge.template("pairwise") == "pairwise"
