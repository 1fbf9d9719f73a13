"""ROUGE equals rouge-score's on a varied corpus; the LCS backtrack and the stemmer equal theirs."""

from __future__ import annotations

import random
import subprocess
import sys

import pytest
from rouge_score import rouge_scorer
from rouge_score import tokenize as rouge_tokenize

from harness.metrics.options import ROUGE_METRICS
from harness.metrics.rouge import RougeScorer, RougeTokenizer, lcs_positions, rouge_lsum
from tests.metrics.corpus import HANDPICKED, varied_corpus

CORPUS = varied_corpus()


@pytest.mark.parametrize("use_stemmer", [True, False])
def test_every_rouge_type_equals_rouge_score(use_stemmer: bool) -> None:
    reference = rouge_scorer.RougeScorer(list(ROUGE_METRICS), use_stemmer=use_stemmer)
    ours = RougeScorer(use_stemmer)
    for prediction, references in CORPUS:
        expected = reference.score_multi(references, prediction)
        got = ours.score(prediction, references, ROUGE_METRICS)
        for kind in ROUGE_METRICS:
            assert got[kind] == pytest.approx(expected[kind].fmeasure, abs=1e-9), (kind, prediction[:60], references)


def test_a_single_type_alone_equals_rouge_score() -> None:
    # rougeLsum on its own takes no shortcut through rougeL.
    reference = rouge_scorer.RougeScorer(["rougeLsum"], use_stemmer=True)
    ours = RougeScorer(True)
    for prediction, references in CORPUS[:80]:
        expected = reference.score_multi(references, prediction)["rougeLsum"].fmeasure
        assert ours.score(prediction, references, ["rougeLsum"])["rougeLsum"] == pytest.approx(expected, abs=1e-9)


def test_tokenizer_equals_rouge_score_tokenizer() -> None:
    from nltk.stem import porter

    stemmer = porter.PorterStemmer()
    ours = RougeTokenizer(True)
    for prediction, references in CORPUS:
        for text in (prediction, *references):
            assert ours.tokenize(text) == rouge_tokenize.tokenize(text, stemmer)


def test_lcs_positions_follow_rouge_score_backtrack() -> None:
    rng = random.Random(11)
    for _ in range(5000):
        ref = [rng.choice("abcd") for _ in range(rng.randint(0, 14))]
        can = [rng.choice("abcd") for _ in range(rng.randint(0, 14))]
        assert lcs_positions(ref, can) == rouge_scorer.lcs_ind(ref, can), (ref, can)


def test_summary_level_lcs_on_fuzzed_sentences() -> None:
    # Few distinct tokens: many ties in the backtrack, repeated tokens for the count clipping,
    # and empty sentences (lines without tokens).
    rng = random.Random(21)
    for _ in range(3000):
        ref = [[rng.choice("abcd") for _ in range(rng.randint(0, 7))] for _ in range(rng.randint(1, 4))]
        can = [[rng.choice("abcd") for _ in range(rng.randint(0, 7))] for _ in range(rng.randint(1, 4))]
        expected = rouge_scorer._summary_level_lcs(ref, can).fmeasure
        assert rouge_lsum(ref, can) == pytest.approx(expected, abs=1e-12), (ref, can)


def test_lcs_positions_on_words_spanning_many_bits() -> None:
    rng = random.Random(5)
    words = [f"w{i}" for i in range(30)]
    for _ in range(50):
        ref = [rng.choice(words) for _ in range(rng.randint(60, 150))]
        can = [rng.choice(words) for _ in range(rng.randint(60, 150))]
        assert lcs_positions(ref, can) == rouge_scorer.lcs_ind(ref, can)


def test_hand_computed_rouge() -> None:
    scorer = RougeScorer(use_stemmer=False)
    # target "the cat sat", prediction "the cat ran": unigram overlap 2 of 3 each way, bigram 1 of 2.
    got = scorer.score("the cat ran", ["the cat sat"], ROUGE_METRICS)
    assert got["rouge1"] == pytest.approx(2 / 3)
    assert got["rouge2"] == pytest.approx(0.5)
    assert got["rougeL"] == pytest.approx(2 / 3)
    # Non-ASCII letters are not tokens for rouge-score: nothing to match, so 0 (not an error).
    assert scorer.score("東京", ["東京"], ["rouge1"])["rouge1"] == 0.0


def test_empty_and_whitespace_predictions_score_zero() -> None:
    scorer = RougeScorer()
    for prediction in ("", "   \n\t "):
        assert scorer.score(prediction, ["some reference words"], ROUGE_METRICS) == dict.fromkeys(ROUGE_METRICS, 0.0)
    assert HANDPICKED[3] == ("", [""])
    assert scorer.score("", [""], ROUGE_METRICS) == dict.fromkeys(ROUGE_METRICS, 0.0)


def test_stemmer_loads_without_importing_all_of_nltk() -> None:
    program = (
        "import sys\n"
        "from harness.metrics.stemming import porter_stemmer\n"
        "stemmer = porter_stemmer()\n"
        "words = ['running', 'generously', 'organizational', 'happiness', 'studies', 'agreed', 'feed', 'sky']\n"
        "light = [stemmer.stem(w) for w in words]\n"
        "assert not any(m == 'nltk' or m.startswith('nltk.') for m in sys.modules), 'nltk left in sys.modules'\n"
        "assert 'sklearn' not in sys.modules and 'scipy' not in sys.modules\n"
        "from nltk.stem.porter import PorterStemmer\n"
        "assert light == [PorterStemmer().stem(w) for w in words], light\n"
        "import nltk\n"
        "assert hasattr(nltk, 'word_tokenize')\n"
    )
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
