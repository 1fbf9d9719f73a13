from __future__ import annotations

import pytest

from harness.checks import CheckConfigError, compile_case_checks
from harness.checks.base import check_text
from harness.suite.schema import CheckSpec, PatternSpec


def run(spec: dict[str, object], output: str) -> tuple[bool, str]:
    (check,) = compile_case_checks([], [], [CheckSpec.model_validate(spec)])
    result = check(output)
    return result.passed, result.reason


def pattern(required: bool, output: str, **spec: object) -> tuple[bool, str]:
    p = PatternSpec.model_validate(spec)
    (check,) = compile_case_checks([p], [], []) if required else compile_case_checks([], [p], [])
    result = check(output)
    return result.passed, result.reason


def test_required_pattern_is_case_insensitive_substring_by_default() -> None:
    assert pattern(True, "Click FORGOT password", pattern="forgot password") == (True, "found 'FORGOT password'")
    assert pattern(True, "nothing here", pattern="forgot") == (False, "missing")
    assert pattern(True, "Click forgot", pattern="Forgot", case_sensitive=True)[0] is False


def test_a_failure_states_the_pattern_once() -> None:
    p = PatternSpec(pattern=r"^1\. ", regex=True)
    (check,) = compile_case_checks([p], [], [])
    assert check_text(check("no steps").as_dict()) == "required: /^1\\. /: missing"
    (check,) = compile_case_checks([], [PatternSpec(pattern="as an AI")], [])
    assert check_text(check("As an AI I cannot").as_dict()) == "forbidden: 'as an AI': found 'As an AI'"


def test_forbidden_pattern_and_regex_flag() -> None:
    assert pattern(False, "As an AI, I cannot", pattern="as an ai") == (False, "found 'As an AI'")
    assert pattern(False, "Fine answer", pattern="as an ai") == (True, "absent")
    assert pattern(True, "Step 12: go", pattern=r"step \d+", regex=True) == (True, "found 'Step 12'")
    assert pattern(True, "Step 12", pattern=r"step \d+", regex=True, case_sensitive=True)[0] is False
    # the pattern is not a regex unless asked: "." matches only a literal dot
    assert pattern(True, "abc", pattern="a.c")[0] is False


@pytest.mark.parametrize(
    ("spec", "output", "passed"),
    [
        ({"equals": "Paris"}, "  Paris\n", True),
        ({"equals": "Paris"}, "paris", False),
        ({"equals": "Paris", "case_sensitive": False}, "PARIS", True),
        ({"starts_with": "1."}, "\n 1. Open", True),
        ({"starts_with": "1."}, "Step 1.", False),
        ({"regex": r"^\d+\.", "case_sensitive": True}, "12. x", True),
        ({"regex": r"total: \d+"}, "TOTAL: 4", False),
        ({"regex": r"total: \d+", "case_sensitive": False}, "TOTAL: 4", True),
        ({"is_json": True}, '{"a": 1}', True),
        ({"is_json": True}, '```json\n{"a": 1}\n```', True),
        ({"is_json": True}, "{'a': 1}", False),
        ({"json_schema": {"type": "object", "required": ["answer"]}}, '{"answer": 3}', True),
        ({"json_schema": {"type": "object", "required": ["answer"]}}, '{"other": 3}', False),
        ({"json_schema": {"type": "object", "properties": {"n": {"type": "integer"}}}}, '{"n": "x"}', False),
        ({"min_length": 3}, "ab", False),
        ({"max_length": 3}, "abc", True),
        ({"min_words": 2}, "one", False),
        ({"max_words": 2}, "one two three", False),
        ({"max_words": 3}, "one  two\nthree", True),
    ],
)
def test_typed_checks(spec: dict[str, object], output: str, passed: bool) -> None:
    assert run(spec, output)[0] is passed


def test_reasons_say_what_was_wrong() -> None:
    assert run({"equals": "Paris"}, "Lyon") == (False, "got 'Lyon'")
    assert run({"max_words": 2}, "a b c") == (False, "3 words, more than 2")
    assert run({"min_length": 5}, "abc") == (False, "3 characters, fewer than 5")
    passed, reason = run({"json_schema": {"type": "object", "required": ["answer"]}}, '{"x": 1}')
    assert not passed and reason == "schema violation at (root): 'answer' is a required property"
    passed, reason = run({"is_json": True}, "nope")
    assert not passed and reason.startswith("not valid JSON:")


def test_check_names_and_custom_name() -> None:
    (check,) = compile_case_checks([], [], [CheckSpec(max_words=5)])
    assert check.name == "max_words: 5"
    (check,) = compile_case_checks([], [], [CheckSpec(regex="x", name="has x")])
    assert check.name == "has x"


def test_bad_regex_and_schema_are_config_errors_with_their_position() -> None:
    with pytest.raises(CheckConfigError) as err:
        compile_case_checks([], [], [CheckSpec(max_words=3), CheckSpec(regex="(")])
    assert (err.value.field, err.value.index) == ("checks", 1)
    with pytest.raises(CheckConfigError) as err:
        compile_case_checks([], [PatternSpec(pattern="[", regex=True)], [])
    assert (err.value.field, err.value.index) == ("forbidden_patterns", 0)
    with pytest.raises(CheckConfigError, match="invalid JSON schema"):
        compile_case_checks([], [], [CheckSpec(json_schema={"type": 3})])
