"""Candidate against baseline within one run, case by case, from checks and reference metrics alone.

No judge is needed: a case *regresses* when the baseline's answer passed its checks and the
candidate's did not (it failed or erred), and *improves* the other way round. Regressions are
ordered by how much the candidate lost on the reference metrics the case has (the mean, over
the metrics both answers carry, of baseline minus candidate), largest loss first, then in suite
order; improvements by gain. The exact McNemar test says whether the flips lean one way by
more than chance. This is summary.json's `comparison` block, computed at report time from
results.jsonl, so any run directory with a baseline gets it.

What a small sample cannot show is said, as `harness diff` says it: each entry records the fewest
pass -> fail flips McNemar would call significant (`needed_flips`), and `power_note` turns a
regression count that is not significant into one sentence saying what it would take.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from harness.stats.mcnemar import mcnemar_exact, smallest_significant_regressions

Verdict = Literal["pass", "fail", "error"]
Key = tuple[str, int]  # (case id, repeat)
ALPHA = 0.05  # the level of the regression test, as `harness diff`'s default --alpha


def verdict(record: dict[str, Any] | None) -> Verdict | None:
    """pass / fail / error of one result record; None when the model has no record for the case."""
    if record is None:
        return None
    if record.get("error"):
        return "error"
    return "pass" if record.get("passed") else "fail"


@dataclass(frozen=True)
class CaseChange:
    """One case whose outcome flipped between the baseline and the candidate."""

    case_id: str
    repeat: int
    baseline: Verdict
    candidate: Verdict
    metric_change: float | None  # mean of candidate minus baseline over the metrics both answers have

    def as_dict(self) -> dict[str, Any]:
        return {"case_id": self.case_id, "repeat": self.repeat, "baseline": self.baseline,
                "candidate": self.candidate, "metric_change": self.metric_change}


def _metric_change(base: dict[str, Any], mine: dict[str, Any]) -> float | None:
    a, b = base.get("metrics") or {}, mine.get("metrics") or {}
    deltas = [float(b[name]) - float(a[name]) for name in a
              if isinstance(a.get(name), (int, float)) and isinstance(b.get(name), (int, float))]
    return sum(deltas) / len(deltas) if deltas else None


def compare(results: Sequence[dict[str, Any]], baseline: str, candidate: str) -> dict[str, Any]:
    """The comparison entry of one candidate: counts, the ordered flips, McNemar's p-value."""
    by_key: dict[str, dict[Key, dict[str, Any]]] = {baseline: {}, candidate: {}}
    order: dict[Key, int] = {}
    for record in results:
        model = str(record.get("model"))
        if model in by_key:
            key = (str(record["case_id"]), int(record.get("repeat") or 0))
            by_key[model][key] = record
            order.setdefault(key, len(order))
    regressions: list[CaseChange] = []
    improvements: list[CaseChange] = []
    counts = {"both_pass": 0, "both_fail": 0, "errors": 0}
    paired = 0
    for key in sorted(set(by_key[baseline]) & set(by_key[candidate]), key=order.__getitem__):
        base, mine = by_key[baseline][key], by_key[candidate][key]
        was, now = verdict(base), verdict(mine)
        assert was is not None and now is not None
        paired += 1
        change = CaseChange(key[0], key[1], was, now, _metric_change(base, mine))
        if was == "pass" and now != "pass":
            regressions.append(change)
        elif now == "pass" and was != "pass":
            improvements.append(change)
        elif was == now == "pass":
            counts["both_pass"] += 1
        elif "error" in (was, now):
            counts["errors"] += 1
        else:
            counts["both_fail"] += 1
    # Largest metric loss first (unknown loss after known ones), suite order within equal losses.
    regressions.sort(key=lambda c: (c.metric_change is None, c.metric_change or 0.0))
    improvements.sort(key=lambda c: (c.metric_change is None, -(c.metric_change or 0.0)))
    test = mcnemar_exact(len(regressions), len(improvements))
    return {
        "baseline": baseline,
        "candidate": candidate,
        "paired": paired,
        "regressions": len(regressions),
        "improvements": len(improvements),
        **counts,
        "mcnemar_p": test.p_value,
        "alpha": ALPHA,
        "needed_flips": smallest_significant_regressions(len(improvements), ALPHA),
        "regressed": [c.as_dict() for c in regressions],
        "improved": [c.as_dict() for c in improvements],
    }


def comparison_block(results: Sequence[dict[str, Any]], baseline: str | None, models: Sequence[str]) -> dict[str, Any]:
    """summary.json's `comparison`: one entry per candidate against the baseline; empty without a baseline."""
    if baseline is None or baseline not in models:
        return {}
    return {name: compare(results, baseline, name) for name in models if name != baseline}


def power_note(regressions: int, improvements: int, paired: int, p_value: float, alpha: float = ALPHA,
               needed: int | None = None) -> str:
    """One sentence on what these paired cases cannot show: that `paired` cases cannot hold a
    significant regression at all, or that `regressions` flips are not significant and how many
    it would take. `needed` is the fewest significant flips (computed when not given)."""
    if needed is None:
        needed = smallest_significant_regressions(improvements, alpha)
    need = "no number of" if needed is None else f"at least {needed}"
    given = f" (with {improvements} fail → pass)" if improvements else ""
    if needed is None or needed + improvements > paired:
        return (f"{paired} paired cases cannot show a significant regression: it takes {need} pass → fail "
                f"flips{given} for exact McNemar at α = {alpha:g}")
    flips = "flip is" if regressions == 1 else "flips are"
    return (f"{regressions} pass → fail {flips} not significant at α = {alpha:g} (exact McNemar "
            f"p = {p_value:.3g}); it takes {need} pass → fail flips{given} on these {paired} cases")


def comparison_note(entry: dict[str, Any]) -> str | None:
    """The power note of a summary.json comparison entry whose regressions are not significant;
    None when there are none, or when McNemar finds them significant."""
    regressions, improvements = int(entry.get("regressions") or 0), int(entry.get("improvements") or 0)
    p_value = entry.get("mcnemar_p")
    alpha = float(entry.get("alpha") or ALPHA)
    if not regressions or p_value is None:
        return None
    if float(p_value) < alpha and regressions > improvements:
        return None
    needed = entry.get("needed_flips") if "needed_flips" in entry else smallest_significant_regressions(improvements, alpha)
    return power_note(regressions, improvements, int(entry.get("paired") or 0), float(p_value), alpha, needed)
