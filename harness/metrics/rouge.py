"""ROUGE-1/2/L/Lsum F-measures with rouge-score's semantics, several times faster.

Equal to `rouge_score.rouge_scorer.RougeScorer(types, use_stemmer=...)` (`score_multi` with
several references: the best F-measure). What makes it fast:

- tokenization is rouge-score's (lowercase, runs of [a-z0-9], Porter stemming of tokens
  longer than 3), with each token's stem computed once per process;
- ROUGE-L's longest common subsequence comes from rapidfuzz (C++, bit-parallel);
- ROUGE-Lsum needs the LCS *positions* chosen by rouge-score's backtracking, which no library
  exposes, so `lcs_positions` reimplements that backtrack over bit-parallel LCS columns held in
  Python integers (a few integer operations per token instead of one Python step per table
  cell). Texts with at most one line of tokens each skip it: their ROUGE-Lsum is ROUGE-L.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache
from itertools import chain
from typing import Any, ClassVar

from harness.metrics.ngrams import ngram_counts, shared_count
from harness.metrics.stemming import porter_stemmer

_TOKEN = re.compile(r"[a-z0-9]+")
_VALID_TOKEN = re.compile(r"^[a-z0-9]+$")
_STEM_CACHE_LIMIT = 1_000_000
REFERENCE_CACHE = 2**16


def fmeasure(precision: float, recall: float) -> float:
    """rouge-score's F1, with its operation order so that results are bit-identical."""
    if precision + recall > 0:
        return 2 * precision * recall / (precision + recall)
    return 0.0


class RougeTokenizer:
    """rouge-score's DefaultTokenizer, with each distinct token's stem computed once per process."""

    _caches: ClassVar[dict[bool, dict[str, str | None]]] = {}

    def __init__(self, use_stemmer: bool) -> None:
        self._stemmer: Any = porter_stemmer() if use_stemmer else None
        self._cache = self._caches.setdefault(use_stemmer, {})

    def _final(self, token: str) -> str | None:
        if self._stemmer is not None and len(token) > 3:
            token = self._stemmer.stem(token)
        return token if _VALID_TOKEN.match(token) else None

    def tokenize(self, text: str) -> list[str]:
        cache = self._cache
        raw = _TOKEN.findall(text.lower())
        try:
            final = [cache[token] for token in raw]
        except KeyError:
            if len(cache) > _STEM_CACHE_LIMIT:
                cache.clear()
            for token in raw:
                if token not in cache:
                    cache[token] = self._final(token)
            final = [cache[token] for token in raw]
        if None in final:
            return [token for token in final if token is not None]
        return final  # type: ignore[return-value]


def rouge_n(target: Sequence[str], prediction: Sequence[str], n: int) -> float:
    """ROUGE-N F-measure of token lists (rouge-score's `_score_ngrams`)."""
    overlap = shared_count(ngram_counts(target, n), ngram_counts(prediction, n))
    precision = overlap / max(len(prediction) - n + 1, 1)
    recall = overlap / max(len(target) - n + 1, 1)
    return fmeasure(precision, recall)


def rouge_l(target: Sequence[str], prediction: Sequence[str]) -> float:
    """ROUGE-L F-measure of token lists (rouge-score's `_score_lcs`)."""
    if not target or not prediction:
        return 0.0
    from rapidfuzz.distance import LCSseq

    length = LCSseq.similarity(target, prediction)
    return fmeasure(length / len(prediction), length / len(target))


def _match_masks(tokens: Sequence[str]) -> dict[str, int]:
    """Bit i of masks[t] is set when tokens[i] == t."""
    masks: dict[str, int] = {}
    for position, token in enumerate(tokens):
        masks[token] = masks.get(token, 0) | (1 << position)
    return masks


def lcs_positions(reference: Sequence[str], candidate: Sequence[str], masks: dict[str, int] | None = None) -> list[int]:
    """Positions in `reference` of the LCS that rouge-score's `lcs_ind` returns.

    With T[i][j] the LCS length of reference[:i] and candidate[:j], rouge-score backtracks
    from (len(reference), len(candidate)): on equal tokens it takes the match, else it moves up
    (drops a reference token) when T[i-1][j] == T[i][j], else left. Column j of T is kept as an
    integer C_j whose bit i is set when T[i+1][j] == T[i][j] (the bit-parallel LCS of
    Allison-Dix and Hyyrö, one step per candidate token). The upward moves in a column then
    end at the highest row below i where the tokens match or C_j has a 0 bit: one bit_length.
    `masks` are `_match_masks(reference)`, when the caller has them.
    """
    height = len(reference)
    if not height or not candidate:
        return []
    masks = _match_masks(reference) if masks is None else masks
    full = (1 << height) - 1
    column = full
    columns = [column]
    for token in candidate:
        matches = column & masks.get(token, 0)
        column = ((column + matches) | (column - matches)) & full
        columns.append(column)
    i, j = height, len(candidate)
    positions = []
    while i > 0 and j > 0:
        matches = masks.get(candidate[j - 1], 0)
        stops = (matches | ~columns[j]) & ((1 << i) - 1)
        if not stops:
            break  # up to the first row: nothing more to match
        row = stops.bit_length() - 1
        if matches >> row & 1:
            positions.append(row)
            i = row
        else:
            i = row + 1
        j -= 1
    positions.reverse()
    return positions


