"""BLEU and chrF computed by sacrebleu's own metric objects, from per-case statistics.

sacrebleu reduces each segment to integer statistics (n-gram matches and totals, lengths) and
scores a corpus from their sums. We call the same steps its `sentence_score`/`corpus_score`
run, one level lower, so that each can be cached and reused:

- `_preprocess_segment` (lowercasing, its tokenizer, which lru-caches tokenized lines);
- `_extract_reference_info` once per distinct reference set (references recur across models
  and repeats), `_compute_segment_statistics` per case;
- scores from (summed) statistics with `BLEU.compute_bleu` / `CHRF._compute_f_score`, per case
  (sentence BLEU with effective order), per run (corpus score) and per bootstrap resample.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np

from harness.metrics.options import BleuOptions, ChrfOptions

REFERENCE_CACHE = 2**16  # distinct reference sets whose n-grams are kept per process


class _SegmentStatistics(ABC):
    """Per-case statistics from a sacrebleu metric object, the reference side cached."""

    def __init__(self, metric: Any) -> None:
        self._metric = metric
        self._references = lru_cache(maxsize=REFERENCE_CACHE)(self._reference_info)

    def _reference_info(self, references: tuple[str, ...]) -> dict[str, Any]:
        info: dict[str, Any] = self._metric._extract_reference_info([self._metric._preprocess_segment(r) for r in references])
        return info

    def statistics(self, prediction: str, references: Sequence[str]) -> list[int]:
        """sacrebleu's segment statistics of one case (with several references, as sacrebleu
        combines them)."""
        hypothesis = self._metric._preprocess_segment(prediction)
        stats: list[int] = self._metric._compute_segment_statistics(hypothesis, self._references(tuple(references)))
        return stats

    @abstractmethod
    def score(self, stats: Sequence[float]) -> float:
        """The corpus score of (summed) statistics."""

    def corpus_many(self, stats: np.ndarray[Any, Any]) -> np.ndarray[Any, np.dtype[np.float64]]:
        """The corpus score of each row of summed statistics (bootstrap resamples), one sacrebleu
        call per row."""
        return np.array([self.score(row) for row in stats.tolist()], dtype=np.float64)


class BleuScorer(_SegmentStatistics):
    """sacrebleu BLEU: per-case statistics, sentence BLEU (effective order) and corpus BLEU."""

    def __init__(self, options: BleuOptions | None = None) -> None:
        from sacrebleu.metrics.bleu import BLEU

        self.options = o = options or BleuOptions()
        self.order = o.max_ngram_order
        self._bleu = BLEU
        super().__init__(
            BLEU(
                lowercase=o.lowercase,
                tokenize=o.tokenize,
                smooth_method=o.smooth_method,
                smooth_value=o.smooth_value,
                max_ngram_order=o.max_ngram_order,
                effective_order=True,
            )
        )

    def _compute(self, stats: Sequence[float], effective_order: bool) -> float:
        """BLEU from (summed) statistics, by sacrebleu's `compute_bleu`."""
        order = self.order
        # Integer-valued, also when summed as floats by the bootstrap; fresh lists, as
        # compute_bleu adds add-k smoothing to them in place.
        counts = [int(x) for x in stats]
        result = self._bleu.compute_bleu(
            correct=counts[2 : 2 + order],
            total=counts[2 + order : 2 + 2 * order],
            sys_len=counts[0],
            ref_len=counts[1],
            smooth_method=self.options.smooth_method,
            smooth_value=self.options.smooth_value,
            effective_order=effective_order,
            max_ngram_order=order,
        )
        return float(result.score)

    def score(self, stats: Sequence[float]) -> float:
        """Corpus BLEU (no effective order), as `corpus_bleu` reports it."""
        return self._compute(stats, effective_order=False)

    def sentence(self, stats: Sequence[float]) -> float:
        return self._compute(stats, effective_order=True)

    def corpus(self, stats: Sequence[float]) -> float:
        return self.score(stats)


class ChrfScorer(_SegmentStatistics):
    """sacrebleu chrF / chrF++: per-case statistics, sentence and corpus scores."""

    def __init__(self, options: ChrfOptions | None = None) -> None:
        from sacrebleu.metrics.chrf import CHRF

        self.options = o = options or ChrfOptions()
        super().__init__(
            CHRF(
                char_order=o.char_order,
                word_order=o.word_order,
                beta=o.beta,
                lowercase=o.lowercase,
                whitespace=o.whitespace,
                eps_smoothing=o.eps_smoothing,
            )
        )

    def score(self, stats: Sequence[float]) -> float:
        """chrF from (summed) statistics, by sacrebleu's own f-score function."""
        return float(self._metric._compute_f_score([int(x) for x in stats]))

    def sentence(self, stats: Sequence[float]) -> float:
        return self.score(stats)

    def corpus(self, stats: Sequence[float]) -> float:
        return self.score(stats)
