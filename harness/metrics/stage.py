"""The scoring stage of a run: after generation, before the summary.

    stage = ScoringStage.prepare(suite)      # before generation: loads `evaluate` modules, fails fast
    ...generation...
    stage.score(records)                     # record["metrics"], metric checks, `passed`
    stage.add_to_summary(summary, records)   # per model and per tag: value, 95 % CI, n

A record gets `metrics` only when it was answered and its case has references: a missing
reference leaves the metrics absent, never zero, and so does a text over a metric's size limit
(harness.metrics.limits; `metrics_skipped` says why, `skipped_warnings` words it for the run). `metric_stats` keeps the per-case sufficient
statistics of BLEU/chrF so corpus scores can be recomputed for any subset of a run directory;
`label` holds the reference and predicted label of classification suites.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from harness.metrics.aggregate import add_metric_summaries
from harness.metrics.checks import apply_metric_checks
from harness.metrics.engine import score_pairs
from harness.metrics.evaluate_bridge import EvaluateMetric
from harness.metrics.plan import MetricPlan, build_plan
from harness.suite.loader import Suite


class ScoringStage:
    def __init__(self, plan: MetricPlan, evaluators: Sequence[EvaluateMetric] = ()) -> None:
        self.plan = plan
        self.evaluators = list(evaluators)
        self.corpus_values: dict[tuple[str, str | None], dict[str, float]] = {}

    @classmethod
    def prepare(cls, suite: Suite) -> ScoringStage:
        """The stage for a loaded suite. Raises UsageError when an `evaluate` module cannot load."""
        plan = build_plan(suite.metrics, suite.labels, suite.cases, suite.directory)
        return cls(plan, [EvaluateMetric(spec) for spec in plan.evaluate])

    @property
    def active(self) -> bool:
        return not self.plan.empty

    def score(self, records: Sequence[dict[str, Any]], workers: int | None = None) -> None:
        """Score answered records that have references, then evaluate metric checks.

        Raises RunError when an `evaluate` module fails on the outputs.
        """
        if self.plan.empty:
            return
        targets = [r for r in records if r.get("error") is None and r.get("references")]
        pairs = [(r.get("output") or "", tuple(r["references"])) for r in targets]
        for record, score in zip(targets, score_pairs(self.plan, pairs, workers), strict=True):
            record["metrics"] = dict(score.metrics)
            if score.stats:
                record["metric_stats"] = {name: list(stats) for name, stats in score.stats.items()}
            if score.label is not None:
                record["label"] = {"reference": score.label[0], "predicted": score.label[1]}
            if score.skipped:
                record["metrics_skipped"] = dict(score.skipped)
        self._score_evaluate(targets)
        apply_metric_checks(records, self.plan.checks)

    def _score_evaluate(self, targets: list[dict[str, Any]]) -> None:
        groups: dict[tuple[str, str | None], list[dict[str, Any]]] = {}
        for record in targets:
            groups.setdefault((record["model"], None), []).append(record)
            for tag in record.get("tags", []):
                groups.setdefault((record["model"], tag), []).append(record)
        for evaluator in self.evaluators:
            if evaluator.spec.options.per_case:
                for record in targets:
                    record["metrics"].update(evaluator.compute([record.get("output") or ""], [record["references"]]))
                continue
            for key, group in groups.items():
                values = evaluator.compute([r.get("output") or "" for r in group], [r["references"] for r in group])
                self.corpus_values.setdefault(key, {}).update(values)

    def add_to_summary(self, summary: dict[str, Any], records: Sequence[dict[str, Any]]) -> None:
        if self.plan.empty:
            return
        add_metric_summaries(summary, records, self.plan, self.corpus_values)
        summary["metric_settings"] = {
            **{name: options.model_dump() for name, options in self.plan.text},
            **({"classification": self.plan.classification.model_dump()} if self.plan.classification else {}),
            **{spec.entry: spec.options.model_dump() for spec in self.plan.evaluate},
        }


def skipped_warnings(records: Sequence[dict[str, Any]]) -> list[str]:
    """One warning per metric that skipped cases for their size: the metric, the limit, the cases."""
    by_metric: dict[str, list[tuple[str, str, str]]] = {}
    for record in records:
        for metric, reason in (record.get("metrics_skipped") or {}).items():
            by_metric.setdefault(metric, []).append((record["case_id"], record["model"], reason))
    lines = []
    for metric, skipped in by_metric.items():
        case_id, model, reason = skipped[0]
        more = f" (and {len(skipped) - 1} more)" if len(skipped) > 1 else ""
        lines.append(
            f"{metric} not computed for case '{case_id}' of model '{model}'{more}: {reason}; "
            f"left out of {metric}'s figures, not scored as zero"
        )
    return lines
