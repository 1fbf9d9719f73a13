"""The judge cache: separate from answers, keyed by judge, template and inputs; counted at the server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.judging.templates import builtin_template_text
from harness.run.store import load_run
from harness.testing import FakeOpenAIServer
from tests.judging.conftest import SUITE, Scripted, judge_requests, prefers_good, run_judged, write_suite

RUBRIC_SUITE = SUITE.replace('{id: q1, input: "Question 1", tags: [alpha]}', '{id: q1, input: "Question 1", tags: [alpha], rubric: "Is GOOD"}')


def rubric_judge(body: dict[str, Any]) -> str:
    prompt = body["messages"][-1]["content"]
    if '"score"' in prompt:
        return '{"reason": "meets it", "score": 9}' if "GOOD" in prompt.split("The answer to grade:")[1] else '{"reason": "no", "score": 2}'
    reply = prefers_good(body)
    assert isinstance(reply, str)
    return reply


def test_unchanged_rerun_calls_nothing(tmp_path: Path, scripted: Scripted, fake_openai: FakeOpenAIServer) -> None:
    scripted.judge = rubric_judge
    suite = write_suite(tmp_path, RUBRIC_SUITE)
    first = run_judged(suite)
    assert fake_openai.request_count == 12 + 12 + 2  # answers, pairwise both orders, rubric for both models
    fake_openai.reset()
    second = run_judged(suite)
    assert fake_openai.request_count == 0
    assert second.summary["pairwise"] == first.summary["pairwise"]
    assert second.summary["rubric"] == first.summary["rubric"]
    lines = load_run(second.run_dir).judgments
    assert all(o["cached"] for line in lines if line["kind"] == "pairwise" for o in line["orders"])
    assert all(line["cached"] for line in lines if line["kind"] == "rubric")


def test_editing_a_rubric_rejudges_without_regenerating(tmp_path: Path, scripted: Scripted, fake_openai: FakeOpenAIServer) -> None:
    scripted.judge = rubric_judge
    suite = write_suite(tmp_path, RUBRIC_SUITE)
    run_judged(suite)
    fake_openai.reset()
    suite.write_text(RUBRIC_SUITE.replace("rubric: \"Is GOOD\"", "rubric: \"Is GOOD and short\""), encoding="utf-8")
    outcome = run_judged(suite)
    # only q1 has a rubric: its two pairwise orders (the rubric is in the prompt) and two rubric grades
    assert fake_openai.request_count == 4
    assert len(judge_requests(fake_openai)) == 4
    assert outcome.summary["rubric"]["openai:cand"]["mean"] == 9.0
    assert outcome.summary["rubric"]["openai:base"]["mean"] == 2.0


def test_editing_the_template_rejudges_everything_and_nothing_else(
    tmp_path: Path, scripted: Scripted, fake_openai: FakeOpenAIServer
) -> None:
    template = tmp_path / "judges" / "pairwise.yaml"
    template.parent.mkdir()
    template.write_text(builtin_template_text("pairwise"), encoding="utf-8")
    suite = write_suite(tmp_path, SUITE + "judge: {pairwise: judges/pairwise.yaml}\n")
    run_judged(suite)
    fake_openai.reset()
    run_judged(suite)
    assert fake_openai.request_count == 0
    # a change that leaves every prompt identical (a comment) still re-judges: the template hash is in the key
    template.write_text("# edited\n" + builtin_template_text("pairwise"), encoding="utf-8")
    run_judged(suite)
    assert fake_openai.request_count == 12
    assert len(judge_requests(fake_openai)) == 12


def test_another_judge_does_not_share_entries(tmp_path: Path, scripted: Scripted, fake_openai: FakeOpenAIServer) -> None:
    suite = write_suite(tmp_path)
    run_judged(suite)
    fake_openai.reset()
    run_judged(suite, judge="openai:other-judge")
    assert fake_openai.request_count == 12
    assert {b["model"] for b in fake_openai.requests} == {"other-judge"}


def test_no_cache_calls_everything_again(tmp_path: Path, scripted: Scripted, fake_openai: FakeOpenAIServer) -> None:
    suite = write_suite(tmp_path)
    run_judged(suite)
    fake_openai.reset()
    run_judged(suite, use_cache=False)
    assert fake_openai.request_count == 24
