"""Run-level metric figures with 95 % bootstrap confidence intervals, from scored records.

Each figure is computed over the results that have the metric and says over how many (`n`):
- per-case metrics (exact match, F1, ROUGE, per-case `evaluate` values): the mean;
- BLEU and chrF: sacrebleu's corpus score from the summed per-case statistics (as papers
  report it), with the mean sentence score beside it;
- classification: scikit-learn's figures and confusion matrix.

Means of metrics bounded in [0, 1] (exact match, token F1, ROUGE) get bounds that hold at every
n (`harness.stats.bounds`: exact binomial for 0/1 values, Hoeffding–Bentkus otherwise, cases as
the unit): `ci` (two-sided 95 %), `lower_bound` and `upper_bound` (one-sided 95 %). Other
figures (corpus BLEU and chrF, classification, `evaluate` metrics of unknown range) get the
same fields from a percentile bootstrap, marked `method: bootstrap`: approximate at small n.
The bootstrap resamples cases (a case's repeats stay together) with the seeded bootstrap of
`harness.stats.bootstrap`. One resampling serves every metric of a block: each case is a row
of sums (metric values and counts, corpus statistics, confusion-matrix cells), so a resample
is a matrix product and ratios and corpus scores are recomputed from the resampled sums.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from harness.metrics.classification import UNMATCHED, confusion_cells, report, scores_from_confusion
from harness.metrics.options import (
    CLASSIFICATION_AGGREGATES,
    CLASSIFICATION_CASE_METRIC,
    CORPUS_METRICS,
    ROUGE_METRICS,
    SQUAD_METRICS,
)
from harness.metrics.plan import MetricPlan
from harness.metrics.sacre import BleuScorer, ChrfScorer
from harness.stats.bootstrap import (
    DEFAULT_RESAMPLES,
    DEFAULT_SEED,
    bootstrap_distribution,
    percentile_interval,
    resample_counts,
)
from harness.stats.bounds import CONFIDENCE, mean_bounds

UNIT_RANGE_METRICS = (*SQUAD_METRICS, *ROUGE_METRICS)  # per-case values in [0, 1]


def _figure(value: float, distribution: NDArray[np.float64], n: int) -> dict[str, Any]:
    finite = distribution[np.isfinite(distribution)]  # a resample without the metric has no value
    if not len(finite):
        return {"value": value, "ci": None, "n": n}
    low, high = np.quantile(finite, [1.0 - CONFIDENCE, CONFIDENCE])
    return {
        "value": value,
        "ci": percentile_interval(finite, CONFIDENCE).as_dict(),
        "n": n,
        "lower_bound": float(low),
        "upper_bound": float(high),
        "method": "bootstrap",
    }


def _mean_figure(name: str, values: list[float], cases: list[str], distribution: NDArray[np.float64]) -> dict[str, Any]:
    """A mean metric: bounds valid at every n when its range is known, else the bootstrap's."""
    figure = _figure(sum(values) / len(values), distribution, len(values))
    if name in UNIT_RANGE_METRICS:
        bounds = mean_bounds(np.clip(values, 0.0, 1.0), 0.0, 1.0, cases, CONFIDENCE)
        if bounds is not None:
            figure.update(bounds.as_dict(), units=bounds.n, range=[0.0, 1.0])
    return figure


@dataclass
class _Columns:
    """Layout of the per-case matrix: (sum, count) per mean metric, the statistics of each
    corpus metric, then the confusion-matrix cells."""

    means: list[str]
    corpus: dict[str, slice]
    cells: slice
    width: int


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

    def _columns(self, scored: Sequence[dict[str, Any]]) -> _Columns:
        means = list(
            dict.fromkeys(
                name
                for record in scored
                for name in record["metrics"]
                if name not in CORPUS_METRICS and name != CLASSIFICATION_CASE_METRIC
            )
        )
        at = 2 * len(means)
        corpus: dict[str, slice] = {}
        for name in self.corpus_scorers:
            width = next((len(r["metric_stats"][name]) for r in scored if name in r.get("metric_stats", {})), 0)
            if width:
                corpus[name] = slice(at, at + width)
                at += width
        labels = self.plan.labels
        cells = len(labels) * (len(labels) + 1) if any(r.get("label") for r in scored) else 0
        return _Columns(means, corpus, slice(at, at + cells), at + cells)

    def _case_matrix(self, scored: Sequence[dict[str, Any]], rows: dict[str, int], columns: _Columns) -> NDArray[np.float64]:
        """One row per case: the sums over its results that every figure is computed from."""
        matrix = np.zeros((len(rows), columns.width))
        labels = self.plan.labels
        for record in scored:
            row = matrix[rows[record["case_id"]]]
            values = record["metrics"]
            for j, name in enumerate(columns.means):
                if name in values:
                    row[2 * j] += values[name]
                    row[2 * j + 1] += 1
            for name, where in columns.corpus.items():
                stats = record.get("metric_stats", {}).get(name)
                if stats:
                    row[where] += stats
            label = record.get("label")
            if label and columns.cells.stop > columns.cells.start:
                row[columns.cells.start + confusion_cells(label["reference"], label["predicted"], labels)] += 1
        return matrix

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
        columns = self._columns(scored)
        matrix = self._case_matrix(scored, rows, columns)

        def statistic(indices: NDArray[np.intp]) -> NDArray[np.float64]:
            result: NDArray[np.float64] = resample_counts(indices, len(rows)) @ matrix
            return result

        sums = np.zeros((0, 0))
        if columns.width:
            sums = bootstrap_distribution(len(rows), statistic, self.resamples, self.seed)
        for j, name in enumerate(columns.means):
            having = [r for r in scored if name in r["metrics"]]
            with np.errstate(invalid="ignore", divide="ignore"):
                distribution = sums[:, 2 * j] / sums[:, 2 * j + 1]
            metrics[name] = _mean_figure(
                name, [float(r["metrics"][name]) for r in having], [str(r["case_id"]) for r in having], distribution
            )
        for name, where in columns.corpus.items():
            scorer = self.corpus_scorers[name]
            with_stats = [r for r in scored if name in r.get("metric_stats", {})]
            totals = [sum(values) for values in zip(*(r["metric_stats"][name] for r in with_stats), strict=True)]
            figure = _figure(scorer.corpus(totals), scorer.corpus_many(sums[:, where]), len(with_stats))
            figure["sentence_mean"] = sum(r["metrics"][name] for r in with_stats) / len(with_stats)
            metrics[name] = figure
        if columns.cells.stop > columns.cells.start:
            labelled = [r for r in scored if r.get("label")]
            result = report([r["label"]["reference"] for r in labelled], [r["label"]["predicted"] for r in labelled], self.plan.labels)
            resampled = scores_from_confusion(sums[:, columns.cells], len(self.plan.labels))
            for name in CLASSIFICATION_AGGREGATES:
                metrics[name] = _figure(result["figures"][name], resampled[name], len(labelled))
            classification = {"confusion_matrix": result["confusion_matrix"], UNMATCHED: result[UNMATCHED]}
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
