"""The `panel` block of summary.json: how a panel's judges behaved and agreed, from judgments.jsonl lines.

Per kind of judgment (pairwise, rubric, closed_qa, label), over the items the judges saw:
- per judge: valid verdicts, invalid ones, agreement with the panel's verdict (share of items
  where both are valid and equal) and Cohen's κ against it; for pairwise also the judge's own
  win rate (candidates vs the baseline, pooled; per candidate in the `pairwise` block) and its
  position bias (share of decisive single-order verdicts for the first answer);
- pairwise Cohen's κ between every two judges (items both judged validly) and Fleiss' κ over
  the items every judge judged validly;
- `most_disagreeing`: the panel's outlier, the judge whose verdicts agree least with the other
  judges' (lowest mean Cohen's κ against each of them); with two judges, whose agreement is
  symmetric, the one whose own two orders disagree more often; None when nothing tells them apart.

A pairwise item's category is its verdict from the first model's side (win, loss, tie); a
grade's is its label (pass/fail, yes/no, the chosen label) or its score.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

from harness.stats.agreement import agreement_rate, cohens_kappa, fleiss_kappa
from harness.stats.pairwise import first_slot_rate

Line = dict[str, Any]
_VALID_PAIRWISE = ("win", "loss", "tie")


def _category(kind: str, verdict: dict[str, Any]) -> str | None:
    """A judge's (or the panel's) verdict on one item as a category, None when invalid."""
    if kind == "pairwise":
        outcome = verdict.get("outcome")
        return str(outcome) if outcome in _VALID_PAIRWISE else None
    if verdict.get("score") is None or verdict.get("outcome") == "invalid":
        return None
    label = verdict.get("label")
    return str(label) if label is not None else f"{float(verdict['score']):g}"


def _agreement(kind: str, lines: Sequence[Line], judges: Sequence[str]) -> dict[str, Any]:
    seen = [line for line in lines if line.get("judges")]
    per_judge: dict[str, Any] = {}
    for judge in judges:
        verdicts = [line["judges"].get(judge) or {} for line in seen]
        mine = [_category(kind, v) for v in verdicts]
        panel = [_category(kind, line) for line in seen]
        both = [(a, b) for a, b in zip(mine, panel, strict=True) if a is not None and b is not None]
        entry: dict[str, Any] = {
            "n": sum(1 for c in mine if c is not None),
            "invalid": sum(1 for c in mine if c is None),
            "agreement_with_panel": agreement_rate([a for a, _ in both], [b for _, b in both])[1],
            "kappa_with_panel": cohens_kappa([a for a, _ in both], [b for _, b in both]),
        }
        if kind == "pairwise":
            # its win rate pools the candidates' items vs the baseline (round-robin battles have no baseline side)
            scores = [float(v["score"]) for v, line in zip(verdicts, seen, strict=True)
                      if v.get("outcome") in _VALID_PAIRWISE and line.get("versus_baseline", True)]
            picks = [o["slot"] == "first" for v in verdicts for o in v.get("orders") or [] if o.get("slot") in ("first", "second")]
            judged = [v for v in verdicts if len(v.get("orders") or []) == 2 and v.get("outcome") in _VALID_PAIRWISE]
            agreeing = sum(1 for v in judged if v["orders"][0]["winner"] == v["orders"][1]["winner"])
            entry.update(
                win_rate=sum(scores) / len(scores) if scores else None,
                position_bias={"first_slot_rate": first_slot_rate(picks), "decisive_verdicts": len(picks),
                               "consistency": agreeing / len(judged) if judged else None},
            )
        per_judge[judge] = entry
    pairs = []
    for a, b in itertools.combinations(judges, 2):
        rated = [(_category(kind, line["judges"].get(a) or {}), _category(kind, line["judges"].get(b) or {})) for line in seen]
        both = [(x, y) for x, y in rated if x is not None and y is not None]
        pairs.append({
            "judges": [a, b],
            "n": len(both),
            "agreement": agreement_rate([x for x, _ in both], [y for _, y in both])[1],
            "cohens_kappa": cohens_kappa([x for x, _ in both], [y for _, y in both]),
        })
    complete = [[_category(kind, line["judges"].get(j) or {}) for j in judges] for line in seen]
    complete_items = [[str(c) for c in item] for item in complete if all(c is not None for c in item)]
    return {
        "items": len(seen),
        "judges": per_judge,
        "pairs": pairs,
        "fleiss_kappa": {"n": len(complete_items), "kappa": fleiss_kappa(complete_items) if complete_items else None},
        "most_disagreeing": _most_disagreeing(per_judge, pairs),
    }


def _most_disagreeing(per_judge: dict[str, Any], pairs: list[dict[str, Any]]) -> str | None:
    """The judge whose verdicts agree least with the other judges' (lowest mean Cohen's κ against
    each of them; raw agreement where κ is undefined). Between two judges agreement is symmetric,
    so the tie goes to the judge whose own two orders disagree more often (pairwise only)."""
    if len(per_judge) < 2:
        return None
    scores: dict[str, float] = {}
    for name in per_judge:
        mine = [pair for pair in pairs if name in pair["judges"]]
        values = [pair["cohens_kappa"] if pair["cohens_kappa"] is not None else pair["agreement"] for pair in mine]
        known = [float(v) for v in values if v is not None]
        if known:
            scores[name] = sum(known) / len(known)
    if not scores:
        return None
    lowest = min(scores.values())
    tied = sorted(name for name, value in scores.items() if value <= lowest + 1e-12)
    if len(tied) == 1:
        return tied[0]
    consistency = {
        name: (per_judge[name].get("position_bias") or {}).get("consistency") for name in tied
    }
    rated = {name: value for name, value in consistency.items() if value is not None}
    if len(rated) < len(tied) or len(set(rated.values())) == 1:
        return None
    least = min(rated.values())
    return min(name for name, value in rated.items() if value == least)


def panel_summary(lines: Sequence[Line]) -> dict[str, Any] | None:
    """The `panel` block, or None when no line was judged by a panel."""
    panel_lines = [line for line in lines if line.get("judge") == "panel"]
    if not panel_lines:
        return None
    judges: list[str] = []
    for line in panel_lines:
        for name in line.get("judges") or {}:
            if name not in judges:
                judges.append(name)
    first = next((line.get("panel") for line in panel_lines if line.get("panel")), None) or {}
    block: dict[str, Any] = {"judges": judges, "aggregate": first.get("aggregate"), "quorum": first.get("quorum")}
    for kind in ("pairwise", "rubric", "closed_qa", "label"):
        of_kind = [line for line in panel_lines if line.get("kind") == kind]
        if of_kind:
            block[kind] = _agreement(kind, of_kind, judges)
    return block


def judge_win_rates(items: Sequence[Line]) -> dict[str, Any] | None:
    """Each panel judge's own win rate on one candidate's pairwise items (None without a panel)."""
    judges: dict[str, list[float]] = {}
    invalid: dict[str, int] = {}
    for item in items:
        for name, verdict in (item.get("judges") or {}).items():
            judges.setdefault(name, [])
            invalid.setdefault(name, 0)
            if verdict.get("outcome") in _VALID_PAIRWISE:
                judges[name].append(float(verdict["score"]))
            elif verdict.get("outcome") == "invalid":
                invalid[name] += 1
    if not judges:
        return None
    return {
        name: {"n": len(scores), "win_rate": sum(scores) / len(scores) if scores else None, "invalid": invalid[name]}
        for name, scores in judges.items()
    }
