"""BLEU and chrF equal to sacrebleu's, from per-case sufficient statistics.

sacrebleu reduces each segment to integer statistics (n-gram matches and totals, lengths) and
scores a corpus from their sums. We extract the same integers faster and hand them to
sacrebleu's own scoring functions, so sentence and corpus scores are sacrebleu's by
construction; the tests compare the integers and the scores with sacrebleu's.

- BLEU: sacrebleu's default 13a tokenizer, rewritten for speed (`tokenize_13a`); the other
  tokenizers are sacrebleu's own. N-grams are matched on packed integer codes of token ids.
- chrF: character n-grams of every order are packed into 64-bit integer codes (of the code
  points, or of the pair's own alphabet when code points are too large) and matched with one
  numpy sort, instead of one Counter per order and side. A pair whose alphabet is too large
  for 64-bit codes takes the plain Counter path.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache
from itertools import chain
from typing import Any

import numpy as np

from harness.metrics.ngrams import ngram_counts, shared_count
from harness.metrics.options import BleuOptions, ChrfOptions

REFERENCE_CACHE = 2**16  # texts whose preprocessing is kept per process

# sacrebleu's 13a rules (tokenizer_13a.py and tokenizer_re.py), rewritten for speed; the tests
# compare the tokens with sacrebleu's on fuzzed text. Rule 1 pads ASCII punctuation with spaces:
# `split` on a capturing group and `join` with spaces builds the same string without a Python
# call per match, and the space is left out of its class (padding a space is undone by the final
# split, and the later rules treat one space like three).
_PUNCTUATION = re.compile(r"([\{-\~\[-\`!-\&\(-\+\:-\@\/])")
# Rule 2, `([^0-9])([\.,]) -> \1 \2 `, pads a period or comma that follows a non-digit; as its
# matches consume the preceding character, within a run of periods/commas every other one is
# padded, starting with the first when a non-digit precedes the run, else with the second.
_PERIOD_COMMA_RUN = re.compile(r"[.,]+")
_DIGITS = frozenset("0123456789")
_SPLIT_PERIOD_COMMA_BEFORE = re.compile(r"([\.,])([^0-9])")
_SPLIT_DASH_AFTER_DIGIT = re.compile(r"([0-9])(-)")


def _pad_run(match: re.Match[str]) -> str:
    run, start = match.group(), match.start()
    first = 1 if start == 0 or match.string[start - 1] in _DIGITS else 0
    if len(run) == 1:
        return run if first else f" {run} "
    return "".join(f" {c} " if k >= first and (k - first) % 2 == 0 else c for k, c in enumerate(run))


def tokenize_13a(line: str) -> list[str]:
    """sacrebleu's Tokenizer13a, split into tokens."""
    line = line.replace("<skipped>", "").replace("-\n", "").replace("\n", " ")
    if "&" in line:
        line = line.replace("&quot;", '"').replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")
    line = " ".join(_PUNCTUATION.split(f" {line} "))
    line = _PERIOD_COMMA_RUN.sub(_pad_run, line)
    line = _SPLIT_PERIOD_COMMA_BEFORE.sub(r" \1 \2", line)
    line = _SPLIT_DASH_AFTER_DIGIT.sub(r"\1 \2 ", line)
    return line.split()


