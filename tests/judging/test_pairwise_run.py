"""The pairwise protocol end to end against scripted judges on the local fake server."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import orjson
import pytest

from harness.run.store import load_run
from harness.testing import FakeOpenAIServer, Fault, Reply
from tests.judging.conftest import (
    SUITE,
    Scripted,
    judge_prompt,
    judge_requests,
    prefers_good,
    question_number,
    run_judged,
    slot_answers,
    write_suite,
)


def pair(outcome: Any) -> dict[str, Any]:
    block: dict[str, Any] = outcome.summary["pairwise"]["openai:cand"]
    return block


def test_always_first_judge_gives_ties_everywhere(tmp_path: Path, scripted: Scripted, fake_openai: FakeOpenAIServer) -> None:
    scripted.judge = lambda body: "Answer A, clearly. [[A]]"
    block = pair(run_judged(write_suite(tmp_path)))
    assert (block["wins"], block["losses"], block["ties"], block["inconsistent"]) == (0, 0, 6, 6)
    assert block["win_rate"] == 0.5
    assert block["position_bias"]["first_slot_rate"] == 1.0
    assert block["position_bias"]["decisive_verdicts"] == 12
    assert block["position_bias"]["consistency"] == 0.0
    assert len(judge_requests(fake_openai)) == 12  # both orders of every item


def test_consistent_judge_gives_the_expected_counts(tmp_path: Path, scripted: Scripted, fake_openai: FakeOpenAIServer) -> None:
    outcome = run_judged(write_suite(tmp_path))
    block = pair(outcome)
    assert (block["wins"], block["losses"], block["ties"], block["invalid"]) == (4, 1, 1, 0)
    assert (block["n"], block["items"], block["inconsistent"]) == (6, 6, 0)
    assert block["win_rate"] == pytest.approx(4.5 / 6)
    # per-item scores 1,1,1,1,0,0.5: SE by hand = sd(ddof=1)/sqrt(6)
    scores = [1, 1, 1, 1, 0, 0.5]
    mean = sum(scores) / 6
    sd = math.sqrt(sum((s - mean) ** 2 for s in scores) / 5)
    assert block["se"] == pytest.approx(sd / math.sqrt(6))
    assert block["ci"]["low"] <= block["win_rate"] <= block["ci"]["high"]
    assert block["lower_bound"] >= block["ci"]["low"]
    assert block["method"] == "hoeffding-bentkus"  # a tie: a bounded mean, not a count
    assert block["bootstrap_ci"]["low"] <= block["win_rate"] <= block["bootstrap_ci"]["high"]
    assert block["position_bias"]["first_slot_rate"] == 0.5
    assert block["position_bias"]["consistency"] == 1.0
    assert block["by_tag"]["alpha"]["wins"] == 3 and block["by_tag"]["alpha"]["win_rate"] == 1.0
    assert (block["by_tag"]["beta"]["wins"], block["by_tag"]["beta"]["losses"], block["by_tag"]["beta"]["ties"]) == (1, 1, 1)
    assert block["length"]["candidate_mean_chars"] == pytest.approx(sum(map(len, scripted.candidate.values())) / 6)
    assert block["soft"] is not None  # the fake endpoint always returns logprobs when asked

    # judge requests: greedy, with logprobs, never the candidate's or baseline's settings
    bodies = judge_requests(fake_openai)
    assert len(bodies) == 12
    assert all(b["temperature"] == 0 and b["logprobs"] is True and b["top_logprobs"] == 5 for b in bodies)
    assert all(b["max_tokens"] == 1024 for b in bodies)
    # both orders: each item shows the candidate once as A and once as B
    shown_first = sorted(slot_answers(b)[0] for b in bodies)
    assert shown_first == sorted([*scripted.candidate.values(), *scripted.baseline.values()])

    lines = load_run(outcome.run_dir).judgments
    assert len(lines) == 6
    first = lines[0]
    assert first["case_id"] == "q1" and first["outcome"] == "win"
    assert [o["answer_a"] for o in first["orders"]] == ["openai:cand", "openai:base"]
    assert [o["verdict"] for o in first["orders"]] == ["A", "B"]
    assert all(len(o["prompt_sha256"]) == 64 and o["reply"] for o in first["orders"])
    summary = orjson.loads((outcome.run_dir / "summary.json").read_bytes())
    assert summary["pairwise"]["openai:cand"]["wins"] == 4


def test_garbage_replies_end_invalid_and_leave_the_win_rate_alone(
    tmp_path: Path, scripted: Scripted, fake_openai: FakeOpenAIServer
) -> None:
    def judge(body: dict[str, Any]) -> str | Reply:
        if question_number(judge_prompt(body)) == 2:
            return "I would rather not say."
        return prefers_good(body)

    scripted.judge = judge
    outcome = run_judged(write_suite(tmp_path))
    block = pair(outcome)
    assert (block["wins"], block["losses"], block["ties"], block["invalid"], block["n"]) == (3, 1, 1, 1, 5)
    # the consistent judge's 4.5/6 without item q2 (a win): 3.5/5, not 3.5/6 as if it were a loss
    assert block["win_rate"] == pytest.approx(3.5 / 5)
    garbage = [b for b in judge_requests(fake_openai) if question_number(judge_prompt(b)) == 2]
    assert len(garbage) == 2 * 3  # two orders x (first ask + 2 re-asks)
    line = next(line for line in load_run(outcome.run_dir).judgments if line["case_id"] == "q2")
    assert line["outcome"] == "invalid" and line["score"] is None
    assert "no usable reply after 3 attempts" in line["invalid"]
    assert all(o["reply"] == "I would rather not say." and o["attempts"] == 3 for o in line["orders"])


def test_a_reask_can_rescue_a_reply(tmp_path: Path, scripted: Scripted, fake_openai: FakeOpenAIServer) -> None:
    def judge(body: dict[str, Any]) -> str | Reply:
        if len(body["messages"]) <= 2:  # system + first prompt: answer without a verdict
            return "Let me think about it."
        return prefers_good(body)

    scripted.judge = judge
    outcome = run_judged(write_suite(tmp_path), max_retries=0)
    block = pair(outcome)
    assert (block["wins"], block["losses"], block["ties"], block["invalid"]) == (4, 1, 1, 0)
    reask = next(b for b in judge_requests(fake_openai) if len(b["messages"]) > 2)
    assert reask["messages"][-2] == {"role": "assistant", "content": "Let me think about it."}
    assert "[[A]], [[B]] or [[C]]" in reask["messages"][-1]["content"]
    assert all(o["attempts"] == 2 for line in load_run(outcome.run_dir).judgments for o in line["orders"])


def test_soft_preference_from_scripted_logprobs(tmp_path: Path, scripted: Scripted) -> None:
    # The candidate is GOOD on q1-q4. Order 1 (candidate = A): P(A)=0.8, P(B)=0.2 -> 0.8.
    # Order 2 (candidate = B): the judge says B with P(B)=0.6, P(A)=0.4 -> 0.6. Item: 0.7.
    def judge(body: dict[str, Any]) -> Reply:
        a, b = slot_answers(body)
        if "GOOD" in a and "GOOD" not in b:
            return Reply("[[A]]", logprobs={"A": math.log(0.8), "B": math.log(0.2)})
        if "GOOD" in b and "GOOD" not in a:
            return Reply("[[B]]", logprobs={"B": math.log(0.6), "A": math.log(0.4)})
        return Reply("[[C]]", logprobs={"C": math.log(0.5), "A": math.log(0.25), "B": math.log(0.25)})

    scripted.judge = judge
    block = pair(run_judged(write_suite(tmp_path)))
    # q1-q4: 0.7 each. q5 (baseline GOOD): order 1 says B (0.6 for B) -> 0.4; order 2 says A
    # with P(A)=0.8 -> candidate 0.2; item 0.3. q6 (tie): 0.5 in both orders.
    expected = [0.7, 0.7, 0.7, 0.7, 0.3, 0.5]
    assert block["soft"]["n"] == 6
    assert block["soft"]["win_rate"] == pytest.approx(sum(expected) / 6)
    assert block["win_rate"] == pytest.approx(4.5 / 6)  # the discrete win rate is unchanged


def test_no_soft_score_without_logprobs(tmp_path: Path, scripted: Scripted, fake_openai: FakeOpenAIServer) -> None:
    suite = write_suite(tmp_path, SUITE + "judge: {logprobs: 0}\n")
    block = pair(run_judged(suite))
    assert block["soft"] is None
    assert all("logprobs" not in b for b in judge_requests(fake_openai))


def test_identical_answers_are_ties_without_a_call(tmp_path: Path, scripted: Scripted, fake_openai: FakeOpenAIServer) -> None:
    scripted.baseline[1] = scripted.candidate[1] + "  "  # same after stripping whitespace
    outcome = run_judged(write_suite(tmp_path))
    block = pair(outcome)
    assert (block["wins"], block["ties"], block["identical"]) == (3, 2, 1)
    assert len(judge_requests(fake_openai)) == 10
    line = next(line for line in load_run(outcome.run_dir).judgments if line["case_id"] == "q1")
    assert line["identical"] and line["orders"] == [] and line["score"] == 0.5


def test_failed_generations_are_skipped_not_judged(tmp_path: Path, scripted: Scripted, fake_openai: FakeOpenAIServer) -> None:
    def fault(index: int, body: dict[str, Any]) -> Fault | None:
        if body["model"] == "base" and "Question 3" in body["messages"][-1]["content"]:
            return Fault(status=400, message="bad request for q3")
        return None

    fake_openai.faults = fault
    block = pair(run_judged(write_suite(tmp_path)))
    assert (block["skipped"], block["n"], block["wins"]) == (1, 5, 3)
    assert all(question_number(judge_prompt(b)) != 3 for b in judge_requests(fake_openai))


def test_multi_turn_cases_show_the_conversation_to_the_judge(tmp_path: Path, scripted: Scripted, fake_openai: FakeOpenAIServer) -> None:
    suite = write_suite(
        tmp_path,
        "cases:\n  - id: q1\n    messages:\n      - {role: user, content: 'I lost my key'}\n"
        "      - {role: assistant, content: 'Which door?'}\n      - {role: user, content: 'Question 1'}\n"
        "    reference: 'Call the locksmith'\n    rubric: 'Mentions the locksmith'\njudge: {rubric: false}\n",
    )
    run_judged(suite)
    prompt = judge_prompt(judge_requests(fake_openai)[0])
    for text in ("I lost my key", "Which door?", "Question 1", "Call the locksmith", "Mentions the locksmith"):
        assert text in prompt


def test_repeats_pair_up_and_resample_by_case(tmp_path: Path, scripted: Scripted) -> None:
    outcome = run_judged(write_suite(tmp_path), repeat=2)
    block = pair(outcome)
    assert (block["items"], block["wins"], block["losses"], block["ties"]) == (12, 8, 2, 2)
    assert block["win_rate"] == pytest.approx(9 / 12)
    lines = load_run(outcome.run_dir).judgments
    assert sorted((line["case_id"], line["repeat"]) for line in lines)[:2] == [("q1", 0), ("q1", 1)]
