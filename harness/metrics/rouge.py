"""ROUGE-1/2/L/Lsum F-measures computed by rouge-score's own functions.

Equal to `rouge_score.rouge_scorer.RougeScorer(types, use_stemmer=...)` (`score_multi` with
several references: the best F-measure). Every step is rouge-score's: its tokenizer function
(`tokenize.tokenize`, what its `DefaultTokenizer` calls), `_create_ngrams` / `_score_ngrams`,
`scoring.fmeasure` and `_summary_level_lcs`. What we add is caching and one C-backed library:

- the Porter stemmer's `stem` is memoized (a text's tokens recur across cases);
- each reference's tokens, sentences and n-gram counts are computed once per process
  (references recur across models and repeats), each prediction's once for all references;
- ROUGE-L's longest common subsequence length comes from rapidfuzz's `LCSseq` on the token
  lists (C++, bit-parallel) instead of rouge-score's pure-Python table, and goes through
  rouge-score's `fmeasure` exactly as its `_score_lcs` does.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from harness.metrics.stemming import porter_stemmer, rouge_score_modules

REFERENCE_CACHE = 2**16  # reference texts whose preparation is kept per process
STEM_CACHE = 2**20  # distinct words whose stem is kept per process
_NGRAM_ORDERS = {"rouge1": 1, "rouge2": 2}


class MemoizedStemmer:
    """NLTK's PorterStemmer (as rouge-score builds it) with each word's stem computed once."""

    def __init__(self) -> None:
        self.stem = lru_cache(maxsize=STEM_CACHE)(porter_stemmer().stem)


@lru_cache(maxsize=1)
def memoized_stemmer() -> MemoizedStemmer:
    """One per process, shared by every scorer that stems."""
    return MemoizedStemmer()


@dataclass
class _Text:
    """A text as rouge-score sees it, with what each ROUGE type needs filled in on first use."""

    text: str
    tokens: list[str]
    sentences: list[list[str]] | None = None
    ngrams: dict[int, Counter[tuple[str, ...]]] = field(default_factory=dict)


class RougeScorer:
    """All requested ROUGE types of one prediction against its references, sharing tokenization."""

    def __init__(self, use_stemmer: bool = True) -> None:
        self._rouge = rouge_score_modules()
        self._stemmer: Any = memoized_stemmer() if use_stemmer else None
        self._reference = lru_cache(maxsize=REFERENCE_CACHE)(self._prepare)

    def tokenize(self, text: str) -> list[str]:
        """rouge-score's tokenization (what `DefaultTokenizer(use_stemmer).tokenize` runs)."""
        tokens: list[str] = self._rouge.tokenize.tokenize(text, self._stemmer)
        return tokens

    def _prepare(self, text: str) -> _Text:
        return _Text(text, self.tokenize(text))

    def _sentences(self, text: _Text) -> list[list[str]]:
        if text.sentences is None:
            # rouge-score's ROUGE-Lsum sentences: the non-empty lines, each tokenized.
            text.sentences = [self.tokenize(line) for line in text.text.split("\n") if line]
        return text.sentences

    def _ngrams(self, text: _Text, n: int) -> Counter[tuple[str, ...]]:
        if n not in text.ngrams:
            text.ngrams[n] = self._rouge.rouge_scorer._create_ngrams(text.tokens, n)
        return text.ngrams[n]

    def _rouge_l(self, target: _Text, prediction: _Text) -> float:
        """rouge-score's `_score_lcs` F-measure, with the LCS length from rapidfuzz."""
        from rapidfuzz.distance import LCSseq

        if not target.tokens or not prediction.tokens:
            return 0.0
        length = LCSseq.similarity(target.tokens, prediction.tokens)
        fmeasure: float = self._rouge.scoring.fmeasure(length / len(prediction.tokens), length / len(target.tokens))
        return fmeasure

    def _single(self, target: _Text, prediction: _Text, types: Sequence[str]) -> dict[str, float]:
        rouge_scorer = self._rouge.rouge_scorer
        scores: dict[str, float] = {}
        for kind in types:
            if kind in _NGRAM_ORDERS:
                n = _NGRAM_ORDERS[kind]
                scores[kind] = rouge_scorer._score_ngrams(self._ngrams(target, n), self._ngrams(prediction, n)).fmeasure
            elif kind == "rougeL":
                scores[kind] = self._rouge_l(target, prediction)
            elif kind == "rougeLsum":
                if "\n" not in target.text and "\n" not in prediction.text:
                    # An identity of the definition, not an approximation: with at most one
                    # sentence on each side, the union LCS is that pair's LCS, none of whose
                    # tokens the count clipping can drop, over the same tokens as ROUGE-L.
                    scores[kind] = scores["rougeL"] if "rougeL" in scores else self._rouge_l(target, prediction)
                else:
                    summary = rouge_scorer._summary_level_lcs(self._sentences(target), self._sentences(prediction))
                    scores[kind] = summary.fmeasure
            else:
                raise ValueError(f"unknown ROUGE type '{kind}'")
        return scores

    def score(self, prediction: str, references: Sequence[str], types: Sequence[str]) -> dict[str, float]:
        """F-measure per type, the best over the references for each type."""
        predicted = self._prepare(prediction)
        best: dict[str, float] = {}
        for reference in references:
            for kind, value in self._single(self._reference(reference), predicted, types).items():
                if kind not in best or value > best[kind]:
                    best[kind] = value
        return best
