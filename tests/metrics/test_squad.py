"""Exact match and token F1 on cases computed by hand from the SQuAD v2.0 definitions."""

from __future__ import annotations

import pytest

from harness.metrics.squad import SquadNormalizer, exact_match, normalize_answer, squad_scores, token_f1

SQUAD = SquadNormalizer()
STRICT = SquadNormalizer(strict=True)
CASED = SquadNormalizer(case_sensitive=True)


def test_normalization_lowercases_drops_punctuation_articles_and_extra_space() -> None:
    assert normalize_answer("  The  Eiffel-Tower, in PARIS!  ") == "eiffeltower in paris"
    assert normalize_answer("An apple a day") == "apple day"
    assert normalize_answer("theater and anthem") == "theater and anthem"  # articles only as whole words
    assert normalize_answer("Café, naïve") == "café naïve"
    assert normalize_answer("...!?") == ""


@pytest.mark.parametrize(
    ("prediction", "references", "expected"),
    [
        ("The Cat!", ["cat"], 1.0),
        ("Paris", ["London", "paris."], 1.0),  # the best reference counts
        ("Paris France", ["Paris"], 0.0),
        ("", [""], 1.0),
        ("", ["an"], 1.0),  # both sides normalize to nothing
        ("   ", ["Paris"], 0.0),
    ],
)
def test_exact_match(prediction: str, references: list[str], expected: float) -> None:
    assert exact_match(prediction, references, SQUAD) == expected


@pytest.mark.parametrize(
    ("prediction", "references", "expected"),
    [
        # [quick, brown, fox] vs [quick, fox, jumps]: 2 shared, P = R = 2/3
        ("the quick brown fox", ["quick fox jumps"], 2 / 3),
        # [x, y, y, z] vs [y, y, y, w]: y shared twice, P = 2/4, R = 2/4
        ("x y y z", ["y y y w"], 0.5),
        # [paris] vs [paris, france]: P = 1, R = 1/2, F1 = 2/3
        ("Paris", ["Paris, France"], 2 / 3),
        ("Paris", ["London", "Paris, France", "paris"], 1.0),
        ("", ["the"], 1.0),  # v2.0 rule: both empty
        ("", ["cat"], 0.0),
        ("cat", ["a"], 0.0),
        ("dog", ["cat"], 0.0),
    ],
)
def test_token_f1(prediction: str, references: list[str], expected: float) -> None:
    assert token_f1(prediction, references, SQUAD) == pytest.approx(expected)


def test_strict_compares_texts_as_written() -> None:
    assert exact_match(" Paris\n", ["Paris"], STRICT) == 1.0
    assert exact_match("paris", ["Paris"], STRICT) == 0.0
    assert exact_match("Paris.", ["Paris"], STRICT) == 0.0
    # ["Paris,", "France"] vs ["Paris", "France"]: 1 shared token of 2 each way
    assert token_f1("Paris, France", ["Paris France"], STRICT) == pytest.approx(0.5)


def test_case_sensitive_keeps_case_but_still_drops_articles() -> None:
    assert exact_match("PARIS", ["paris"], CASED) == 0.0
    assert exact_match("The Paris", ["Paris"], CASED) == 1.0
    assert token_f1("Paris paris", ["paris"], CASED) == pytest.approx(2 / 3)


def test_squad_scores_match_the_separate_functions() -> None:
    cases = [("The Cat!", ["cat", "dog"]), ("x y y z", ["y y y w"]), ("", [""]), (" Paris\n", ["Paris", "paris"])]
    for normalizer in (SQUAD, STRICT, CASED):
        for prediction, references in cases:
            assert squad_scores(prediction, references, normalizer) == (
                exact_match(prediction, references, normalizer),
                token_f1(prediction, references, normalizer),
            )
