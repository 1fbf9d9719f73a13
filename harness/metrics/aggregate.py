"""Run-level metric figures with 95 % bootstrap confidence intervals, from scored records.

Each figure is computed over the results that have the metric and says over how many (`n`):
- per-case metrics (exact match, F1, ROUGE, per-case `evaluate` values): the mean;
- BLEU and chrF: sacrebleu's corpus score from the summed per-case statistics (as papers
  report it), with the mean sentence score beside it;
- classification: scikit-learn's figures and confusion matrix.

The interval resamples cases (a case's repeats stay together) with the seeded bootstrap of
`harness.stats.bootstrap`. One resampling serves every metric of a block: each case is a row
of sums (metric values and counts, corpus statistics, confusion-matrix cells), so a resample
is a matrix product and ratios and corpus scores are recomputed from the resampled sums.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from harness.metrics.classification import UNMATCHED, confusion_cells, report, scores_from_confusion
from harness.metrics.options import CLASSIFICATION_AGGREGATES, CLASSIFICATION_CASE_METRIC, CORPUS_METRICS
from harness.metrics.plan import MetricPlan
from harness.metrics.sacre import BleuScorer, ChrfScorer
from harness.stats.bootstrap import (
    DEFAULT_RESAMPLES,
    DEFAULT_SEED,
    bootstrap_distribution,
    percentile_interval,
    resample_counts,
)

CONFIDENCE = 0.95


def _figure(value: float, distribution: NDArray[np.float64] | None, n: int) -> dict[str, Any]:
    ci = None
    if distribution is not None:
        finite = distribution[np.isfinite(distribution)]
        if len(finite):
            ci = percentile_interval(finite, CONFIDENCE).as_dict()
    return {"value": value, "ci": ci, "n": n}


class MetricAggregator:
    """Builds the `metrics` block of a group of records (a model, or a model's tag)."""

    def __init__(self, plan: MetricPlan, resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED) -> None:
        self.plan = plan
        self.resamples = resamples
        self.seed = seed
        self.corpus_scorers: dict[str, BleuScorer | ChrfScorer] = {}
        if plan.bleu is not None:
            self.corpus_scorers["bleu"] = BleuScorer(plan.bleu)
        if plan.chrf is not None:
            self.corpus_scorers["chrf"] = ChrfScorer(plan.chrf)

    def _mean_metrics(self, records: Sequence[dict[str, Any]]) -> list[str]:
        names: dict[str, None] = {}
        for record in records:
            for name in record["metrics"]:
                if name not in CORPUS_METRICS and name != CLASSIFICATION_CASE_METRIC:
                    names[name] = None
        return list(names)

    def block(
        self, records: Sequence[dict[str, Any]], corpus_values: dict[str, float] | None = None
    ) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """(metrics, classification) for these records; metrics maps name -> {value, ci, n}."""
        scored = [r for r in records if "metrics" in r]
        metrics: dict[str, Any] = {}
        classification: dict[str, Any] | None = None
        if not scored:
            return metrics, classification
        rows = {case_id: i for i, case_id in enumerate(dict.fromkeys(r["case_id"] for r in scored))}
        means = self._mean_metrics(scored)
        corpus = [name for name in CORPUS_METRICS if name in self.corpus_scorers]
        labels = self.plan.labels
        labelled = [r for r in scored if r.get("label")]

        # Column layout of the per-case matrix: (sum, count) per mean metric, then the corpus
        # statistics of each corpus metric, then the confusion-matrix cells.
        widths = {name: len(next((r["metric_stats"][name] for r in scored if name in r.get("metric_stats", {})), []))
                  for name in corpus}
        corpus_at: dict[str, int] = {}
        column = 2 * len(means)
        for name in corpus:
            corpus_at[name] = column
            column += widths[name]
        cells_at = column
        cells = len(labels) * (len(labels) + 1) if labelled else 0
        matrix = np.zeros((len(rows), cells_at + cells))
        for record in scored:
            row = rows[record["case_id"]]
            values = record["metrics"]
            for j, name in enumerate(means):
                if name in values:
                    matrix[row, 2 * j] += values[name]
                    matrix[row, 2 * j + 1] += 1
            for name in corpus:
                stats = record.get("metric_stats", {}).get(name)
                if stats:
                    matrix[row, corpus_at[name] : corpus_at[name] + len(stats)] += stats
            if cells and record.get("label"):
                label = record["label"]
                matrix[row, cells_at + confusion_cells(label["reference"], label["predicted"], labels)] += 1

        def statistic(indices: NDArray[np.intp]) -> NDArray[np.float64]:
            result: NDArray[np.float64] = resample_counts(indices, len(rows)) @ matrix
            return result

        sums = bootstrap_distribution(len(rows), statistic, self.resamples, self.seed) if matrix.shape[1] else None
        for j, name in enumerate(means):
            present = [r["metrics"][name] for r in scored if name in r["metrics"]]
            distribution = None
            if sums is not None:
                with np.errstate(invalid="ignore", divide="ignore"):
                    distribution = sums[:, 2 * j] / sums[:, 2 * j + 1]
            metrics[name] = _figure(sum(present) / len(present), distribution, len(present))
        for name in corpus:
            scorer = self.corpus_scorers[name]
            with_stats = [r for r in scored if name in r.get("metric_stats", {})]
            if not with_stats:
                continue
            totals = [sum(column_values) for column_values in zip(*(r["metric_stats"][name] for r in with_stats), strict=True)]
            distribution = None
            if sums is not None:
                distribution = scorer.corpus_many(sums[:, corpus_at[name] : corpus_at[name] + widths[name]])
            figure = _figure(scorer.corpus(totals), distribution, len(with_stats))
            sentence = [r["metrics"][name] for r in with_stats]
            figure["sentence_mean"] = sum(sentence) / len(sentence)
            metrics[name] = figure
        if cells:
            y_true = [r["label"]["reference"] for r in labelled]
            y_pred = [r["label"]["predicted"] for r in labelled]
            summary = report(y_true, y_pred, labels)
            assert sums is not None
            resampled = scores_from_confusion(sums[:, cells_at:], len(labels))
            for name in CLASSIFICATION_AGGREGATES:
                metrics[name] = _figure(summary["figures"][name], resampled.get(name), len(labelled))
            classification = {"confusion_matrix": summary["confusion_matrix"], UNMATCHED: summary[UNMATCHED]}
        for name, value in (corpus_values or {}).items():
            metrics[name] = {"value": value, "ci": None, "n": len(scored)}
        return metrics, classification


def add_metric_summaries(
    summary: dict[str, Any],
    records: Sequence[dict[str, Any]],
    plan: MetricPlan,
    corpus_values: dict[tuple[str, str | None], dict[str, float]] | None = None,
) -> None:
    """Add `metrics` (and `classification`) to each model's block and to each of its tag blocks."""
    aggregator = MetricAggregator(plan)
    corpus_values = corpus_values or {}
    by_model: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        by_model.setdefault(record["model"], []).append(record)
    for model, block in summary.get("models", {}).items():
        group = by_model.get(model, [])
        _attach(block, *aggregator.block(group, corpus_values.get((model, None))))
        by_tag: dict[str, list[dict[str, Any]]] = {}
        for record in group:
            for tag in record.get("tags", []):
                by_tag.setdefault(tag, []).append(record)
        for tag, tag_block in block.get("by_tag", {}).items():
            _attach(tag_block, *aggregator.block(by_tag.get(tag, []), corpus_values.get((model, tag))))


def _attach(block: dict[str, Any], metrics: dict[str, Any], classification: dict[str, Any] | None) -> None:
    if metrics:
        block["metrics"] = metrics
    if classification is not None:
        block["classification"] = classification
