"""Which metrics a suite computes, with their options.

- The suite's `metrics:` list when it has one.
- Otherwise, when the suite has `labels:`, classification; when any case has a reference,
  every text metric (DEFAULT_TEXT_METRICS); else none.
- Plus every metric a `metric:` check tests, with default options, when not listed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from harness.metrics.evaluate_bridge import EvaluateSpec, make_spec
from harness.metrics.options import (
    CLASSIFICATION,
    CLASSIFICATION_CASE_METRIC,
    EVALUATE_PREFIX,
    TEXT_METRICS,
    BleuOptions,
    ChrfOptions,
    ClassificationOptions,
    EvaluateOptions,
    MetricOptions,
    RougeOptions,
    SquadOptions,
    parse_options,
)
from harness.suite.case import Case
from harness.suite.schema import CheckSpec, MetricConfig

DEFAULT_TEXT_METRICS = TEXT_METRICS


@dataclass(frozen=True)
class MetricEntry:
    """One metric to compute: its name, validated options, and its index in `metrics:` (None when implied)."""

    name: str
    options: MetricOptions
    index: int | None


def _entry(item: str | MetricConfig, index: int | None) -> MetricEntry:
    name, raw = (item, {}) if isinstance(item, str) else (item.name, item.options)
    return MetricEntry(name, parse_options(name, raw), index)


def metric_checks(case: Case) -> list[str]:
    return [check.metric for check in case.checks if check.metric is not None]


def resolve_entries(metrics: Sequence[str | MetricConfig], labels: list[str] | None, cases: Sequence[Case]) -> list[MetricEntry]:
    """The metrics a suite computes (see the module docstring), in reporting order."""
    if metrics:
        entries = [_entry(item, i) for i, item in enumerate(metrics)]
    elif labels:
        entries = [_entry(CLASSIFICATION, None)]
    elif any(case.references for case in cases):
        entries = [_entry(name, None) for name in DEFAULT_TEXT_METRICS]
    else:
        entries = []
    listed = {entry.name for entry in entries}
    for case in cases:
        for name in metric_checks(case):
            wanted = CLASSIFICATION if name == CLASSIFICATION_CASE_METRIC else name
            if wanted not in listed:
                listed.add(wanted)
                entries.append(_entry(wanted, None))
    return entries


@dataclass(frozen=True)
class MetricPlan:
    """Everything the scoring engine needs; picklable, so worker processes receive it."""

    text: tuple[tuple[str, MetricOptions], ...] = ()
    classification: ClassificationOptions | None = None  # labels resolved
    evaluate: tuple[EvaluateSpec, ...] = ()
    checks: dict[str, list[CheckSpec]] = field(default_factory=dict)  # case id -> its metric checks

    @property
    def empty(self) -> bool:
        return not (self.text or self.classification or self.evaluate)

    @property
    def labels(self) -> list[str]:
        return list(self.classification.labels or []) if self.classification else []

    def options_of(self, name: str) -> MetricOptions | None:
        return next((options for metric, options in self.text if metric == name), None)

    @property
    def bleu(self) -> BleuOptions | None:
        options = self.options_of("bleu")
        return options if isinstance(options, BleuOptions) else None

    @property
    def chrf(self) -> ChrfOptions | None:
        options = self.options_of("chrf")
        return options if isinstance(options, ChrfOptions) else None

    def rouge_groups(self) -> dict[bool, list[str]]:
        """ROUGE types grouped by their stemming option (types in a group share tokenization)."""
        groups: dict[bool, list[str]] = {}
        for name, options in self.text:
            if isinstance(options, RougeOptions):
                groups.setdefault(options.use_stemmer, []).append(name)
        return groups

    def squad(self) -> list[tuple[str, SquadOptions]]:
        return [(name, options) for name, options in self.text if isinstance(options, SquadOptions)]


def build_plan(
    metrics: Sequence[str | MetricConfig], labels: list[str] | None, cases: Sequence[Case], base_dir: Path
) -> MetricPlan:
    """The plan of a validated suite (validation reports what would make this fail)."""
    text: list[tuple[str, MetricOptions]] = []
    classification: ClassificationOptions | None = None
    evaluate: list[EvaluateSpec] = []
    for entry in resolve_entries(metrics, labels, cases):
        if entry.name.startswith(EVALUATE_PREFIX):
            assert isinstance(entry.options, EvaluateOptions)
            evaluate.append(make_spec(entry.name, entry.options, base_dir))
        elif entry.name == CLASSIFICATION:
            assert isinstance(entry.options, ClassificationOptions)
            resolved = entry.options.labels or labels
            classification = entry.options.model_copy(update={"labels": list(resolved or [])})
        else:
            text.append((entry.name, entry.options))
    checks = {case.id: [c for c in case.checks if c.metric is not None] for case in cases}
    return MetricPlan(tuple(text), classification, tuple(evaluate), {k: v for k, v in checks.items() if v})
