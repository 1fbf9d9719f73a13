"""How a panel's verdicts combine (majority, mean, quorum), and the panel block's agreement figures by hand."""

from __future__ import annotations

from typing import Any

import pytest

from harness.judging.panel import PanelRule, combine_grades, combine_pairwise
from harness.judging.panel_summary import panel_summary

THREE = PanelRule("majority", 2, ("j1", "j2", "j3"))
TWO = PanelRule("majority", 2, ("j1", "j2"))


def verdicts(*outcomes: str, softs: tuple[float | None, ...] | None = None) -> dict[str, dict[str, Any]]:
    softs = softs or (None,) * len(outcomes)
    return {f"j{i + 1}": {"outcome": o, "soft": s} for i, (o, s) in enumerate(zip(outcomes, softs, strict=True))}


@pytest.mark.parametrize(
    ("outcomes", "expected"),
    [
        (("win", "win", "loss"), "win"),
        (("loss", "tie", "loss"), "loss"),
        (("win", "loss", "tie"), "tie"),  # no majority
        (("win", "win", "invalid"), "win"),  # 2 valid of 3 meets the quorum
        (("win", "tie", "invalid"), "tie"),  # 1 of 2 valid is not more than half
    ],
)
def test_majority_of_three(outcomes: tuple[str, ...], expected: str) -> None:
    combined = combine_pairwise(verdicts(*outcomes), THREE)
    assert combined.outcome == expected and combined.invalid is None
    assert combined.score == {"win": 1.0, "loss": 0.0, "tie": 0.5}[expected]


def test_below_the_quorum_the_item_is_invalid() -> None:
    combined = combine_pairwise(verdicts("win", "invalid", "invalid"), THREE)
    assert combined.outcome == "invalid" and combined.score is None
    assert combined.invalid == "only 1 of 3 judges gave a valid verdict (quorum 2)"


def test_two_judges_need_to_agree_for_a_decision() -> None:
    assert combine_pairwise(verdicts("win", "win"), TWO).outcome == "win"
    assert combine_pairwise(verdicts("win", "tie"), TWO).outcome == "tie"
    assert combine_pairwise(verdicts("win", "invalid"), TWO).outcome == "invalid"


def test_mean_of_soft_preferences() -> None:
    rule = PanelRule("mean", 2, ("j1", "j2", "j3"))
    combined = combine_pairwise(verdicts("win", "tie", "loss", softs=(0.9, 0.6, None)), rule)
    # j3 has no logprobs: its discrete loss counts 0; (0.9 + 0.6 + 0) / 3 = 0.5 -> a tie scored 0.5
    assert combined.score == pytest.approx(0.5) and combined.outcome == "tie"
    combined = combine_pairwise(verdicts("win", "tie", "invalid", softs=(0.9, 0.6, None)), rule)
    assert combined.score == pytest.approx(0.75) and combined.outcome == "win" and combined.soft == pytest.approx(0.75)


def test_label_grades_need_a_majority_label() -> None:
    grades = {"j1": (1.0, "polite"), "j2": (1.0, "polite"), "j3": (0.0, "rude")}
    assert combine_grades(grades, "label", False, THREE).label == "polite"
    split = combine_grades({"j1": (1.0, "polite"), "j2": (0.0, "rude"), "j3": None}, "label", False, THREE)
    assert split.score is None and split.invalid == "the judges split on the label (j1: polite, j2: rude)"


def test_rubric_scores_average_and_pass_fail_follows_the_majority() -> None:
    assert combine_grades({"j1": (7.0, None), "j2": (9.0, None), "j3": None}, "rubric", False, THREE).score == 8.0
    binary = combine_grades({"j1": (1.0, "pass"), "j2": (0.0, "fail"), "j3": (1.0, "pass")}, "rubric", True, THREE)
    assert (binary.score, binary.label) == (1.0, "pass")
    even = combine_grades({"j1": (1.0, "yes"), "j2": (0.0, "no")}, "closed_qa", True, TWO)
    assert (even.score, even.label) == (0.5, "split")
    mean = combine_grades({"j1": (1.0, "yes"), "j2": (0.0, "no"), "j3": (1.0, "yes")}, "closed_qa", True,
                          PanelRule("mean", 2, ("j1", "j2", "j3")))
    assert mean.score == pytest.approx(2 / 3)


def panel_line(panel_outcome: str, **judges: str) -> dict[str, Any]:
    return {
        "kind": "pairwise", "judge": "panel", "outcome": panel_outcome,
        "panel": {"aggregate": "majority", "quorum": 2},
        "judges": {name: {"outcome": o, "score": {"win": 1.0, "loss": 0.0, "tie": 0.5}.get(o), "orders": []}
                   for name, o in judges.items()},
    }


def test_agreement_figures_by_hand() -> None:
    # Six items; j1 and j2 agree on 4, j3 always says tie (an "always A" judge's orders never agree).
    rows = [
        ("win", "win", "tie"), ("win", "win", "tie"), ("loss", "loss", "tie"),
        ("tie", "tie", "tie"), ("win", "loss", "tie"), ("loss", "win", "tie"),
    ]
    lines = [panel_line(a if a == b else "tie", j1=a, j2=b, j3=c) for a, b, c in rows]
    block = panel_summary(lines)
    assert block is not None and block["judges"] == ["j1", "j2", "j3"]
    pairwise = block["pairwise"]
    kappas = {tuple(p["judges"]): p["cohens_kappa"] for p in pairwise["pairs"]}
    # j1 vs j2: observed 4/6; marginals j1 w3 l2 t1, j2 w3 l2 t1 -> chance (9 + 4 + 1)/36 = 14/36;
    # kappa = (24/36 - 14/36) / (22/36) = 10/22
    assert kappas[("j1", "j2")] == pytest.approx(10 / 22)
    # j3 is constant: observed = chance = share of j1's ties -> kappa 0
    assert kappas[("j1", "j3")] == pytest.approx(0.0) and kappas[("j2", "j3")] == pytest.approx(0.0)
    # Fleiss over 3 raters: per-item agreement (pairs agreeing / 3): 1/3, 1/3, 1/3, 1, 0, 0 -> mean 1/3;
    # label totals over 18 ratings: win 6, loss 4, tie 8 -> chance (36 + 16 + 64)/324 = 116/324;
    # kappa = (1/3 - 116/324) / (1 - 116/324) = (108 - 116) / 208 = -1/26
    assert pairwise["fleiss_kappa"] == {"n": 6, "kappa": pytest.approx(-1 / 26)}
    assert pairwise["most_disagreeing"] == "j3"
    assert pairwise["judges"]["j1"]["win_rate"] == pytest.approx((1 + 1 + 0 + 0.5 + 1 + 0) / 6)
    # the panel said tie on items 4-6 and j3 always says tie: agreement with the panel 3/6 for j3
    assert pairwise["judges"]["j3"]["agreement_with_panel"] == pytest.approx(3 / 6)


def test_no_panel_block_for_a_single_judge() -> None:
    assert panel_summary([{"kind": "pairwise", "judge": "j1", "outcome": "win"}]) is None
