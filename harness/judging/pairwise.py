"""The pairwise protocol: each candidate answer against the baseline's, judged in both orders.

Order 1 shows the candidate as answer A, order 2 as answer B. A win needs both orders to pick
the candidate and a loss both to pick the baseline; a disagreement or an explicit tie is a tie
(0.5). Identical answers are ties without a judge call. An item with an invalid order is
invalid: excluded from the win rate and counted, never scored as a loss.

In a round robin the same protocol compares two candidates: the line's `candidate` is the
pair's first model, `baseline` its second, and `versus_baseline` is false. With a panel, each
judge's verdict is kept under `judges` and the line's outcome is the panel's (panel.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from harness.judging.caller import JudgeJob, JudgeOutcome
from harness.judging.inputs import AnswerIndex, case_variables
from harness.judging.panel import PanelRule, combine_pairwise
from harness.judging.parsing import PairwiseVerdict, Parsed, Slot, parse_pairwise
from harness.judging.plan import Battle
from harness.judging.templates import JudgeTemplate
from harness.models.base import GenerationResponse
from harness.suite.case import Case

Winner = Literal["candidate", "baseline", "tie"]
Outcome = Literal["win", "loss", "tie", "invalid", "skipped"]

# Which model a slot verdict favours, per order (order 1: candidate is answer A).
_WINNER: dict[int, dict[Slot, Winner]] = {
    1: {"first": "candidate", "second": "baseline", "tie": "tie"},
    2: {"first": "baseline", "second": "candidate", "tie": "tie"},
}
SCORES: dict[str, float] = {"win": 1.0, "loss": 0.0, "tie": 0.5}


def combine(first: Winner | None, second: Winner | None) -> tuple[Outcome, bool]:
    """(item outcome, inconsistent) from the two orders' winners; None is an invalid order."""
    if first is None or second is None:
        return "invalid", False
    if first == second == "candidate":
        return "win", False
    if first == second == "baseline":
        return "loss", False
    return "tie", {first, second} == {"candidate", "baseline"}


def candidate_probability(order: int, first_share: float | None) -> float | None:
    """The soft preference for the candidate in one order, from P(first)/(P(first)+P(second))."""
    if first_share is None:
        return None
    return first_share if order == 1 else 1.0 - first_share


@dataclass
class PairItem:
    """One candidate answer and the baseline's (or, in a round robin, another model's) answer to the same case and repeat."""

    candidate: str
    baseline: str
    case: Case
    repeat: int
    candidate_output: str | None
    baseline_output: str | None
    skipped: str | None = None
    jobs: list[JudgeJob] = field(default_factory=list)
    versus_baseline: bool = True

    @property
    def identical(self) -> bool:
        return self.skipped is None and (self.candidate_output or "").strip() == (self.baseline_output or "").strip()


def _parser(template: JudgeTemplate) -> Callable[[GenerationResponse], Parsed]:
    fmt = template.verdict

    def parse(response: GenerationResponse) -> Parsed:
        return parse_pairwise(response.output or "", response.logprobs, fmt)

    return parse


def plan_pairs(battles: Sequence[Battle], cases: Sequence[Case], answers: AnswerIndex, template: JudgeTemplate) -> list[PairItem]:
    """Every (pair, case, repeat) item with its two judge jobs (none when skipped or identical)."""
    parse = _parser(template)
    items: list[PairItem] = []
    for battle in battles:
        candidate, baseline = battle.first, battle.second
        for case in cases:
            for repeat in answers.repeats(candidate, case.id):
                mine = answers.get(candidate, case.id, repeat)
                theirs = answers.get(baseline, case.id, repeat)
                item = PairItem(candidate, baseline, case, repeat, answers.output(mine), answers.output(theirs),
                                versus_baseline=battle.versus_baseline)
                item.skipped = answers.why_missing(mine, candidate) or answers.why_missing(theirs, baseline)
                if item.skipped is None and not item.identical:
                    variables = case_variables(case)
                    for order, (a, b) in ((1, (item.candidate_output, item.baseline_output)),
                                          (2, (item.baseline_output, item.candidate_output))):
                        values = {**variables, "answer_a": a, "answer_b": b}
                        item.jobs.append(
                            JudgeJob(
                                label=f"pairwise:{candidate}:{case.id}:{repeat}:{order}",
                                messages=template.messages(values),
                                template_sha256=template.sha256,
                                retry_prompt=template.retry_message(values),
                                parse=parse,
                            )
                        )
                items.append(item)
    return items


