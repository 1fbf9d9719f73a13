"""Reading judge replies: verdict tags, the soft preference from logprobs, JSON grades."""

from __future__ import annotations

import math

import pytest

from harness.judging.parsing import (
    Grade,
    first_slot_share,
    json_object,
    parse_closed_qa,
    parse_pairwise,
    parse_rubric,
    parse_verdict,
)
from harness.judging.templates import Scale, VerdictFormat

FMT = VerdictFormat()


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("A is clearer.\n[[A]]", ("A", "first")),
        ("Verdict: [[B]]", ("B", "second")),
        ("Equally good. [[C]]", ("C", "tie")),
        ("I weighed [[A]] against [[B]]; final verdict: [[B]]", ("B", "second")),
        ("[[ A ]]", ("A", "first")),
    ],
)
def test_verdicts(reply: str, expected: tuple[str, str]) -> None:
    assert parse_verdict(reply, FMT) == expected


@pytest.mark.parametrize("reply", ["", "A is better", "[A]", "[[D]]", "I cannot decide."])
def test_garbage_has_no_verdict(reply: str) -> None:
    assert parse_verdict(reply, FMT) is None
    parsed = parse_pairwise(reply, None, FMT)
    assert not parsed.ok and parsed.value is None
    assert "no verdict" in (parsed.problem or "")


def test_custom_verdict_labels() -> None:
    fmt = VerdictFormat(pattern=r"WINNER: (X|Y|TIE)", first="X", second="Y", tie="TIE")
    assert parse_verdict("blah\nWINNER: Y", fmt) == ("Y", "second")


def test_soft_share_from_the_verdict_token() -> None:
    # generated tokens "[[", "A", "]]"; the verdict token's alternatives: A 0.7, B 0.2, C 0.1
    logprobs = [
        {"[[": -0.01},
        {"A": math.log(0.7), "B": math.log(0.2), "C": math.log(0.1)},
        {"]]": -0.001},
    ]
    assert first_slot_share(logprobs, "A", FMT) == pytest.approx(0.7 / 0.9)


def test_soft_share_merges_token_spellings_and_finds_the_last_verdict() -> None:
    # "Assistant A ..." early in the text must not be mistaken for the verdict token
    logprobs = [
        {"A": -0.1, "B": -3.0},
        {" explanation": -0.2},
        {"[[B": math.log(0.5), " B": math.log(0.1), "[[A": math.log(0.3), "A": math.log(0.1)},
        {"]]": -0.01},
    ]
    assert first_slot_share(logprobs, "B", FMT) == pytest.approx(0.4 / 1.0)


def test_soft_share_is_none_without_usable_logprobs() -> None:
    assert first_slot_share(None, "A", FMT) is None
    assert first_slot_share([], "A", FMT) is None
    # the chosen token never is the parsed label: the verdict token is not in the logprobs
    assert first_slot_share([{"Hello": -0.1, "A": -3.0}], "A", FMT) is None
    # a tie token with neither A nor B among the alternatives
    assert first_slot_share([{"C": -0.01, "D": -5.0}], "C", FMT) is None


def test_soft_share_with_a_tie_verdict_uses_a_and_b_only() -> None:
    logprobs = [{"C": math.log(0.6), "A": math.log(0.1), "B": math.log(0.3)}]
    assert first_slot_share(logprobs, "C", FMT) == pytest.approx(0.25)


def test_json_object_tolerates_fences_and_prose() -> None:
    assert json_object('```json\n{"score": 3, "reason": "ok"}\n```') == {"score": 3, "reason": "ok"}
    assert json_object('Sure! {"a": 1} and then {"score": 9, "reason": "x"} done') == {"score": 9, "reason": "x"}
    assert json_object('{"outer": {"inner": 1}}') == {"outer": {"inner": 1}}
    assert json_object("no json here {") is None


@pytest.mark.parametrize(
    ("reply", "score"),
    [('{"reason": "good", "score": 8}', 8.0), ('{"reason": "", "score": 1}', 1.0), ('{"reason": "r", "score": "10"}', 10.0)],
)
def test_rubric_scores(reply: str, score: float) -> None:
    parsed = parse_rubric(reply, Scale(min=1, max=10))
    assert parsed.ok
    assert isinstance(parsed.value, Grade) and parsed.value.score == score


@pytest.mark.parametrize(
    ("reply", "problem"),
    [
        ("Score: 8", "no JSON object"),
        ('{"score": 8}', '"reason"'),
        ('{"reason": "r"}', 'no "score"'),
        ('{"reason": "r", "score": 11}', "integer from 1 to 10"),
        ('{"reason": "r", "score": 7.5}', "integer from 1 to 10"),
        ('{"reason": "r", "score": "high"}', "must be a number"),
        ('{"reason": "r", "score": true}', "must be a number"),
    ],
)
def test_invalid_rubric_replies(reply: str, problem: str) -> None:
    parsed = parse_rubric(reply, Scale(min=1, max=10))
    assert not parsed.ok and problem in (parsed.problem or "")


def test_pass_fail_rubric() -> None:
    assert parse_rubric('{"reason": "r", "score": "PASS"}', "pass_fail").value == Grade(1.0, "pass", "r")
    assert parse_rubric('{"reason": "r", "score": "fail"}', "pass_fail").value == Grade(0.0, "fail", "r")
    assert not parse_rubric('{"reason": "r", "score": 7}', "pass_fail").ok


def test_closed_qa() -> None:
    assert parse_closed_qa('{"reason": "same facts", "verdict": "yes"}').value == Grade(1.0, "yes", "same facts")
    assert parse_closed_qa('{"reason": "contradicts", "verdict": "No"}').value == Grade(0.0, "no", "contradicts")
    assert not parse_closed_qa('{"reason": "r", "verdict": "maybe"}').ok
