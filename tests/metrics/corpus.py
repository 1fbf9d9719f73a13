"""A varied corpus of (prediction, references) pairs for comparisons with reference implementations."""

from __future__ import annotations

import random

_WORDS = [
    *["the", "model", "answers", "questions", "about", "billing", "accounts", "and", "security", "settings", "with", "numbered", "steps"],
    *["running", "jumped", "easily", "happiness", "connection", "generously", "organizational", "policies", "studies"],
    *["café", "naïve", "résumé", "über", "straße", "déjà", "東京", "学习", "привет", "мир", "😀", "🎉", "👍🏽"],
]


def _long_text(rng: random.Random, words: int) -> str:
    lines = []
    for _ in range(words // 12):
        line = " ".join(rng.choice(_WORDS) for _ in range(12))
        lines.append(line[0].upper() + line[1:] + rng.choice([".", "!", "?", ",", ";"]))
    return rng.choice(["\n", " "]).join(lines)


def _perturb(rng: random.Random, text: str) -> str:
    words = text.split(" ")
    kept = [w for w in words if rng.random() > 0.1]
    for _ in range(len(kept) // 8):
        kept.insert(rng.randrange(len(kept) + 1), rng.choice(_WORDS))
    return " ".join(kept)


HANDPICKED: list[tuple[str, list[str]]] = [
    ("The cat sat on the mat.", ["The cat is on the mat."]),
    ("", ["a reference that the empty prediction misses"]),
    ("a prediction against an empty reference", [""]),
    ("", [""]),
    ("   \n\t  ", ["a prediction that is only whitespace"]),
    ("!!! ??? ... ,,, --- ;;", ["..."]),
    ("Café naïve résumé — déjà vu über alles", ["cafe naive resume deja vu uber alles"]),
    ("I love it 😀🎉 so much 👍🏽!", ["I love it 😀 so much"]),
    ("机器学习很有趣。我们每天学习。", ["机器学习非常有趣。"]),
    ("Привет, мир! Как дела?", ["Привет мир, как дела"]),
    ("The answer is 42.", ["42", "The answer is forty-two.", "the answer is 42"]),
    ("forty two", ["The answer is 42.", "forty-two"]),
    ("First line here.\nSecond line is longer than the first.\n\nThird.", ["First line.\nSecond line here is longer\nThird one."]),
    ("Hello.\n!!!\nWorld is big", ["Hello world.\n???\nThe world is big."]),
    ("Call 555-1234, or pay 1,000.50 dollars... ok. 3.14, 2-3 times. a.b,c", ["Call 555 - 1234 or pay 1,000.50 dollars."]),
    ("a &amp; b &lt;tag&gt; &quot;q&quot; <skipped> line-\nbreak", ["a & b <tag> \"q\" linebreak"]),
    ("the the the the", ["the the"]),
    ("PARIS", ["Paris"]),
    ("An apple a day keeps the doctor away", ["apple day keeps doctor away"]),
    ("answer\n", ["answer"]),
    ("line one\r\nline two", ["line one\nline two"]),
    ("running runs ran runner", ["run running runs"]),
    ("x", ["x y z", "x y", "x"]),
    ("{json: [1, 2]} (parens) 'quotes' `ticks` ~tilde ^caret |pipe| \\back/slash @at #hash $5 %p *star +plus =eq <lt> _u_",
     ["{json: [1, 2]} (parens) quotes"]),
]


def varied_corpus(size: int = 200, seed: int = 3) -> list[tuple[str, list[str]]]:
    """The hand-picked pairs plus seeded random ones: long texts, several lines, several references."""
    rng = random.Random(seed)
    pairs = list(HANDPICKED)
    pairs.append((_long_text(rng, 700), [_long_text(rng, 650)]))  # very long (rouge-score is quadratic)
    while len(pairs) < size:
        reference = _long_text(rng, rng.choice([12, 24, 60, 120]))
        references = [reference] + [_perturb(rng, reference) for _ in range(rng.choice([0, 0, 0, 1, 2]))]
        pairs.append((_perturb(rng, reference), references))
    return pairs
