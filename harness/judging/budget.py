"""The judging plan in numbers, before anything is sent: judge calls per model pair, per grading and per
judge, and what they may cost.

Counts are first attempts: every (pair, case, repeat) item is two calls per judge (both orders)
and every graded answer one. Identical answers and judgments already in the cache need no
call, and an unparseable reply may be re-asked up to `max_retries` times, so the count is what
the plan sends when nothing is cached and every reply parses. `--max-judge-calls N` refuses a
plan above N before anything (generation included) is sent.

The cost is an upper bound per judge, priced like the cost report (the suite's `cost.prices`,
then the price table): each call's prompt is the judge template rendered with the case, plus
the compared answers at their models' `max_tokens` (1,024 where a model sets none), and the
judge's reply at the template's `max_tokens`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.table import Table

from harness.errors import UsageError
from harness.judging.grading import applies
from harness.judging.inputs import case_variables
from harness.judging.plan import JudgePlan
from harness.judging.templates import JudgeTemplate
from harness.models.resolve import ResolvedModel
from harness.suite.case import Case
from harness.suite.schema import PriceSpec
from harness.terminal import literal

UNSET_ANSWER_TOKENS = 1024
_PER_TOKENS = 1_000_000
_CHAT_OVERHEAD = 4  # tokens per chat message (role, separators), as the cost report counts them


@dataclass(frozen=True)
class PlanRow:
    """Calls one judge makes for one comparison or grading."""

    kind: str  # pairwise | rubric | closed_qa | label
    subject: str  # "a vs b" or a model name
    items: int
    calls: int  # per judge


@dataclass
class JudgeBill:
    judge: str
    calls: int
    cost: float | None = None  # upper bound, in `currency`
    currency: str = "USD"
    priced_as: str | None = None
    missing: str | None = None  # why there is no price


@dataclass
class JudgingBudget:
    rows: list[PlanRow]
    bills: list[JudgeBill]
    max_retries: int
    limit: int | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def calls_per_judge(self) -> int:
        return sum(row.calls for row in self.rows)

    @property
    def total(self) -> int:
        return sum(bill.calls for bill in self.bills)

    def describe(self) -> dict[str, Any]:
        """The run.json entry."""
        return {
            "calls": self.total,
            "max_judge_calls": self.limit,
            "max_retries": self.max_retries,
            "rows": [{"kind": r.kind, "subject": r.subject, "items": r.items, "calls_per_judge": r.calls} for r in self.rows],
            "judges": {
                b.judge: {"calls": b.calls, "cost_upper_bound": b.cost, "currency": b.currency,
                          "priced_as": b.priced_as, "missing": b.missing}
                for b in self.bills
            },
        }


@dataclass(frozen=True)
class Work:
    """Calls of one comparison or grading: each case `copies` times (orders x repeats)."""

    template: JudgeTemplate
    cases: list[Case]
    copies: int
    answer_tokens: int  # upper bound of the answers shown per call
    extra: dict[str, Any]


def _answer_tokens(model: ResolvedModel | None) -> int:
    if model is None or model.generation.max_tokens is None:
        return UNSET_ANSWER_TOKENS
    return int(model.generation.max_tokens)


def _rates(judge: ResolvedModel, prices: dict[str, PriceSpec], batch: bool = False) -> tuple[float, float, str, str] | str:
    """(input per 1M, output per 1M, priced as, currency), or why there is no price; `batch`: the
    Batch API's rates (its own, or half)."""
    from harness.pricing import batch_rate, load_price_table

    table = load_price_table()
    override = prices.get(judge.name) or prices.get(judge.spec.raw)
    if override is not None:
        if batch:
            own = override.batch
            return (own.input if own else override.input / 2, own.output if own else override.output / 2,
                    "the suite's cost.prices, batch rate", table.currency)
        return override.input, override.output, "the suite's cost.prices", table.currency
    quote = table.resolve(judge.spec.raw)
    if quote is None or quote.input_per_1m is None or quote.output_per_1m is None:
        return f"no price for '{judge.spec.raw}' (add it under cost.prices in the suite)"
    label = f"{quote.entry} (fine-tuned)" if quote.fine_tuned else quote.entry
    if batch:
        batch_input = batch_rate(quote.batch_input, quote.input_per_1m)
        batch_output = batch_rate(quote.batch_output, quote.output_per_1m)
        assert batch_input is not None and batch_output is not None
        return batch_input, batch_output, f"{label}, batch rate", quote.currency
    return quote.input_per_1m, quote.output_per_1m, label, quote.currency


def _prompt_tokens(template: JudgeTemplate, case: Case, extra: dict[str, Any], count: Any) -> int:
    values = {**case_variables(case), "answer": "", "answer_a": "", "answer_b": "", **extra}
    return sum(_CHAT_OVERHEAD + count(message["content"]) for message in template.messages(values))


