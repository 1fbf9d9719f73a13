"""ROUGE-1/2/L/Lsum F-measures with rouge-score's semantics, several times faster.

Equal to `rouge_score.rouge_scorer.RougeScorer(types, use_stemmer=...)` (`score_multi` with
several references: the best F-measure). What makes it fast:

- tokenization is rouge-score's (lowercase, runs of [a-z0-9], Porter stemming of tokens
  longer than 3), with each token's stem computed once per process;
- ROUGE-L's longest common subsequence comes from rapidfuzz (C++, bit-parallel);
- ROUGE-Lsum needs the LCS *positions* chosen by rouge-score's backtracking, which no library
  exposes, so `_backtrack` reimplements that backtrack over bit-parallel LCS columns held in
  Python integers, all target sentences side by side in one integer (a few integer
  operations per token instead of one Python step per table cell). Texts with at most one
  line of tokens each skip it: their ROUGE-Lsum is ROUGE-L.
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


def _lane_masks(sentences: Sequence[Sequence[str]]) -> tuple[dict[str, int], list[int], int]:
    """Sentences side by side in one integer: sentence k owns bits offsets[k] .. offsets[k] +
    len - 1, followed by a guard bit. Returns (masks, offsets, full): bit offsets[k] + i of
    masks[t] is set when sentences[k][i] == t; full has every bit but the guards."""
    masks: dict[str, int] = {}
    offsets = []
    full = 0
    at = 0
    for sentence in sentences:
        offsets.append(at)
        for position, token in enumerate(sentence):
            masks[token] = masks.get(token, 0) | (1 << (at + position))
        full |= ((1 << len(sentence)) - 1) << at
        at += len(sentence) + 1
    return masks, offsets, full


def _columns(candidate_masks: list[int], full: int) -> list[int]:
    """Bit-parallel LCS (Allison-Dix, Hyyrö) of every reference lane against one candidate.

    With T[i][j] the LCS length of reference[:i] and candidate[:j], column j is an integer
    C_j whose bit i (within a lane) is set when T[i+1][j] == T[i][j]. A carry out of a lane
    stops in its guard bit, which the mask clears, so lanes never interact.
    """
    column = full
    columns = [column]
    for matches in candidate_masks:
        matched = column & matches
        column = ((column + matched) | (column - matched)) & full
        columns.append(column)
    return columns


def _backtrack(columns: list[int], candidate_masks: list[int], offset: int, height: int) -> list[int]:
    """Reference positions of the LCS rouge-score's `lcs_ind` picks, for the lane at `offset`.

    rouge-score backtracks from (height, len(candidate)): on equal tokens it takes the match,
    else it moves up (drops a reference token) when T[i-1][j] == T[i][j], else left. Moving up
    column j ends at the highest row below i where the tokens match or C_j has a 0 bit, so each
    column takes one bit_length instead of one step per row.
    """
    i, j = height, len(candidate_masks)
    positions = []
    while i > 0 and j > 0:
        matches = candidate_masks[j - 1] >> offset
        stops = (matches | ~(columns[j] >> offset)) & ((1 << i) - 1)
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


def lcs_positions(reference: Sequence[str], candidate: Sequence[str]) -> list[int]:
    """Positions in `reference` of the LCS that rouge-score's `lcs_ind` returns."""
    if not reference or not candidate:
        return []
    masks, _, full = _lane_masks([reference])
    candidate_masks = [masks.get(token, 0) for token in candidate]
    return _backtrack(_columns(candidate_masks, full), candidate_masks, 0, len(reference))


def rouge_lsum(target_sentences: Sequence[Sequence[str]], prediction_sentences: Sequence[Sequence[str]]) -> float:
    """Summary-level ROUGE-L F-measure (rouge-score's `_summary_level_lcs`).

    Every target sentence is a lane of one integer, so one bit-parallel pass per prediction
    sentence serves all target sentences; the backtracks are per pair, as rouge-score's.
    """
    if not target_sentences or not prediction_sentences:
        return 0.0
    target_total = sum(map(len, target_sentences))
    prediction_total = sum(map(len, prediction_sentences))
    if not target_total or not prediction_total:
        return 0.0
    masks, offsets, full = _lane_masks(target_sentences)
    unions: list[set[int]] = [set() for _ in target_sentences]
    for candidate in prediction_sentences:
        candidate_masks = [masks.get(token, 0) for token in candidate]
        shared = 0
        for matches in candidate_masks:
            shared |= matches
        if not shared:
            continue
        columns = _columns(candidate_masks, full)
        for union, sentence, offset in zip(unions, target_sentences, offsets, strict=True):
            if shared >> offset & ((1 << len(sentence)) - 1):
                union.update(_backtrack(columns, candidate_masks, offset, len(sentence)))
    target_counts = Counter(chain.from_iterable(target_sentences))
    prediction_counts = Counter(chain.from_iterable(prediction_sentences))
    hits = 0
    for union, sentence in zip(unions, target_sentences, strict=True):
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