def _order_entry(order: int, item: PairItem, outcome: JudgeOutcome) -> tuple[dict[str, Any], Winner | None, float | None]:
    verdict: PairwiseVerdict | None = outcome.value if outcome.invalid is None else None
    winner = _WINNER[order][verdict.slot] if verdict is not None else None
    soft = candidate_probability(order, verdict.first_share) if verdict is not None else None
    a, b = (item.candidate, item.baseline) if order == 1 else (item.baseline, item.candidate)
    entry = {
        "order": order,
        "answer_a": a,
        "answer_b": b,
        "prompt_sha256": outcome.prompt_sha256,
        "reply": outcome.reply,
        "verdict": verdict.label if verdict is not None else None,
        "slot": verdict.slot if verdict is not None else None,
        "winner": winner,
        "soft_candidate": soft,
        "invalid": outcome.invalid,
        "attempts": outcome.attempts,
        "cached": outcome.cached,
    }
    return entry, winner, soft


def judge_verdict(item: PairItem, outcomes: Sequence[JudgeOutcome]) -> dict[str, Any]:
    """One judge's verdict on an item from its two orders: outcome, score, soft, inconsistent, invalid, orders."""
    orders: list[dict[str, Any]] = []
    outcome: Outcome
    inconsistent = False
    soft: float | None = None
    invalid: str | None = None
    if item.skipped is not None:
        outcome = "skipped"
    elif item.identical:
        outcome, soft = "tie", 0.5
    else:
        winners: list[Winner | None] = []
        softs: list[float | None] = []
        for order, judged in enumerate(outcomes, start=1):
            entry, winner, order_soft = _order_entry(order, item, judged)
            orders.append(entry)
            winners.append(winner)
            softs.append(order_soft)
        outcome, inconsistent = combine(winners[0], winners[1])
        if outcome == "invalid":
            invalid = "; ".join(f"order {e['order']}: {e['invalid']}" for e in orders if e["invalid"])
        elif softs[0] is not None and softs[1] is not None:
            soft = (softs[0] + softs[1]) / 2.0
    return {"outcome": outcome, "score": SCORES.get(outcome), "soft": soft, "inconsistent": inconsistent,
            "invalid": invalid, "orders": orders}


def pair_line(
    item: PairItem, outcomes: Mapping[str, Sequence[JudgeOutcome]], template: JudgeTemplate, panel: PanelRule | None = None
) -> dict[str, Any]:
    """The judgments.jsonl line of one item: the item's outcome and each order's judgment.

    `outcomes` maps each judge to its two orders' outcomes (empty when nothing was asked). With
    a panel, every judge's verdict is under `judges` and the top-level outcome is the panel's.
    """
    verdicts = {judge: judge_verdict(item, judged) for judge, judged in outcomes.items()}
    line: dict[str, Any] = {
        "kind": "pairwise",
        "candidate": item.candidate,
        "baseline": item.baseline,
        "versus_baseline": item.versus_baseline,
        "case_id": item.case.id,
        "repeat": item.repeat,
        "tags": item.case.tags,
        "judge": next(iter(verdicts)) if panel is None else "panel",
        "template": template.name,
        "template_sha256": template.sha256,
    }
    if panel is None:
        line.update(next(iter(verdicts.values())))
    elif item.skipped is not None or item.identical:
        line.update(judge_verdict(item, []), judges={})
    else:
        combined = combine_pairwise(verdicts, panel)
        valid = sum(1 for v in verdicts.values() if v["outcome"] in SCORES)
        line.update(
            outcome=combined.outcome, score=combined.score, soft=combined.soft,
            inconsistent=any(v["inconsistent"] for v in verdicts.values()), invalid=combined.invalid, orders=[],
            judges=verdicts, panel=panel.describe(valid),
        )
    line.update(
        identical=item.identical,
        skipped=item.skipped,
        candidate_chars=len(item.candidate_output or ""),
        baseline_chars=len(item.baseline_output or ""),
    )
    return line
