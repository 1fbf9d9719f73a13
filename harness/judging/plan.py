"""What the judging stage will do: the judges (one, or a panel), the battles (each candidate vs the
baseline, or a round robin), the templates."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from harness.judging.templates import JudgeTemplate
from harness.models.base import GenerationParams
from harness.models.resolve import ResolvedModel
from harness.suite.schema import JudgeConfig

Design = Literal["baseline", "round_robin"]


@dataclass(frozen=True)
class Battle:
    """One pair of models the judge compares on every case, in both orders.

    `first` is shown as answer A in order 1; `second` is the baseline when the pair includes it.
    """

    first: str
    second: str
    versus_baseline: bool  # the pair is (candidate, baseline): it has a win rate vs the baseline


def battles_for(design: Design, models: list[str], baseline: str | None) -> list[Battle]:
    """The pairs a design compares. Round robin orients a pair with the baseline as (candidate,
    baseline), so those battles are the same judge requests (and cache entries) as the default design."""
    if design == "baseline":
        return [Battle(name, baseline, True) for name in models if baseline is not None and name != baseline]
    pairs: list[Battle] = []
    for i, first in enumerate(models):
        for second in models[i + 1 :]:
            if first == baseline:
                pairs.append(Battle(second, first, True))
            else:
                pairs.append(Battle(first, second, second == baseline))
    return pairs


def default_quorum(judges: int) -> int:
    """A majority of the panel: 1 of 1, 2 of 2, 2 of 3, 3 of 4."""
    return judges // 2 + 1


@dataclass
class JudgePlan:
    """What the judging stage will do."""

    judges: list[ResolvedModel]  # one judge, or a panel
    config: JudgeConfig
    baseline: str | None
    candidates: list[str]  # models compared with the baseline
    models: list[str]  # every model of the run, in order: all of them get rubric / closed-QA / label grades
    templates: dict[str, JudgeTemplate]  # enabled gradings only, by kind
    design: Design = "baseline"
    battles: list[Battle] | None = None  # None: each candidate vs the baseline
    quorum: int = 1

    def __post_init__(self) -> None:
        if self.battles is None:
            self.battles = battles_for("baseline", self.models, self.baseline) if "pairwise" in self.templates else []

    @property
    def judge(self) -> ResolvedModel:
        """The first (or only) judge."""
        return self.judges[0]

    @property
    def panel(self) -> bool:
        return len(self.judges) > 1

    @property
    def judge_names(self) -> list[str]:
        return [judge.name for judge in self.judges]

    @property
    def pairs(self) -> list[Battle]:
        return list(self.battles or [])

    @property
    def anchor(self) -> str | None:
        """The model the ranking's scale is anchored at: the baseline, else the first model."""
        return self.baseline or (self.models[0] if self.models else None)

    @property
    def ranked(self) -> bool:
        """Whether the run reports a Bradley–Terry ranking: a round robin, or two or more candidates."""
        if "pairwise" not in self.templates or not self.pairs:
            return False
        ranked = {name for battle in self.pairs for name in (battle.first, battle.second)}
        return self.design == "round_robin" or len(ranked) >= 3

    def params(self, template: JudgeTemplate, judge: ResolvedModel | None = None) -> GenerationParams:
        """Judge sampling: greedy, the template's reply budget, the judge model's own settings otherwise."""
        model = judge or self.judge
        params = GenerationParams(max_tokens=template.spec.max_tokens).merged(model.config.generation)
        return params.model_copy(update={"temperature": 0.0})

    def describe(self) -> dict[str, Any]:
        """The run.json entry (`model` and `spec` name the one judge, or list the panel)."""
        entry: dict[str, Any] = {
            "model": ", ".join(self.judge_names),
            "spec": ", ".join(judge.spec.raw for judge in self.judges),
            "baseline": self.baseline,
            "candidates": self.candidates,
            "templates": {kind: template.describe() for kind, template in self.templates.items()},
            "max_retries": self.config.max_retries,
            "logprobs": self.config.logprobs,
            "resamples": self.config.resamples,
            "seed": self.config.seed,
            "ranking": {"design": self.design, "anchor": self.anchor} if self.ranked else None,
            "pairs": [[battle.first, battle.second] for battle in self.pairs],
        }
        if self.panel:
            entry["panel"] = {
                "judges": [{"name": judge.name, "spec": judge.spec.raw} for judge in self.judges],
                "aggregate": self.config.aggregate,
                "quorum": self.quorum,
            }
        if self.config.label is not None:
            entry["label"] = self.config.label.model_dump()
        return entry
