"""The `ranking` block of summary.json: a Bradley–Terry leaderboard over every judged battle.

Each valid pairwise item is one battle (a tie is half a win to each side; with a `mean` panel
the battle's score is the panel's soft preference). The fit and its intervals come from
`harness.stats.bradley_terry`: penalized maximum likelihood, 2,000 (or the suite's
`judge.resamples`) bootstrap resamples of prompts, where all battles of a case (every pair,
every repeat) are resampled together. Scores are on an Elo-like scale anchored at the
baseline (1000 points, a predicted win rate of 0.5), or at the first model without a baseline.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from harness.judging.plan import JudgePlan
from harness.stats.bootstrap import DEFAULT_RESAMPLES, DEFAULT_SEED
from harness.stats.bradley_terry import ANCHOR_SCORE, PENALTY, SCALE, rank_models
from harness.stats.pairwise import cluster_codes

CONFIDENCE = 0.95
Line = dict[str, Any]
_VALID = ("win", "loss", "tie")


@dataclass(frozen=True)
class RankingSetup:
    """What a ranking needs beyond the lines: the design, the anchor, the models in the run's order."""

    design: str  # baseline | round_robin
    anchor: str | None
    models: tuple[str, ...]


def ranking_setup(plan: JudgePlan) -> RankingSetup | None:
    """The plan's ranking, or None when it ranks nothing (one candidate vs the baseline)."""
    if not plan.ranked:
        return None
    return RankingSetup(plan.design, plan.anchor, tuple(plan.models))


def infer_setup(lines: Sequence[Line]) -> RankingSetup | None:
    """The ranking judgments.jsonl lines imply: round robin when a battle is not against the baseline;
    ranked with three or more models or a round robin."""
    battles = [line for line in lines if line.get("kind") == "pairwise"]
    if not battles:
        return None
    models = tuple(dict.fromkeys(name for line in battles for name in (line["candidate"], line["baseline"])))
    round_robin = any(not line.get("versus_baseline", True) for line in battles)
    baselines = {line["baseline"] for line in battles if line.get("versus_baseline", True)}
    anchor = next(iter(baselines)) if len(baselines) == 1 else models[0]
    if not round_robin and len(models) < 3:
        return None
    return RankingSetup("round_robin" if round_robin else "baseline", anchor, models)


def _counts(lines: Sequence[Line], model: str) -> dict[str, int]:
    mine = [line for line in lines if model in (line["candidate"], line["baseline"])]
    wins = losses = ties = 0
    for line in mine:
        if line["outcome"] == "tie":
            ties += 1
        elif line["outcome"] in ("win", "loss"):
            won = (line["outcome"] == "win") == (line["candidate"] == model)
            wins, losses = wins + won, losses + (not won)
    return {
        "items": len(mine),
        "battles": wins + losses + ties,
        "wins": wins,
        "losses": losses,
        "ties": ties,
        "invalid": sum(1 for line in mine if line["outcome"] == "invalid"),
        "skipped": sum(1 for line in mine if line["outcome"] == "skipped"),
    }


def ranking_summary(
    lines: Sequence[Line],
    setup: RankingSetup | None = None,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
) -> dict[str, Any] | None:
    """The `ranking` block (models best first), or None when the lines rank nothing."""
    battles = [line for line in lines if line.get("kind") == "pairwise"]
    setup = setup or infer_setup(battles)
    if setup is None or not battles:
        return None
    valid = [line for line in battles if line["outcome"] in _VALID and line.get("score") is not None]
    fighting = [name for name in setup.models if any(name in (line["candidate"], line["baseline"]) for line in valid)]
    anchor = setup.anchor if setup.anchor in fighting else (fighting[0] if fighting else setup.anchor)
    block: dict[str, Any] = {
        "method": "bradley_terry",
        "design": setup.design,
        "anchor": anchor,
        "anchor_score": ANCHOR_SCORE,
        "scale": SCALE,
        "penalty": PENALTY,
        "confidence": CONFIDENCE,
        "resamples": resamples,
        "seed": seed,
        "prompts": len({str(line["case_id"]) for line in valid}),
        "battles": len(valid),
        "invalid": sum(1 for line in battles if line["outcome"] == "invalid"),
        "skipped": sum(1 for line in battles if line["outcome"] == "skipped"),
        "models": {},
        "unranked": [name for name in setup.models if name not in fighting],
    }
    if len(fighting) < 2 or anchor is None:
        return block
    index = {name: i for i, name in enumerate(fighting)}
    first = np.array([index[line["candidate"]] for line in valid])
    second = np.array([index[line["baseline"]] for line in valid])
    score = np.array([float(line["score"]) for line in valid])
    prompts = cluster_codes([str(line["case_id"]) for line in valid])  # every battle of a case together
    ranking = rank_models(fighting, first, second, score, prompts, index[anchor], CONFIDENCE, resamples, seed)
    for rating in ranking.ratings:
        entry = rating.as_dict()
        entry.update(_counts(battles, rating.model))
        block["models"][rating.model] = entry
    return block
