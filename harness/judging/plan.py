"""What the judging stage will do: the judge, the comparison (baseline and candidates), the templates."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness.judging.templates import JudgeTemplate
from harness.models.base import GenerationParams
from harness.models.resolve import ResolvedModel
from harness.suite.schema import JudgeConfig


@dataclass
class JudgePlan:
    """What the judging stage will do."""

    judge: ResolvedModel
    config: JudgeConfig
    baseline: str | None
    candidates: list[str]
    models: list[str]  # every model of the run, in order: all of them get rubric / closed-QA grades
    templates: dict[str, JudgeTemplate]  # enabled gradings only, by kind

    def params(self, template: JudgeTemplate) -> GenerationParams:
        """Judge sampling: greedy, the template's reply budget, the judge model's own settings otherwise."""
        params = GenerationParams(max_tokens=template.spec.max_tokens).merged(self.judge.config.generation)
        return params.model_copy(update={"temperature": 0.0})

    def describe(self) -> dict[str, Any]:
        """The run.json entry."""
        return {
            "model": self.judge.name,
            "spec": self.judge.spec.raw,
            "baseline": self.baseline,
            "candidates": self.candidates,
            "templates": {kind: template.describe() for kind, template in self.templates.items()},
            "max_retries": self.config.max_retries,
            "logprobs": self.config.logprobs,
            "resamples": self.config.resamples,
            "seed": self.config.seed,
        }