def plan_budget(
    plan: JudgePlan,
    cases: Sequence[Case],
    models: Sequence[ResolvedModel],
    repeat: int,
    prices: dict[str, PriceSpec] | None = None,
    limit: int | None = None,
    batch: bool = False,
) -> JudgingBudget:
    """Judge calls per comparison, grading and judge for this plan, with each judge's cost bound
    (at the Batch API's rates with `batch`)."""
    by_name = {model.name: model for model in models}
    rows: list[PlanRow] = []
    work: list[Work] = []
    pairwise = plan.templates.get("pairwise")
    if pairwise is not None:
        shown = list(cases)  # one list for every pair: its prompt tokens are counted once
        for battle in plan.pairs:
            items = len(cases) * repeat
            rows.append(PlanRow("pairwise", f"{battle.first} vs {battle.second}", items, 2 * items))
            answers = _answer_tokens(by_name.get(battle.first)) + _answer_tokens(by_name.get(battle.second))
            work.append(Work(pairwise, shown, 2 * repeat, answers, {}))
    label = plan.config.label
    for kind in ("rubric", "closed_qa", "label"):
        template = plan.templates.get(kind)
        if template is None:
            continue
        graded = [case for case in cases if applies(kind, case)]
        extra = {"labels": list(label.labels)} if kind == "label" and label is not None else {}
        for name in plan.models:
            items = len(graded) * repeat
            rows.append(PlanRow(kind, name, items, items))
            work.append(Work(template, graded, repeat, _answer_tokens(by_name.get(name)), extra))
    bills = [_bill(judge, work, prices or {}, batch) for judge in plan.judges]
    calls = sum(row.calls for row in rows)
    for bill in bills:
        bill.calls = calls
    return JudgingBudget(rows, bills, plan.config.max_retries, limit)


def _bill(judge: ResolvedModel, work: list[Work], prices: dict[str, PriceSpec], batch: bool = False) -> JudgeBill:
    rates = _rates(judge, prices, batch)
    if isinstance(rates, str):
        return JudgeBill(judge.name, 0, missing=rates)
    input_rate, output_rate, priced_as, currency = rates
    from harness.data.tokens import token_counter

    count = token_counter(judge.spec.raw).count
    prompt = completion = 0
    rendered: dict[tuple[str, int], int] = {}  # (template kind, id of the case list) -> prompt tokens over it
    for item in work:
        key = (item.template.kind, id(item.cases))
        if key not in rendered:
            rendered[key] = sum(_prompt_tokens(item.template, case, item.extra, count) for case in item.cases)
        prompt += item.copies * (rendered[key] + len(item.cases) * item.answer_tokens)
        completion += item.copies * len(item.cases) * item.template.spec.max_tokens
    cost = (prompt * input_rate + completion * output_rate) / _PER_TOKENS
    return JudgeBill(judge.name, 0, cost, currency, priced_as)


def check_limit(budget: JudgingBudget) -> None:
    """Refuse a plan above --max-judge-calls, before anything is sent."""
    if budget.limit is not None and budget.total > budget.limit:
        judges = len(budget.bills)
        per = f" ({budget.calls_per_judge:,} per judge × {judges} judges)" if judges > 1 else ""
        raise UsageError(
            f"the judging plan takes {budget.total:,} judge calls{per}, above --max-judge-calls {budget.limit:,}: "
            "judge fewer cases (--limit, --filter), fewer pairs or judges, or raise the limit"
        )


def _money(value: float, currency: str) -> str:
    return f"≤ {value:,.4f} {currency}" if value < 1 else f"≤ {value:,.2f} {currency}"


def print_budget(budget: JudgingBudget, console: Console) -> None:
    """The plan as two small tables on the console (stderr in a run)."""
    table = Table(title="judging plan (before any judge call)", title_justify="left")
    table.add_column("judged", overflow="fold")
    table.add_column("kind")
    table.add_column("items", justify="right")
    table.add_column("calls per judge", justify="right")
    for row in budget.rows:
        table.add_row(literal(row.subject), row.kind, f"{row.items:,}", f"{row.calls:,}")
    console.print(table)
    judges = Table(show_header=True)
    judges.add_column("judge", overflow="fold")
    judges.add_column("calls", justify="right")
    judges.add_column("estimated cost (upper bound)", overflow="fold")
    for bill in budget.bills:
        cost = _money(bill.cost, bill.currency) + f" ({bill.priced_as})" if bill.cost is not None else (bill.missing or "-")
        judges.add_row(literal(bill.judge), f"{bill.calls:,}", literal(cost))
    if len(budget.bills) > 1:
        known = [bill.cost for bill in budget.bills if bill.cost is not None]
        total = _money(sum(known), budget.bills[0].currency) if len(known) == len(budget.bills) else "-"
        judges.add_row("total", f"{budget.total:,}", total)
    console.print(judges)
    retries = f"; up to {budget.max_retries} re-asks per unparseable reply come on top" if budget.max_retries else ""
    limit = f"; --max-judge-calls {budget.limit:,}" if budget.limit is not None else ""
    console.print(
        f"{budget.total:,} judge calls (first attempts; identical answers and cached judgments need none{retries}){limit}",
        highlight=False, soft_wrap=True,
    )
