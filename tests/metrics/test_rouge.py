"""ROUGE equals rouge-score's on a varied corpus and on fuzzed texts; the stemmer and the tokenizer equal theirs."""

from __future__ import annotations

import random
import subprocess
import sys

import pytest
from rouge_score import rouge_scorer, tokenizers

from harness.metrics.options import ROUGE_METRICS
from harness.metrics.rouge import RougeScorer
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


def test_tokenizer_with_memoized_stems_equals_rouge_score_tokenizer() -> None:
    for use_stemmer in (True, False):
        theirs = tokenizers.DefaultTokenizer(use_stemmer=use_stemmer)
        ours = RougeScorer(use_stemmer)
        for _ in range(2):  # the second pass takes every stem from the cache
            for prediction, references in CORPUS:
                for text in (prediction, *references):
                    assert ours.tokenize(text) == theirs.tokenize(text)


def _fuzzed_text(rng: random.Random) -> str:
    # Few distinct words (many LCS ties, repeated tokens), newlines (ROUGE-Lsum sentences,
    # empty lines, lines without tokens) and words the stemmer changes.
    words = ["a", "b", "cat", "cats", "running", "runs", "the", "!", "...", "\n", "\n", "\n\n", "é"]
    return " ".join(rng.choice(words) for _ in range(rng.randint(0, 14))).replace(" \n ", "\n")


def test_fuzzed_texts_equal_rouge_score() -> None:
    rng = random.Random(21)
    reference = rouge_scorer.RougeScorer(list(ROUGE_METRICS), use_stemmer=True)
    ours = RougeScorer(True)
    references_pool = [[_fuzzed_text(rng) for _ in range(rng.randint(1, 3))] for _ in range(40)]
    for _ in range(2000):
        prediction, references = _fuzzed_text(rng), rng.choice(references_pool)  # references recur: cached
        expected = reference.score_multi(references, prediction)
        got = ours.score(prediction, references, ROUGE_METRICS)
        for kind in ROUGE_METRICS:
            assert got[kind] == pytest.approx(expected[kind].fmeasure, abs=1e-12), (kind, prediction, references)


def test_rouge_l_on_long_texts_of_few_words() -> None:
    # Long token lists (rapidfuzz's bit-parallel LCS spans several machine words).
    rng = random.Random(5)
    words = [f"w{i}" for i in range(30)]
    reference = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
    ours = RougeScorer(False)
    for _ in range(30):
        target = " ".join(rng.choice(words) for _ in range(rng.randint(60, 200)))
        prediction = " ".join(rng.choice(words) for _ in range(rng.randint(60, 200)))
        expected = reference.score(target, prediction)["rougeL"].fmeasure
        assert ours.score(prediction, [target], ["rougeL"])["rougeL"] == pytest.approx(expected, abs=1e-12)


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


def test_stemmer_and_rouge_score_load_without_importing_all_of_nltk() -> None:
    program = (
        "import sys\n"
        "from harness.metrics.stemming import porter_stemmer, rouge_score_modules\n"
        "stemmer = porter_stemmer()\n"
        "modules = rouge_score_modules()\n"
        "words = ['running', 'generously', 'organizational', 'happiness', 'studies', 'agreed', 'feed', 'sky']\n"
        "light = [stemmer.stem(w) for w in words]\n"
        "tokens = modules.tokenize.tokenize('The cats were running, happily!', stemmer)\n"
        "lsum = modules.rouge_scorer._summary_level_lcs([['a', 'b'], ['c']], [['a', 'c']]).fmeasure\n"
        "assert not any(m == 'nltk' or m.startswith('nltk.') for m in sys.modules), 'nltk left in sys.modules'\n"
        "assert 'sklearn' not in sys.modules and 'scipy' not in sys.modules\n"
        "assert 'rouge_score.rouge_scorer' not in sys.modules\n"
        "import nltk\n"
        "assert hasattr(nltk, 'word_tokenize')\n"
        "from nltk.stem.porter import PorterStemmer\n"
        "assert light == [PorterStemmer().stem(w) for w in words], light\n"
        "from rouge_score import rouge_scorer, tokenizers\n"
        "assert rouge_scorer is not modules.rouge_scorer and rouge_scorer.nltk is nltk\n"
        "assert tokens == tokenizers.DefaultTokenizer(use_stemmer=True).tokenize('The cats were running, happily!')\n"
        "assert lsum == rouge_scorer._summary_level_lcs([['a', 'b'], ['c']], [['a', 'c']]).fmeasure\n"
    )
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
