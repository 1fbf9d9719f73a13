"""BLEU and chrF equal sacrebleu's: tokens, per-case statistics, sentence and corpus scores."""

from __future__ import annotations

import random
from typing import Any

import pytest
import sacrebleu
from sacrebleu.metrics.bleu import BLEU
from sacrebleu.metrics.chrf import CHRF
from sacrebleu.tokenizers.tokenizer_13a import Tokenizer13a

from harness.metrics.options import BleuOptions, ChrfOptions
from harness.metrics.sacre import (
    BleuScorer,
    ChrfScorer,
    _char_matches_counter,
    _char_matches_packed,
    _clipped_matches_counter,
    _clipped_matches_packed,
    tokenize_13a,
)
from tests.metrics.corpus import varied_corpus

CORPUS = varied_corpus()
# Option variants run on the hand-picked pairs, the very long one and some random ones.
SMALL = CORPUS[:60]


def _streams(pairs: list[tuple[str, list[str]]]) -> list[list[Any]]:
    width = max(len(refs) for _, refs in pairs)
    return [[refs[i] if i < len(refs) else None for _, refs in pairs] for i in range(width)]


def test_13a_tokens_equal_sacrebleu_on_fuzzed_text() -> None:
    reference = Tokenizer13a()
    rng = random.Random(2)
    alphabet = [*"ab9 0.,.-\n-\n&;<>\"'!?()[]{}/\\@#$%^*_+=|~`:", "&amp;", "&lt;", "&quot;", "<skipped>", "é", "😀", "\t"]
    for _ in range(30000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 16)))
        assert tokenize_13a(text) == reference(text).split(), repr(text)
    for prediction, references in CORPUS:
        for text in (prediction, *references):
            assert tokenize_13a(text.rstrip()) == reference(text.rstrip()).split()


def test_bleu_statistics_equal_sacrebleu() -> None:
    ours, theirs = BleuScorer(), BLEU()
    for prediction, references in CORPUS:
        expected = theirs._extract_corpus_statistics([prediction], [[r] for r in references])[0]
        assert ours.statistics(prediction, references) == expected


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"tokenize": "intl"},
        {"tokenize": "char"},
        {"tokenize": "none"},
        {"tokenize": "zh"},
        {"lowercase": True},
        {"smooth_method": "floor", "smooth_value": 0.2},
        {"smooth_method": "add-k", "smooth_value": 2},
        {"smooth_method": "none"},
        {"max_ngram_order": 2},
    ],
)
def test_sentence_and_corpus_bleu_equal_sacrebleu(options: dict[str, Any]) -> None:
    corpus = CORPUS if not options else SMALL
    ours = BleuScorer(BleuOptions(**options))
    sentence = BLEU(effective_order=True, **options)
    stats = []
    for prediction, references in corpus:
        case_stats = ours.statistics(prediction, references)
        stats.append(case_stats)
        expected = sentence.sentence_score(prediction, references).score
        assert ours.sentence(case_stats) == pytest.approx(expected, abs=1e-9), prediction[:60]
    predictions = [p for p, _ in corpus]
    expected_corpus = BLEU(**options).corpus_score(predictions, _streams(corpus)).score
    totals = [sum(column) for column in zip(*stats, strict=True)]
    assert ours.corpus(totals) == pytest.approx(expected_corpus, abs=1e-9)


def test_sentence_bleu_equals_the_sacrebleu_function() -> None:
    ours = BleuScorer()
    for prediction, references in CORPUS[:60]:
        expected = sacrebleu.sentence_bleu(prediction, references).score
        assert ours.sentence(ours.statistics(prediction, references)) == pytest.approx(expected, abs=1e-9)


def test_packed_and_counter_matching_agree() -> None:
    rng = random.Random(4)
    words = ["a", "b", "c", "the", "x"]
    for _ in range(3000):
        hyp = [rng.choice(words) for _ in range(rng.randint(0, 10))]
        refs = [[rng.choice(words) for _ in range(rng.randint(0, 10))] for _ in range(rng.randint(1, 3))]
        assert _clipped_matches_packed(hyp, refs, 4) == _clipped_matches_counter(hyp, refs, 4)
        assert _char_matches_packed("".join(hyp), "".join(refs[0]), 6) == _char_matches_counter("".join(hyp), "".join(refs[0]), 6)


