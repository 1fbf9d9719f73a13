from __future__ import annotations

import random

import numpy as np
import pytest

from harness.data.duplicates import DuplicateFinder
from harness.data.text import normalize
from tests.data.conftest import LONG_ANSWER, NEAR_ANSWER, OTHER_ANSWER


def groups_of(texts: list[str], threshold: float = 0.8, near: bool = True):  # type: ignore[no-untyped-def]
    with DuplicateFinder(threshold, near=near) as finder:
        for text in texts:
            finder.add(text)
        return finder.groups()


def test_normalization_folds_case_punctuation_space_and_unicode() -> None:
    assert normalize("  Hello,   WORLD!\n") == "hello world"
    assert normalize("ｆｕｌｌ-width Café") == normalize("full width CAFÉ")


def test_exact_duplicates_after_normalization() -> None:
    texts = ["Reset your password in Settings.", "Something else entirely, about invoices.",
             "reset your PASSWORD in settings", "Reset your password in Settings."]
    groups = groups_of(texts)
    assert groups.exact_of == {2: 0, 3: 0}
    assert groups.near_of == {}
    assert groups.removable == 2


def test_known_near_duplicate_pair_is_found_and_unrelated_text_is_not() -> None:
    groups = groups_of([LONG_ANSWER, OTHER_ANSWER, NEAR_ANSWER])
    assert groups.exact_of == {}
    assert list(groups.near_of) == [2]
    first, similarity = groups.near_of[2]
    assert first == 0
    # 54 trigrams each, 3 replaced: true Jaccard 51/57 = 0.89; MinHash estimates it within a few points.
    assert 0.8 <= similarity <= 0.97
    assert groups.group_of(2) == 0 and groups.group_of(1) == 1


def test_threshold_decides() -> None:
    # Two changed words far apart: 6 of 54 trigrams differ, Jaccard 48/60 = 0.80.
    words = LONG_ANSWER.split()
    words[5], words[40] = "XX", "YY"
    edited = " ".join(words)
    assert groups_of([LONG_ANSWER, edited], threshold=0.95).near_of == {}
    assert list(groups_of([LONG_ANSWER, edited], threshold=0.6).near_of) == [1]


def test_exact_only_mode_skips_near_duplicates() -> None:
    groups = groups_of([LONG_ANSWER, NEAR_ANSWER, LONG_ANSWER], near=False)
    assert groups.exact_of == {2: 0}
    assert groups.near_of == {}


def test_near_duplicates_chain_into_one_group() -> None:
    words = LONG_ANSWER.split()
    step1 = " ".join([*words[:10], "alpha", *words[11:]])
    step2 = " ".join([*words[:10], "alpha", *words[11:30], "beta", *words[31:]])
    groups = groups_of([LONG_ANSWER, OTHER_ANSWER, step1, step2])
    assert {groups.group_of(i) for i in (0, 2, 3)} == {0}
    assert groups.group_of(1) == 1


def test_planted_pairs_found_among_many_random_texts() -> None:
    rng = random.Random(5)
    vocabulary = [f"w{i}" for i in range(2000)]
    texts = [" ".join(rng.choices(vocabulary, k=60)) for _ in range(3000)]
    planted = {}
    for original in (17, 512, 2048):
        words = texts[original].split()
        words[30] = "changed"
        planted[len(texts)] = original
        texts.append(" ".join(words))
    groups = groups_of(texts)
    assert {copy: first for copy, (first, _) in groups.near_of.items()} == planted
    assert groups.exact_of == {}


def test_empty_texts_are_not_near_duplicates_of_each_other() -> None:
    groups = groups_of(["!!!", "   ", LONG_ANSWER])
    # Both normalize to the empty text: exact duplicates, but no near matches with real text.
    assert groups.exact_of == {1: 0}
    assert groups.group_of(2) == 2


def test_labels_cover_every_text() -> None:
    groups = groups_of([OTHER_ANSWER, LONG_ANSWER, NEAR_ANSWER, OTHER_ANSWER])
    assert np.array_equal(groups.labels, [0, 1, 1, 0])


def test_bad_threshold() -> None:
    with pytest.raises(ValueError, match="threshold"):
        DuplicateFinder(0)


@pytest.mark.parametrize("text", ["Hello, World! It's month's_end 42", "Café déjà vu", "a-b c_d 'quoted' ß"])
def test_fast_ascii_words_match_the_general_ones(text: str) -> None:
    from harness.data.text import word_bytes, words

    assert word_bytes(text) == [w.encode("utf-8") for w in words(text)]
