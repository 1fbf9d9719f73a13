"""Rubric and closed-QA grading of every model's answers, with invalid replies counted apart."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from harness.run.store import load_run
from harness.testing import FakeOpenAIServer
from tests.judging.conftest import (
    Scripted,
    judge_prompt,
    judge_requests,
    question_number,
    run_judged,
    write_suite,
)

GRADED_SUITE = """\
cases:
  - {id: q1, input: "Question 1", rubric: "Says GOOD", reference: "GOOD", tags: [alpha]}
  - {id: q2, input: "Question 2", rubric: "Says GOOD", reference: "GOOD", tags: [alpha]}
  - {id: q3, input: "Question 3", rubric: "Says GOOD", tags: [beta]}
  - {id: q4, input: "Question 4"}
judge: {pairwise: false, closed_qa: true}
"""


def grader(body: dict[str, Any]) -> str:
    prompt = judge_prompt(body)
    number = question_number(prompt)
    if '"verdict"' in prompt:  # closed_qa
        answer = prompt.split("The answer to check:")[1]
        verdict = "yes" if "GOOD" in answer else "no"
        return f'{{"reason": "r", "verdict": "{verdict}"}}'
    if number == 3:
        return "Seven out of ten."  # never valid JSON
    answer = prompt.split("The answer to grade:")[1]
    score = 8 if "GOOD" in answer else 3
    return f'{{"reason": "r", "score": {score}}}'


def test_rubric_and_closed_qa_scores(tmp_path: Path, scripted: Scripted, fake_openai: FakeOpenAIServer) -> None:
    scripted.judge = grader
    outcome = run_judged(write_suite(tmp_path, GRADED_SUITE), models=["openai:cand", "openai:base"], baseline=None)
    assert "pairwise" not in outcome.summary
    rubric = outcome.summary["rubric"]
    # candidate: q1, q2 GOOD -> 8, 8; q3 invalid (excluded); q4 has no rubric
    assert (rubric["openai:cand"]["n"], rubric["openai:cand"]["invalid"], rubric["openai:cand"]["items"]) == (2, 1, 3)
    assert rubric["openai:cand"]["mean"] == 8.0
    assert rubric["openai:base"]["mean"] == 3.0
    assert rubric["openai:cand"]["scale"] == {"min": 1, "max": 10}
    assert rubric["openai:cand"]["by_tag"]["beta"]["n"] == 0 and rubric["openai:cand"]["by_tag"]["beta"]["invalid"] == 1
    closed = outcome.summary["closed_qa"]
    assert (closed["openai:cand"]["n"], closed["openai:cand"]["mean"]) == (2, 1.0)
    assert (closed["openai:base"]["n"], closed["openai:base"]["mean"]) == (2, 0.0)
    # 2 of 2 consistent: a count, so the exact binomial bound, 0.05 ** (1/2)
    assert closed["openai:cand"]["binary"] and closed["openai:cand"]["method"] == "clopper-pearson"
    assert closed["openai:cand"]["lower_bound"] == pytest.approx(0.05**0.5)
    # three attempts per invalid rubric grade, once per model
    q3 = [b for b in judge_requests(fake_openai) if question_number(judge_prompt(b)) == 3]
    assert len(q3) == 2 * 3
    lines = load_run(outcome.run_dir).judgments
    invalid = [line for line in lines if line["outcome"] == "invalid"]
    assert len(invalid) == 2 and all(line["reply"] == "Seven out of ten." and line["score"] is None for line in invalid)
    graded = next(line for line in lines if line["kind"] == "rubric" and line["outcome"] == "graded")
    assert graded["reason"] == "r" and graded["score"] in (8.0, 3.0)


def test_rubric_scores_with_their_standard_error(tmp_path: Path, scripted: Scripted) -> None:
    scores = {1: 9, 2: 6, 3: 7}
    scripted.judge = lambda body: f'{{"reason": "r", "score": {scores[question_number(judge_prompt(body))]}}}'
    suite = write_suite(tmp_path, GRADED_SUITE.replace("closed_qa: true", "closed_qa: false"))
    block = run_judged(suite, models=["openai:cand"], baseline=None).summary["rubric"]["openai:cand"]
    values = [9, 6, 7]
    mean = sum(values) / 3
    assert block["mean"] == pytest.approx(mean)
    assert block["se"] == pytest.approx(math.sqrt(sum((v - mean) ** 2 for v in values) / 2) / math.sqrt(3))
    # Grades on a 1..10 scale are bounded means: Hoeffding–Bentkus over the scale's range.
    assert block["method"] == "hoeffding-bentkus" and block["range"] == [1.0, 10.0]
    assert 1 <= block["ci"]["low"] <= block["lower_bound"] < mean < block["upper_bound"] <= block["ci"]["high"] <= 10


def test_pass_fail_rubric(tmp_path: Path, scripted: Scripted) -> None:
    scripted.judge = lambda body: (
        '{"reason": "r", "score": "pass"}' if question_number(judge_prompt(body)) != 2 else '{"reason": "r", "score": "fail"}'
    )
    suite = write_suite(tmp_path, GRADED_SUITE.replace("closed_qa: true", "rubric: rubric_pass_fail"))
    block = run_judged(suite, models=["openai:cand"], baseline=None).summary["rubric"]["openai:cand"]
    assert (block["n"], block["mean"], block["scale"]) == (3, pytest.approx(2 / 3), "pass_fail")
    # 2 passes of 3, exact: the one-sided upper bound solves 1 - p^3 = 0.05
    assert block["method"] == "clopper-pearson"
    assert block["upper_bound"] == pytest.approx(0.95 ** (1 / 3))
    assert block["ci"]["low"] < 2 / 3 < block["ci"]["high"]