def test_huge_vocabularies_fall_back_to_counters() -> None:
    # 40,000 distinct tokens need 16 bits each: 4-grams do not fit 62 bits.
    hyp = [f"t{i}" for i in range(40_000)]
    assert _clipped_matches_packed(hyp, [hyp[::-1]], 4) is None
    ours = BleuScorer()
    text = " ".join(hyp)
    expected = BLEU()._extract_corpus_statistics([text], [[" ".join(hyp[:20_000])]])[0]
    assert ours.statistics(text, [" ".join(hyp[:20_000])]) == expected
    # 1,100 distinct CJK characters: more than 10 bits per character, the chrF counter path.
    cjk = "".join(chr(0x4E00 + i) for i in range(1100))
    assert _char_matches_packed(cjk, cjk[::-1], 6) is None
    chrf = ChrfScorer()
    assert chrf.statistics(cjk, [cjk[:900]]) == CHRF()._extract_corpus_statistics([cjk], [[cjk[:900]]])[0]


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"word_order": 2},
        {"lowercase": True},
        {"whitespace": True},
        {"eps_smoothing": True},
        {"char_order": 4, "beta": 1},
        {"char_order": 10},
    ],
)
def test_chrf_equals_sacrebleu(options: dict[str, Any]) -> None:
    corpus = CORPUS if not options else SMALL
    ours, theirs = ChrfScorer(ChrfOptions(**options)), CHRF(**options)
    stats = []
    for prediction, references in corpus:
        case_stats = ours.statistics(prediction, references)
        assert case_stats == theirs._extract_corpus_statistics([prediction], [[r] for r in references])[0]
        stats.append(case_stats)
        assert ours.sentence(case_stats) == pytest.approx(theirs.sentence_score(prediction, references).score, abs=1e-9)
    totals = [sum(column) for column in zip(*stats, strict=True)]
    expected = theirs.corpus_score([p for p, _ in corpus], _streams(corpus)).score
    assert ours.corpus(totals) == pytest.approx(expected, abs=1e-9)


def test_edge_cases_against_sacrebleu_functions() -> None:
    bleu, chrf = BleuScorer(), ChrfScorer()
    for prediction, reference in [("", "text"), ("text", ""), ("", ""), ("  \n ", "text"), ("...", "...")]:
        assert bleu.sentence(bleu.statistics(prediction, [reference])) == pytest.approx(
            sacrebleu.sentence_bleu(prediction, [reference]).score, abs=1e-9
        )
        assert chrf.sentence(chrf.statistics(prediction, [reference])) == pytest.approx(
            sacrebleu.sentence_chrf(prediction, [reference]).score, abs=1e-9
        )
    # A perfect answer scores 100 on both scales.
    assert bleu.sentence(bleu.statistics("the cat sat on the mat", ["the cat sat on the mat"])) == pytest.approx(100)
    assert chrf.sentence(chrf.statistics("the cat sat on the mat", ["the cat sat on the mat"])) == pytest.approx(100)


def _random_statistics(rng: random.Random, order: int, rows: int) -> list[list[int]]:
    """Sufficient statistics as sums of cases: lengths, matches <= totals, zeros included."""
    result = []
    for _ in range(rows):
        hyp_len = rng.choice([0, 1, 2, 3, 5, 40, 300])
        totals = [max(hyp_len - n, 0) for n in range(order)]
        correct = [rng.randint(0, t) if rng.random() > 0.2 else 0 for t in totals]
        result.append([hyp_len, rng.choice([0, 1, 4, 40, 310]), *correct, *totals])
    return result


@pytest.mark.parametrize(
    "options",
    [{}, {"smooth_method": "floor"}, {"smooth_method": "floor", "smooth_value": 0.3}, {"smooth_method": "add-k"},
     {"smooth_method": "none"}, {"max_ngram_order": 2}],
)
def test_vectorized_corpus_bleu_equals_sacrebleu(options: dict[str, Any]) -> None:
    import numpy as np

    scorer = BleuScorer(BleuOptions(**options))
    rows = _random_statistics(random.Random(8), scorer.order, 400)
    got = scorer.corpus_many(np.array(rows, dtype=float))
    assert got.tolist() == pytest.approx([scorer.corpus(row) for row in rows], rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("options", [{}, {"eps_smoothing": True}, {"beta": 1, "char_order": 3, "word_order": 2}])
def test_vectorized_chrf_equals_sacrebleu(options: dict[str, Any]) -> None:
    import numpy as np

    scorer = ChrfScorer(ChrfOptions(**options))
    orders = scorer.options.char_order + scorer.options.word_order
    rng = random.Random(9)
    rows = []
    for _ in range(400):
        row = []
        for _ in range(orders):
            hyp, ref = rng.choice([0, 1, 7, 90]), rng.choice([0, 1, 8, 95])
            row += [hyp, ref, rng.randint(0, min(hyp, ref))]
        rows.append(row)
    got = scorer.corpus_many(np.array(rows, dtype=float))
    assert got.tolist() == pytest.approx([scorer.corpus(row) for row in rows], rel=1e-12, abs=1e-12)
