"""The gate expression parser: what parses, and the one-line error (with column) for what does not."""

from __future__ import annotations

import pytest

from harness.gates.evaluate import check_gate
from harness.gates.expression import Gate, GateSyntaxError, parse_gate


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("win_rate >= 0.7", Gate("win_rate >= 0.7", "win_rate", ">=", 0.7)),
        ("win_rate>=70%", Gate("win_rate>=70%", "win_rate", ">=", 0.7, percent=True)),
        ("win_rate.point[tuned] > 0.55", Gate("win_rate.point[tuned] > 0.55", "win_rate", ">", 0.55, bound="point",
                                              model="tuned")),
        ("win_rate[tuned].lower > 0.55", Gate("win_rate[tuned].lower > 0.55", "win_rate", ">", 0.55, bound="lower",
                                              model="tuned")),
        ("pass_rate[tuned, tag=billing] >= 0.9",
         Gate("pass_rate[tuned, tag=billing] >= 0.9", "pass_rate", ">=", 0.9, model="tuned", tag="billing")),
        ("pass_rate[model=ft:gpt-4o-mini:acme:x:1] < 1",
         Gate("pass_rate[model=ft:gpt-4o-mini:acme:x:1] < 1", "pass_rate", "<", 1.0, model="ft:gpt-4o-mini:acme:x:1")),
        ("rubric[min_valid=90%] >= 7", Gate("rubric[min_valid=90%] >= 7", "rubric", ">=", 7.0, min_valid=0.9)),
        ("rubric[min_valid=50] >= 7", Gate("rubric[min_valid=50] >= 7", "rubric", ">=", 7.0, min_valid=50.0)),
        ("latency_p95 <= 2.5", Gate("latency_p95 <= 2.5", "latency_p95", "<=", 2.5)),
        ("error_rate == 0", Gate("error_rate == 0", "error_rate", "==", 0.0)),
        ("rougeL != 1e-3", Gate("rougeL != 1e-3", "rougeL", "!=", 0.001)),
        ("  cost_per_1k <= .5  ", Gate("cost_per_1k <= .5", "cost_per_1k", "<=", 0.5)),
        ("word_overlap.overlap.lower[m] >= 1", Gate("word_overlap.overlap.lower[m] >= 1", "word_overlap.overlap", ">=",
                                                    1.0, bound="lower", model="m")),
        ("pass_rate['my model'] >= 0.5", Gate("pass_rate['my model'] >= 0.5", "pass_rate", ">=", 0.5, model="my model")),
    ],
)
def test_valid_expressions(text: str, expected: Gate) -> None:
    assert parse_gate(text) == expected


@pytest.mark.parametrize(
    ("text", "message", "column"),
    [
        ("", "empty gate expression", 1),
        ("win_rate => 0.7", "write '>=' instead of '=>'", 10),
        ("pass_rate = 0.9", "use '==' to compare for equality", 11),
        ("win_rate 0.7", "expected a comparison (>=, >, <=, <, ==, !=) after 'win_rate', found '0.7'", 10),
        ("win_rate >= ", "expected a number after '>=', found the end", 13),
        ("win_rate >= high", "expected a number after '>=', found 'high'", 13),
        (">= 0.7", "expected a figure name (pass_rate, win_rate, ...), found '>='", 1),
        ("win_rate >= 0.7 and pass_rate > 0.9", "unexpected 'and' after the threshold", 17),
        ("win_rate.point.lower >= 0.7", "the bound is given twice", 15),
        ("win_rate.low. >= 0.7", "expected point, lower or upper after '.', found '>='", 15),
        ("win_rate[t].low >= 0.7", "unknown bound '.low': use .point, .lower or .upper", 13),
        ("win_rate[a, b] >= 0.7", "only one model may be named", 13),
        ("win_rate[color=red] >= 0.7", "unknown key 'color' in [...]: use model=, tag= or min_valid=", 10),
        ("win_rate[tag=a, tag=b] >= 0.7", "'tag' given twice", 17),
        ("win_rate[min_valid=x] >= 0.7", "min_valid needs a number", 20),
        ("win_rate[min_valid=1.5] >= 0.7", "min_valid is a fraction in (0, 1] or a whole count of items", 20),
        ("win_rate[tuned >= 0.7", "expected ',' or ']' in the selector, found '>='", 16),
        ("win_rate[tuned] [tag=x] >= 0.7", "only one [...] selector is allowed", 17),
        ("win_rate['tuned] >= 0.7", "unterminated quoted name", 10),
        ("win_rate >= 0.7 %%", "unexpected '%'", 18),
    ],
)
def test_invalid_expressions_name_the_column(text: str, message: str, column: int) -> None:
    with pytest.raises(GateSyntaxError) as caught:
        parse_gate(text)
    assert message in caught.value.message
    assert caught.value.column == column
    assert str(caught.value) == f"{caught.value.message} (column {column})"


def test_no_python_is_evaluated() -> None:
    """Anything that is not the grammar is rejected, including Python expressions."""
    for text in ("__import__('os').system('true') >= 0", "pass_rate >= (1 if True else 0)", "pass_rate >= 0.5; x"):
        with pytest.raises(GateSyntaxError):
            parse_gate(text)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("win_rate >= 70", "win_rate is a fraction between 0 and 1: write 0.7 or 70%"),
        ("pass_rat >= 0.9", "unknown figure 'pass_rat' (did you mean 'pass_rate'?)"),
        ("win_rate.low >= 0.9", "unknown figure 'win_rate.low' (did you mean 'win_rate'?)"),
        ("pass_rate[min_valid=0.9] >= 0.9", "min_valid applies to LLM-judge figures"),
        ("latency_p95.upper <= 2", "latency_p95 has no confidence bounds: drop .upper"),
    ],
)
def test_static_problems(text: str, problem: str) -> None:
    found = check_gate(parse_gate(text), metric_names=["rougeL"])
    assert found is not None and problem in found


def test_metric_names_are_figures_when_the_suite_computes_them() -> None:
    assert check_gate(parse_gate("rougeL >= 0.4"), metric_names=["rougeL"]) is None
    assert check_gate(parse_gate("bleu >= 20"), metric_names=None) is None  # a plug-in may name anything
    assert check_gate(parse_gate("bleu >= 20"), metric_names=["rougeL"]) is not None
    assert check_gate(parse_gate("win_rate >= 70%"), metric_names=[]) is None
