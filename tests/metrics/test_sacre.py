"""BLEU and chrF equal sacrebleu's: tokens, per-case statistics, sentence and corpus scores."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import sacrebleu
from sacrebleu.metrics.bleu import BLEU
from sacrebleu.metrics.chrf import CHRF

from harness.metrics.options import BleuOptions, ChrfOptions
from harness.metrics.sacre import BleuScorer, ChrfScorer
from tests.metrics.corpus import varied_corpus

CORPUS = varied_corpus()
# Option variants run on the hand-picked pairs, the very long one and some random ones.
SMALL = CORPUS[:60]


def _streams(pairs: list[tuple[str, list[str]]]) -> list[list[Any]]:
    width = max(len(refs) for _, refs in pairs)
    return [[refs[i] if i < len(refs) else None for _, refs in pairs] for i in range(width)]


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




def test_recurring_references_stay_exact() -> None:
    # Every reference set is scored against many predictions: the cached reference side must
    # give what sacrebleu computes afresh each time (nothing mutated by earlier cases).
    bleu, chrf = BleuScorer(BleuOptions(smooth_method="add-k")), ChrfScorer(ChrfOptions(word_order=2))
    bleu_ref = BLEU(effective_order=True, smooth_method="add-k")
    chrf_ref = CHRF(word_order=2)
    reference_sets = [refs for _, refs in CORPUS[:30:3]]
    for _ in range(2):
        for prediction, _ in CORPUS[:30]:
            for references in reference_sets:
                expected = bleu_ref.sentence_score(prediction, references).score
                assert bleu.sentence(bleu.statistics(prediction, references)) == pytest.approx(expected, abs=1e-9)
                expected = chrf_ref.sentence_score(prediction, references).score
                assert chrf.sentence(chrf.statistics(prediction, references)) == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize(
    ("metric", "options"),
    [
        ("bleu", {}),
        ("bleu", {"smooth_method": "add-k", "smooth_value": 2}),
        ("bleu", {"smooth_method": "floor", "max_ngram_order": 2}),
        ("chrf", {}),
        ("chrf", {"word_order": 2, "eps_smoothing": True}),
    ],
)
def test_bootstrap_rows_equal_sacrebleu_on_resampled_corpora(metric: str, options: dict[str, Any]) -> None:
    # The bootstrap sums per-case statistics of resampled cases (as floats, in numpy) and
    # scores each row; that must be sacrebleu's corpus score of the resampled corpus.
    pairs = SMALL
    if metric == "bleu":
        scorer: BleuScorer | ChrfScorer = BleuScorer(BleuOptions(**options))
        reference: BLEU | CHRF = BLEU(**options)
    else:
        scorer, reference = ChrfScorer(ChrfOptions(**options)), CHRF(**options)
    stats = np.array([scorer.statistics(p, refs) for p, refs in pairs], dtype=float)
    rng = np.random.default_rng(5)
    resamples = [rng.integers(0, len(pairs), len(pairs)) for _ in range(6)]
    resamples.append(np.array([1, 3, 3]))  # tiny corpora: empty predictions and references, zero matches
    resamples.append(np.array([2]))
    sums = np.array([stats[indices].sum(axis=0) for indices in resamples])
    got = scorer.corpus_many(sums)
    for value, indices in zip(got, resamples, strict=True):
        chosen = [pairs[i] for i in indices]
        expected = reference.corpus_score([p for p, _ in chosen], _streams(chosen)).score
        assert value == pytest.approx(expected, abs=1e-9)