class BleuScorer:
    """sacrebleu BLEU: per-case statistics, sentence BLEU (effective order) and corpus BLEU."""

    def __init__(self, options: BleuOptions | None = None) -> None:
        from sacrebleu.metrics.bleu import BLEU

        self.options = options or BleuOptions()
        self.order = self.options.max_ngram_order
        self._bleu = BLEU
        self._tokenizer: Any = None
        if self.options.tokenize != "13a":
            self._tokenizer = BLEU(tokenize=self.options.tokenize).tokenizer
        # References recur (every model is scored against them): tokenize each once.
        self._reference_tokens = lru_cache(maxsize=REFERENCE_CACHE)(self.tokens)

    def tokens(self, text: str) -> list[str]:
        if self.options.lowercase:
            text = text.lower()
        text = text.rstrip()
        if self._tokenizer is None:
            return tokenize_13a(text)
        tokenized: str = self._tokenizer(text)
        return tokenized.split()

    def statistics(self, prediction: str, references: Sequence[str]) -> list[int]:
        """[hyp_len, ref_len, correct_1..N, total_1..N] as sacrebleu's `_compute_segment_statistics`."""
        order = self.order
        hyp = self.tokens(prediction)
        refs = [self._reference_tokens(ref) for ref in references]
        ref_len = _closest_length(len(hyp), [len(ref) for ref in refs])
        total = [max(len(hyp) - n + 1, 0) for n in range(1, order + 1)]
        correct = _clipped_matches_packed(hyp, refs, order)
        if correct is None:
            correct = _clipped_matches_counter(hyp, refs, order)
        return [len(hyp), ref_len, *correct, *total]

    def score(self, stats: Sequence[float], effective_order: bool) -> float:
        """BLEU from (summed) statistics, by sacrebleu's `compute_bleu`."""
        order = self.order
        counts = [int(x) for x in stats]  # integer-valued, also when summed as floats by the bootstrap
        result = self._bleu.compute_bleu(
            correct=counts[2 : 2 + order],
            total=counts[2 + order : 2 + 2 * order],
            sys_len=int(stats[0]),
            ref_len=int(stats[1]),
            smooth_method=self.options.smooth_method,
            smooth_value=self.options.smooth_value,
            effective_order=effective_order,
            max_ngram_order=order,
        )
        return float(result.score)

    def sentence(self, stats: Sequence[float]) -> float:
        return self.score(stats, effective_order=True)

    def corpus(self, stats: Sequence[float]) -> float:
        return self.score(stats, effective_order=False)

    def corpus_many(self, stats: np.ndarray[Any, Any]) -> np.ndarray[Any, np.dtype[np.float64]]:
        """Corpus BLEU of each row of summed statistics, shape (R, 2 + 2N): sacrebleu's
        `compute_bleu` (effective_order off) vectorized for bootstrap resamples."""
        order = self.order
        method, value = self.options.smooth_method, self.options.smooth_value
        if value is None:
            value = {"floor": 0.1, "add-k": 1.0}.get(method, 0.0)
        sys_len, ref_len = stats[:, 0], stats[:, 1]
        correct = stats[:, 2 : 2 + order].copy()
        total = stats[:, 2 + order : 2 + 2 * order].copy()
        with np.errstate(divide="ignore", invalid="ignore"):
            brevity = np.where(sys_len < ref_len, np.where(sys_len > 0, np.exp(1 - ref_len / sys_len), 0.0), 1.0)
            if method == "add-k":
                correct[:, 1:] += value
                total[:, 1:] += value
            zero_matches = correct == 0
            if method == "exp":
                # sacrebleu doubles its divisor at every order without a match so far.
                divisor = np.cumprod(np.where(zero_matches, 2.0, 1.0), axis=1) * total
                smoothed = 100.0 / divisor
            elif method == "floor":
                smoothed = 100.0 * value / total
            else:
                smoothed = np.zeros_like(total)
            precisions = np.where(zero_matches, smoothed, 100.0 * correct / total)
            # An order without n-grams ends sacrebleu's loop: it and every later order stay 0.
            reached = np.cumprod(total > 0, axis=1).astype(bool)
            precisions = np.where(reached, precisions, 0.0)
            logs = np.where(precisions > 0, np.log(np.where(precisions > 0, precisions, 1.0)), -9999999999.0)
            scores = brevity * np.exp(logs.sum(axis=1) / order)
        scores[stats[:, 2 : 2 + order].sum(axis=1) == 0] = 0.0  # sacrebleu returns 0 without any match
        result: np.ndarray[Any, np.dtype[np.float64]] = scores
        return result


def _clipped_matches_counter(hyp: list[str], refs: list[list[str]], order: int) -> list[int]:
    """Matched n-grams per order, each clipped to its largest count in any reference."""
    correct = [0] * order
    for n in range(1, min(order, len(hyp)) + 1):
        hyp_ngrams = ngram_counts(hyp, n)
        ref_ngrams: Counter[Any] = Counter()
        for ref in refs:
            for ngram, count in ngram_counts(ref, n).items():
                if count > ref_ngrams[ngram]:
                    ref_ngrams[ngram] = count
        correct[n - 1] = shared_count(hyp_ngrams, ref_ngrams)
    return correct


def _clipped_matches_packed(hyp: list[str], refs: list[list[str]], order: int) -> list[int] | None:
    """As `_clipped_matches_counter`, on packed integer codes of token ids; None if they won't fit."""
    if not hyp:
        return [0] * order
    tokens = dict.fromkeys(chain(hyp, *refs))
    vocabulary = {token: index for index, token in enumerate(tokens, 1)}
    hyp_ids = np.fromiter(map(vocabulary.__getitem__, hyp), dtype=np.int64, count=len(hyp))
    ref_ids = [np.fromiter(map(vocabulary.__getitem__, ref), dtype=np.int64, count=len(ref)) for ref in refs]
    bits = len(vocabulary).bit_length()
    if bits * order > 62:
        return None
    codes = np.sort(_packed_ngrams(hyp_ids, bits, order))
    starts = np.flatnonzero(np.concatenate(([True], codes[1:] != codes[:-1])))
    distinct = codes[starts]
    counts = np.diff(np.append(starts, len(codes)))
    clip = np.zeros_like(counts)
    for ids in ref_ids:
        if len(ids):
            ref_codes = np.sort(_packed_ngrams(ids, bits, order))
            found = np.searchsorted(ref_codes, distinct, "right") - np.searchsorted(ref_codes, distinct, "left")
            clip = np.maximum(clip, found)
    return _per_order(distinct, np.minimum(counts, clip), bits, order)


