"""The `ranking` block from judgments.jsonl lines: the star-design identity, counts, round robins, unranked models."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from harness.judging.ranking import RankingSetup, infer_setup, ranking_summary
from harness.judging.summary import judging_summary, pairwise_summary

SCORES = {"win": 1.0, "loss": 0.0, "tie": 0.5}


def line(candidate: str, baseline: str, case: int, outcome: str, versus_baseline: bool = True, repeat: int = 0) -> dict[str, Any]:
    return {
        "kind": "pairwise", "candidate": candidate, "baseline": baseline, "versus_baseline": versus_baseline,
        "case_id": f"q{case}", "repeat": repeat, "tags": [], "judge": "j", "outcome": outcome,
        "score": SCORES.get(outcome), "soft": None, "inconsistent": False, "identical": False,
        "candidate_chars": 10, "baseline_chars": 10, "orders": [],
    }


def star_lines(seed: int = 4) -> list[dict[str, Any]]:
    rng = np.random.default_rng(seed)
    lines = []
    for candidate, p in (("a", [0.6, 0.2, 0.2]), ("b", [0.3, 0.4, 0.3]), ("c", [0.2, 0.6, 0.2])):
        for case in range(30):
            for repeat in range(2):
                outcome = str(rng.choice(["win", "loss", "tie"], p=p))
                lines.append(line(candidate, "base", case, outcome, repeat=repeat))
        lines.append(line(candidate, "base", 99, "invalid"))
        lines.append(line(candidate, "base", 98, "skipped"))
    return lines


def test_star_design_ranking_reproduces_the_pairwise_win_rates() -> None:
    lines = star_lines()
    summary = judging_summary(lines, resamples=2000)
    ranking = summary["ranking"]
    assert ranking["design"] == "baseline" and ranking["anchor"] == "base"
    for candidate, block in pairwise_summary(lines).items():
        assert ranking["models"][candidate]["win_rate"] == pytest.approx(block["win_rate"], abs=1e-4)
    assert ranking["models"]["base"]["score"] == 1000.0 and ranking["models"]["base"]["win_rate"] == 0.5
    assert list(ranking["models"]) == sorted(ranking["models"], key=lambda m: ranking["models"][m]["rank"])


def test_counts_are_taken_from_each_side() -> None:
    lines = [line("a", "base", 1, "win"), line("a", "base", 2, "loss"), line("b", "base", 1, "tie"),
             line("a", "b", 1, "win", versus_baseline=False), line("a", "b", 2, "invalid", versus_baseline=False)]
    ranking = ranking_summary(lines, RankingSetup("round_robin", "base", ("a", "b", "base")))
    assert ranking is not None
    a, b, base = (ranking["models"][name] for name in ("a", "b", "base"))
    assert (a["wins"], a["losses"], a["ties"], a["invalid"], a["items"], a["battles"]) == (2, 1, 0, 1, 4, 3)
    assert (b["wins"], b["losses"], b["ties"], b["invalid"]) == (0, 1, 1, 1)
    assert (base["wins"], base["losses"], base["ties"]) == (1, 1, 1)
    assert ranking["battles"] == 4 and ranking["invalid"] == 1 and ranking["prompts"] == 2


def test_which_lines_make_a_ranking() -> None:
    one = [line("a", "base", 1, "win")]
    assert infer_setup(one) is None  # one candidate vs the baseline: its win rate says it all
    two = [line("a", "base", 1, "win"), line("b", "base", 1, "loss")]
    assert infer_setup(two) == RankingSetup("baseline", "base", ("a", "base", "b"))
    pair = [line("a", "b", 1, "win", versus_baseline=False)]
    assert infer_setup(pair) == RankingSetup("round_robin", "a", ("a", "b"))
    assert "ranking" not in judging_summary(one)


def test_a_model_without_valid_battles_is_listed_unranked() -> None:
    lines = [line("a", "base", 1, "win"), line("a", "base", 2, "tie"), line("b", "base", 1, "invalid")]
    ranking = ranking_summary(lines, RankingSetup("baseline", "base", ("a", "b", "base")))
    assert ranking is not None
    assert set(ranking["models"]) == {"a", "base"} and ranking["unranked"] == ["b"]
