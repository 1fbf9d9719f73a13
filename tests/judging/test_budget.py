"""The judging plan in numbers: calls per pair, grading and judge, the cost bound, and --max-judge-calls."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from harness.errors import UsageError
from harness.judging.budget import JudgingBudget, check_limit, plan_budget, print_budget
from harness.run.planning import plan_models
from harness.suite.loader import load_suite

SUITE = """\
generation: {max_tokens: 100}
models:
  a: openai:a
  b: openai:b
  base: openai:base
baseline: base
judge:
  models: [openai:j1, openai:j2]
  pairwise: judges/tiny.yaml
  rubric: false
cost:
  prices:
    openai:j1: {input: 1.0, output: 2.0}
cases:
  - {id: q1, input: hi}
  - {id: q2, input: hi}
  - {id: q3, input: hi}
"""

# One token of question ("hi") and the two answers: nothing else in the prompt.
TINY = "kind: pairwise\nmax_tokens: 50\nprompt: '{{ question }}{{ answer_a }}{{ answer_b }}'\nretry_prompt: again\n"


@pytest.fixture
def suite_path(tmp_path: Path) -> Path:
    (tmp_path / "judges").mkdir()
    (tmp_path / "judges" / "tiny.yaml").write_text(TINY, encoding="utf-8")
    path = tmp_path / "suite.yaml"
    path.write_text(SUITE, encoding="utf-8")
    return path


def budget_for(suite_path: Path, ranking: str | None = None, repeat: int = 2, limit: int | None = None) -> JudgingBudget:
    suite = load_suite(suite_path)
    models, plan = plan_models(suite, suite.cases, [], None, None, ranking)
    assert plan is not None
    assert suite.spec is not None and suite.spec.cost is not None
    return plan_budget(plan, suite.cases, models, repeat, dict(suite.spec.cost.prices), limit)


def test_calls_per_pair_and_judge(suite_path: Path) -> None:
    budget = budget_for(suite_path)
    assert [(r.kind, r.subject, r.items, r.calls) for r in budget.rows] == [
        ("pairwise", "a vs base", 6, 12), ("pairwise", "b vs base", 6, 12),
    ]
    assert budget.calls_per_judge == 24 and budget.total == 48
    round_robin = budget_for(suite_path, "round_robin")
    assert [r.subject for r in round_robin.rows] == ["a vs b", "a vs base", "b vs base"]
    assert round_robin.total == 2 * 3 * 12


def test_cost_upper_bound_by_hand(suite_path: Path) -> None:
    bills = {bill.judge: bill for bill in budget_for(suite_path).bills}
    # per call: 4 tokens of chat overhead + 1 ("hi") + two answers of 100 (max_tokens) in, 50 out;
    # 24 calls: 4,920 in at 1.0 and 1,200 out at 2.0 per 1M tokens
    assert bills["openai:j1"].cost == pytest.approx((24 * 205 * 1.0 + 24 * 50 * 2.0) / 1_000_000)
    assert bills["openai:j1"].priced_as == "the suite's cost.prices"
    assert bills["openai:j2"].cost is None and "no price for 'openai:j2'" in (bills["openai:j2"].missing or "")


def test_the_limit(suite_path: Path) -> None:
    check_limit(budget_for(suite_path, limit=48))
    with pytest.raises(UsageError) as raised:
        check_limit(budget_for(suite_path, limit=47))
    assert raised.value.lines() == [
        "the judging plan takes 48 judge calls (24 per judge × 2 judges), above --max-judge-calls 47: "
        "judge fewer cases (--limit, --filter), fewer pairs or judges, or raise the limit"
    ]


def test_printed_plan_names_pairs_judges_and_cost(suite_path: Path) -> None:
    out = io.StringIO()
    print_budget(budget_for(suite_path), Console(file=out, width=200))
    text = out.getvalue()
    assert "a vs base" in text and "b vs base" in text
    assert "openai:j1" in text and "≤ 0.0073 USD" in text and "no price for 'openai:j2'" in text
    assert "48 judge calls" in text