@lru_cache(maxsize=256)
def _order_thresholds(bits: int, order: int) -> np.ndarray[Any, Any]:
    return np.array([1 << (bits * k) for k in range(1, order)], dtype=np.int64)


def _per_order(codes: np.ndarray[Any, Any], matched: np.ndarray[Any, Any], bits: int, order: int) -> list[int]:
    """Sum of `matched` per n-gram order; `codes` are sorted, so each order is one slice."""
    bounds = np.searchsorted(codes, _order_thresholds(bits, order))
    running = np.concatenate(([0], np.cumsum(matched)))
    at_bounds = running[np.concatenate(([0], bounds, [len(codes)]))]
    per_order: list[int] = np.diff(at_bounds).astype(np.int64).tolist()
    return per_order


def _closest_length(hyp_len: int, ref_lens: list[int]) -> int:
    """sacrebleu's `_get_closest_ref_len`: the closest reference length, the shorter on a tie."""
    closest_diff, closest_len = -1, -1
    for ref_len in ref_lens:
        diff = abs(hyp_len - ref_len)
        if closest_diff == -1 or diff < closest_diff:
            closest_diff, closest_len = diff, ref_len
        elif diff == closest_diff and ref_len < closest_len:
            closest_len = ref_len
    return closest_len


def _code_points(text: str) -> np.ndarray[Any, np.dtype[np.int64]]:
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32).astype(np.int64)


