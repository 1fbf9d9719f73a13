"""Per-case scores: every planned metric of one output against its references.

Large runs are scored in worker processes (one per usable core); identical (output,
references) pairs, common with caching and repeats, are scored once.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from harness.metrics.classification import LabelExtractor
from harness.metrics.limits import over_limit
from harness.metrics.options import CLASSIFICATION_CASE_METRIC
from harness.metrics.plan import MetricPlan
from harness.metrics.rouge import RougeScorer
from harness.metrics.sacre import BleuScorer, ChrfScorer
from harness.metrics.squad import SquadNormalizer, squad_scores

# Each worker process gets at least this many distinct pairs: below that, starting it costs
# more than it saves.
PARALLEL_MIN_PAIRS = 500
CHUNKS_PER_WORKER = 4

Pair = tuple[str, tuple[str, ...]]  # (output, references)


@dataclass(slots=True)
class CaseScore:
    metrics: dict[str, float]
    stats: dict[str, list[int]]  # sufficient statistics of corpus metrics (bleu, chrf)
    label: tuple[str, str | None] | None = None  # (reference label, predicted label or None)
    skipped: dict[str, str] = field(default_factory=dict)  # metric -> why its text-size limit stopped it


class CaseScorer:
    """Scores one pair at a time; holds per-process caches (stems, tokenizers)."""

    def __init__(self, plan: MetricPlan) -> None:
        self.order = [name for name, _ in plan.text]
        # exact_match and token_f1 with the same options share one normalization of each text.
        squad: dict[SquadNormalizer, list[str]] = {}
        for name, options in plan.squad():
            squad.setdefault(SquadNormalizer(options.strict, options.case_sensitive), []).append(name)
        self.squad = list(squad.items())
        self.rouge = [(RougeScorer(use_stemmer), types) for use_stemmer, types in plan.rouge_groups().items()]
        self.bleu = BleuScorer(plan.bleu) if plan.bleu else None
        self.chrf = ChrfScorer(plan.chrf) if plan.chrf else None
        self.labels: LabelExtractor | None = None
        if plan.classification is not None:
            self.labels = LabelExtractor.from_options(plan.classification, plan.labels)

    def score(self, output: str, references: Sequence[str]) -> CaseScore:
        values: dict[str, float] = {}
        stats: dict[str, list[int]] = {}
        skipped = {
            name: reason for name in self.order if (reason := over_limit(name, output, references)) is not None
        }
        for normalizer, names in self.squad:
            if all(name in skipped for name in names):
                continue
            exact, f1 = squad_scores(output, references, normalizer)
            values.update({name: exact if name == "exact_match" else f1 for name in names if name not in skipped})
        for rouge, types in self.rouge:
            wanted = [kind for kind in types if kind not in skipped]
            if wanted:
                values.update(rouge.score(output, references, wanted))
        if self.bleu is not None and "bleu" not in skipped:
            stats["bleu"] = self.bleu.statistics(output, references)
            values["bleu"] = self.bleu.sentence(stats["bleu"])
        if self.chrf is not None and "chrf" not in skipped:
            stats["chrf"] = self.chrf.statistics(output, references)
            values["chrf"] = self.chrf.sentence(stats["chrf"])
        ordered = {name: values[name] for name in self.order if name in values}
        label = None
        if self.labels is not None:
            reference = self.labels.canonical(references[0])
            if reference is not None:
                predicted = self.labels.extract(output)
                label = (reference, predicted)
                ordered[CLASSIFICATION_CASE_METRIC] = 1.0 if predicted == reference else 0.0
        return CaseScore(ordered, stats, label, skipped)


_worker_scorer: CaseScorer | None = None


def _init_worker(plan: MetricPlan) -> None:
    global _worker_scorer
    _worker_scorer = CaseScorer(plan)


def _score_chunk(pairs: list[Pair]) -> list[CaseScore]:
    assert _worker_scorer is not None
    return [_worker_scorer.score(output, refs) for output, refs in pairs]


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def _context() -> Any:
    # fork starts a worker in milliseconds with the libraries already imported.
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else None)


def score_pairs(plan: MetricPlan, pairs: Sequence[Pair], workers: int | None = None) -> list[CaseScore]:
    """The score of every pair, in order. `workers` overrides the automatic choice."""
    # Pairs sharing references sit together, so each worker's reference caches get the hits.
    distinct = sorted(dict.fromkeys(pairs), key=lambda pair: pair[1])
    if workers is None:
        workers = min(usable_cores(), len(distinct) // PARALLEL_MIN_PAIRS) or 1
    if workers <= 1 or len(distinct) < 2:
        scorer = CaseScorer(plan)
        scores = [scorer.score(output, refs) for output, refs in distinct]
    else:
        CaseScorer(plan)  # import the libraries once, here: forked workers inherit them
        size = max(1, -(-len(distinct) // (workers * CHUNKS_PER_WORKER)))
        chunks = [distinct[i : i + size] for i in range(0, len(distinct), size)]
        with ProcessPoolExecutor(workers, mp_context=_context(), initializer=_init_worker, initargs=(plan,)) as pool:
            scores = [score for chunk in pool.map(_score_chunk, chunks) for score in chunk]
    by_pair = dict(zip(distinct, scores, strict=True))
    return [by_pair[pair] for pair in pairs]