def rouge_lsum(target_sentences: Sequence[Sequence[str]], prediction_sentences: Sequence[Sequence[str]]) -> float:
    """Summary-level ROUGE-L F-measure (rouge-score's `_summary_level_lcs`)."""
    if not target_sentences or not prediction_sentences:
        return 0.0
    target_total = sum(map(len, target_sentences))
    prediction_total = sum(map(len, prediction_sentences))
    if not target_total or not prediction_total:
        return 0.0
    target_counts = Counter(chain.from_iterable(target_sentences))
    prediction_counts = Counter(chain.from_iterable(prediction_sentences))
    hits = 0
    for sentence in target_sentences:
        masks = _match_masks(sentence)
        union: set[int] = set()
        for candidate in prediction_sentences:
            if not masks.keys().isdisjoint(candidate):
                union.update(lcs_positions(sentence, candidate, masks))
        for position in sorted(union):
            token = sentence[position]
            # rouge-score counts each token at most as often as it occurs on both sides.
            if prediction_counts[token] > 0 and target_counts[token] > 0:
                hits += 1
                prediction_counts[token] -= 1
                target_counts[token] -= 1
    return fmeasure(hits / prediction_total, hits / target_total)


class RougeScorer:
    """All requested ROUGE types of one prediction against its references, sharing tokenization."""

    def __init__(self, use_stemmer: bool = True) -> None:
        self.tokenizer = RougeTokenizer(use_stemmer)
        # References recur (every model is scored against them): tokenize each once.
        self._reference = lru_cache(maxsize=REFERENCE_CACHE)(self._text)

    def _text(self, text: str) -> tuple[list[str], list[list[str]]]:
        """Tokens of the whole text, and of each line that has tokens (ROUGE-Lsum's sentences;
        lines without tokens change nothing in rouge-score's summary-level LCS). Newlines
        separate tokens, so the whole text's tokens are its lines' tokens one after the other."""
        tokenize = self.tokenizer.tokenize
        if "\n" not in text:
            tokens = tokenize(text)
            return tokens, [tokens] if tokens else []
        lines = [tokens for tokens in (tokenize(line) for line in text.split("\n") if line) if tokens]
        return list(chain.from_iterable(lines)), lines

    def _single(
        self, target: tuple[list[str], list[list[str]]], prediction: tuple[list[str], list[list[str]]], types: Sequence[str]
    ) -> dict[str, float]:
        (target_tokens, target_lines), (pred_tokens, pred_lines) = target, prediction
        scores: dict[str, float] = {}
        for kind in types:
            if kind == "rouge1":
                scores[kind] = rouge_n(target_tokens, pred_tokens, 1)
            elif kind == "rouge2":
                scores[kind] = rouge_n(target_tokens, pred_tokens, 2)
            elif kind == "rougeL":
                scores[kind] = rouge_l(target_tokens, pred_tokens)
            elif kind == "rougeLsum":
                if len(target_lines) <= 1 and len(pred_lines) <= 1:
                    # At most one sentence each: the union LCS is the LCS, so ROUGE-Lsum is ROUGE-L.
                    scores[kind] = scores["rougeL"] if "rougeL" in scores else rouge_l(target_tokens, pred_tokens)
                else:
                    scores[kind] = rouge_lsum(target_lines, pred_lines)
            else:
                raise ValueError(f"unknown ROUGE type '{kind}'")
        return scores

    def score(self, prediction: str, references: Sequence[str], types: Sequence[str]) -> dict[str, float]:
        """F-measure per type, the best over the references for each type."""
        predicted = self._text(prediction)
        best: dict[str, float] = {}
        for reference in references:
            for kind, value in self._single(self._reference(reference), predicted, types).items():
                if kind not in best or value > best[kind]:
                    best[kind] = value
        return best
