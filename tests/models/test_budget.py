"""The error budget's rules, counted by hand."""

from __future__ import annotations

import pytest

from harness.models.base import ErrorInfo
from harness.models.budget import ErrorBudget, ErrorTally

FAIL = ErrorInfo(kind="server_error", message="HTTP 500: shard   7\nis down")


def _tally(pattern: str) -> ErrorTally:
    """`x` a failed request, `.` an answered one, `c` a request its batch did not carry."""
    tally = ErrorTally()
    for mark in pattern:
        tally.add(FAIL if mark == "x" else ErrorInfo(kind="batch_cancelled", message="c") if mark == "c" else None)
    return tally


def test_ten_failures_in_a_row_stop_a_model_however_many_answered_before() -> None:
    budget = ErrorBudget.parse(None, 1000)
    assert budget.verdict("model 'm'", _tally("." * 200 + "x" * 9), 1000) is None
    reason = budget.verdict("model 'm'", _tally("." * 200 + "x" * 10), 1000)
    assert reason is not None and reason.startswith("model 'm': the last 10 requests failed in a row (server_error 10)")
    assert 'server_error: "HTTP 500: shard 7 is down"' in reason  # the server's words, on one line


def test_a_model_with_fewer_requests_stops_when_all_failed() -> None:
    budget = ErrorBudget()
    assert budget.verdict("model 'm'", _tally("xxx"), 3) is not None
    assert budget.verdict("model 'm'", _tally("xx"), 3) is None


def test_more_than_a_tenth_failed_after_fifty() -> None:
    budget = ErrorBudget()
    assert budget.verdict("m", _tally(("....x" * 10)[:49]), 500) is None  # 20 % but under 50 finished
    five_in_fifty = "....." * 5 + "....x" * 5
    assert budget.verdict("m", _tally(five_in_fifty), 500) is None  # 10 % is not more than 10 %
    reason = budget.verdict("m", _tally(five_in_fifty + "x"), 500)
    assert reason is not None and reason.startswith("m: 6 of its 51 requests failed (12%: server_error 6)")


def test_an_explicit_limit_replaces_the_share_rule_and_none_never_stops() -> None:
    limit = ErrorBudget.parse("5%", 200)
    assert (limit.mode, limit.limit) == ("limit", 10)
    limit.errors = 10
    assert limit.verdict("m", _tally("....x" * 20), 200) is None  # 20 % of a model, but 10 failed: within 10
    limit.errors = 11
    reason = limit.verdict("m", _tally("....x" * 20), 200)
    assert reason is not None and "more than --max-errors allows (10)" in reason
    assert limit.verdict("m", _tally("x" * 10), 200) is not None  # ten in a row still stop it
    never = ErrorBudget.parse("none", 200)
    assert never.verdict("m", _tally("x" * 200), 200) is None


def test_requests_a_batch_did_not_carry_say_nothing_about_the_endpoint() -> None:
    tally = _tally("c" * 40 + "." * 3)
    assert (tally.done, tally.errors) == (3, 0)
    assert ErrorBudget().verdict("m", tally, 43) is None


@pytest.mark.parametrize(("text", "mode", "limit"), [
    (None, "default", None), ("none", "never", None), ("NEVER", "never", None), ("0.5", "limit", 6),
    ("25%", "limit", 3), ("4", "limit", 4), ("0", "limit", 0),
])
def test_parse(text: str | None, mode: str, limit: int | None) -> None:
    budget = ErrorBudget.parse(text, 12)
    assert (budget.mode, budget.limit) == (mode, limit)


@pytest.mark.parametrize("text", ["lots", "-1", "1.5", "150%", "-3%"])
def test_bad_values_say_what_is_accepted(text: str) -> None:
    with pytest.raises(ValueError, match="--max-errors takes a count"):
        ErrorBudget.parse(text, 12)
