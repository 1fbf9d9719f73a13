"""Panels of judges: how the judges' verdicts on one item combine into the panel's.

Every judge judges every item on its own (both orders, for pairwise). A judge whose verdict on
the item is invalid is left out; with fewer valid judges than the quorum (default: a majority
of the panel) the item is invalid, excluded and counted like any invalid judgment.

Pairwise, `majority`: the item verdict (win, loss or tie) that more than half of the valid
judges gave; without such a majority the item is a tie. Pairwise, `mean`: the mean of the
valid judges' soft preferences for the candidate (a judge without logprobs contributes its
discrete score, 1 / 0.5 / 0); the item is a win above 0.5, a loss below, a tie at 0.5, and the
mean is its score. Rubric scores average the valid judges' scores. Pass/fail and yes/no grades
follow the majority (an even split scores 0.5) or, with `mean`, average. A label needs a
majority of the valid judges; a split panel makes the item invalid.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

Aggregate = Literal["majority", "mean"]
SCORES: dict[str, float] = {"win": 1.0, "loss": 0.0, "tie": 0.5}


@dataclass(frozen=True)
class PanelRule:
    aggregate: Aggregate
    quorum: int
    judges: tuple[str, ...]

    def describe(self, valid: int) -> dict[str, Any]:
        return {"aggregate": self.aggregate, "quorum": self.quorum, "judges": len(self.judges), "valid": valid}


@dataclass(frozen=True)
class PanelVerdict:
    outcome: str  # win | loss | tie | invalid
    score: float | None
    soft: float | None
    invalid: str | None


def _quorum_problem(valid: int, rule: PanelRule, what: str) -> str | None:
    if valid >= rule.quorum:
        return None
    return f"only {valid} of {len(rule.judges)} judges gave a valid {what} (quorum {rule.quorum})"


def majority(values: Sequence[str]) -> str | None:
    """The value more than half of `values` share, or None."""
    if not values:
        return None
    value, count = Counter(values).most_common(1)[0]
    return value if 2 * count > len(values) else None


def combine_pairwise(verdicts: Mapping[str, Mapping[str, Any]], rule: PanelRule) -> PanelVerdict:
    """The panel's verdict from each judge's item verdict (`outcome`, `soft`)."""
    valid = [v for v in verdicts.values() if v.get("outcome") in SCORES]
    problem = _quorum_problem(len(valid), rule, "verdict")
    if problem is not None:
        return PanelVerdict("invalid", None, None, problem)
    softs = [float(v["soft"]) for v in valid if v.get("soft") is not None]
    if rule.aggregate == "mean":
        values = [float(v["soft"]) if v.get("soft") is not None else SCORES[str(v["outcome"])] for v in valid]
        score = sum(values) / len(values)
        outcome = "win" if score > 0.5 else ("loss" if score < 0.5 else "tie")
        return PanelVerdict(outcome, score, score, None)
    outcome = majority([str(v["outcome"]) for v in valid]) or "tie"
    soft = sum(softs) / len(softs) if softs and len(softs) == len(valid) else None
    return PanelVerdict(outcome, SCORES[outcome], soft, None)


@dataclass(frozen=True)
class PanelGrade:
    score: float | None
    label: str | None
    invalid: str | None


def combine_grades(grades: Mapping[str, tuple[float, str | None] | None], kind: str, binary: bool, rule: PanelRule) -> PanelGrade:
    """The panel's grade from each judge's (score, label), None for an invalid one."""
    valid = [grade for grade in grades.values() if grade is not None]
    problem = _quorum_problem(len(valid), rule, "grade")
    if problem is not None:
        return PanelGrade(None, None, problem)
    if kind == "label":
        label = majority([str(label) for _, label in valid])
        if label is None:
            shown = ", ".join(f"{name}: {grade[1]}" for name, grade in grades.items() if grade is not None)
            return PanelGrade(None, None, f"the judges split on the label ({shown})")
        score = next(score for score, chosen in valid if chosen == label)
        return PanelGrade(score, label, None)
    mean = sum(score for score, _ in valid) / len(valid)
    if binary and rule.aggregate == "majority":
        winner = majority(["1" if score >= 0.5 else "0" for score, _ in valid])
        if winner is not None:
            label = next(chosen for score, chosen in valid if (score >= 0.5) == (winner == "1"))
            return PanelGrade(float(winner), label, None)
        return PanelGrade(0.5, "split", None)
    return PanelGrade(mean, None, None)