def _packed_ngrams(indices: np.ndarray[Any, np.dtype[np.int64]], bits: int, order: int) -> np.ndarray[Any, Any]:
    """Codes of all n-grams, n = 1..order, in one array; an n-gram of 1-based indices
    i_0..i_{n-1} is sum(i_k << bits*k), which puts each order in its own range
    [2^(bits(n-1)), 2^(bits n))."""
    length = len(indices)
    orders = min(order, length)
    codes = np.empty(orders * length - orders * (orders - 1) // 2, dtype=np.int64)
    current = indices
    start = 0
    for n in range(1, orders + 1):
        if n > 1:
            current = current[:-1] | (indices[n - 1 :] << (bits * (n - 1)))
        codes[start : start + len(current)] = current
        start += len(current)
    return codes


def _char_matches_packed(hyp: str, ref: str, order: int) -> list[int] | None:
    """Matched character n-grams per order, or None when the codes would not fit 63 bits."""
    hyp_points, ref_points = _code_points(hyp), _code_points(ref)
    both = np.concatenate([hyp_points, ref_points])
    if len(hyp_points) == 0 or len(ref_points) == 0:
        return [0] * order
    bits = (int(both.max()) + 1).bit_length()
    if bits * order + 1 <= 63:
        indices = both + 1  # code points are small enough to be the indices themselves
    else:
        alphabet = np.unique(both)
        bits = len(alphabet).bit_length()
        if bits * order + 1 > 63:
            return None
        indices = np.searchsorted(alphabet, both) + 1
    # Tag each code with its side in the lowest bit, sort once, and pair up equal codes.
    hyp_codes = _packed_ngrams(indices[: len(hyp_points)], bits, order)
    codes = np.concatenate([hyp_codes, _packed_ngrams(indices[len(hyp_points) :], bits, order)])
    codes <<= 1
    codes[len(hyp_codes) :] |= 1
    codes.sort()
    starts = np.flatnonzero(np.concatenate(([True], codes[1:] != codes[:-1])))
    runs = np.diff(np.append(starts, len(codes)))
    values = codes[starts] >> 1
    shared = np.flatnonzero(values[1:] == values[:-1])  # a hyp run followed by a ref run of one n-gram
    return _per_order(values[shared], np.minimum(runs[shared], runs[shared + 1]), bits, order)


def _char_matches_counter(hyp: str, ref: str, order: int) -> list[int]:
    result = []
    for n in range(1, order + 1):
        hyp_ngrams = Counter(hyp[i : i + n] for i in range(len(hyp) - n + 1))
        ref_ngrams = Counter(ref[i : i + n] for i in range(len(ref) - n + 1))
        result.append(shared_count(hyp_ngrams, ref_ngrams))
    return result


class ChrfScorer:
    """sacrebleu chrF / chrF++: per-case statistics, sentence and corpus scores."""

    def __init__(self, options: ChrfOptions | None = None) -> None:
        from sacrebleu.metrics.chrf import CHRF

        self.options = options or ChrfOptions()
        o = self.options
        self._prepared_reference = lru_cache(maxsize=REFERENCE_CACHE)(self._prepare)
        self._chrf = CHRF(
            char_order=o.char_order,
            word_order=o.word_order,
            beta=o.beta,
            lowercase=o.lowercase,
            whitespace=o.whitespace,
            eps_smoothing=o.eps_smoothing,
        )

    def _prepare(self, text: str) -> tuple[str, list[Counter[Any]]]:
        if self.options.lowercase:
            text = text.lower()
        words: list[Counter[Any]] = []
        if self.options.word_order:
            tokens = self._chrf._remove_punctuation(text)
            words = [ngram_counts(tokens, n) for n in range(1, self.options.word_order + 1)]
        chars = text if self.options.whitespace else "".join(text.split())
        return chars, words

    def _pair_statistics(
        self, hyp: tuple[str, list[Counter[Any]]], ref: tuple[str, list[Counter[Any]]]
    ) -> list[int]:
        order = self.options.char_order
        (hyp_chars, hyp_words), (ref_chars, ref_words) = hyp, ref
        matches = _char_matches_packed(hyp_chars, ref_chars, order)
        if matches is None:
            matches = _char_matches_counter(hyp_chars, ref_chars, order)
        stats: list[int] = []
        for n in range(1, order + 1):
            hyp_count = max(len(hyp_chars) - n + 1, 0)
            ref_count = max(len(ref_chars) - n + 1, 0)
            # sacrebleu counts hypothesis n-grams only where the reference has some of that order.
            stats += [hyp_count if ref_count else 0, ref_count, matches[n - 1]]
        for hyp_ngrams, ref_ngrams in zip(hyp_words, ref_words, strict=True):
            matched = shared_count(hyp_ngrams, ref_ngrams)
            ref_total = sum(ref_ngrams.values())
            stats += [sum(hyp_ngrams.values()) if ref_total else 0, ref_total, matched]
        return stats

    def statistics(self, prediction: str, references: Sequence[str]) -> list[int]:
        """The statistics of the reference with the best chrF (the first on a tie), as sacrebleu."""
        hyp = self._prepare(prediction)
        best: list[int] = []
        best_score = -1.0
        for reference in references:
            stats = self._pair_statistics(hyp, self._prepared_reference(reference))
            score = self.score(stats)
            if score > best_score:
                best, best_score = stats, score
        return best

    def score(self, stats: Sequence[float]) -> float:
        """chrF from (summed) statistics, by sacrebleu's own f-score function."""
        return float(self._chrf._compute_f_score([int(x) for x in stats]))

    def sentence(self, stats: Sequence[float]) -> float:
        return self.score(stats)

    def corpus(self, stats: Sequence[float]) -> float:
        return self.score(stats)

    def corpus_many(self, stats: np.ndarray[Any, Any]) -> np.ndarray[Any, np.dtype[np.float64]]:
        """chrF of each row of summed statistics, shape (R, 3 * orders): sacrebleu's
        `_compute_f_score` vectorized for bootstrap resamples."""
        eps = 1e-16
        factor = self.options.beta**2
        hyp, ref, match = stats[:, 0::3], stats[:, 1::3], stats[:, 2::3]
        orders = hyp.shape[1]
        with np.errstate(divide="ignore", invalid="ignore"):
            precision = np.where(hyp > 0, match / hyp, eps)
            recall = np.where(ref > 0, match / ref, eps)
            if self.options.eps_smoothing:
                denominator = factor * precision + recall
                f = np.where(denominator > 0, (1 + factor) * precision * recall / denominator, eps)
                result: np.ndarray[Any, np.dtype[np.float64]] = 100 * f.sum(axis=1) / orders
                return result
            effective = (hyp > 0) & (ref > 0)
            count = effective.sum(axis=1)
            average_precision = np.where(count > 0, (precision * effective).sum(axis=1) / count, 0.0)
            average_recall = np.where(count > 0, (recall * effective).sum(axis=1) / count, 0.0)
            denominator = factor * average_precision + average_recall
            score = (1 + factor) * average_precision * average_recall / denominator
            result = np.where(average_precision + average_recall > 0, 100 * score, 0.0)
        return result
