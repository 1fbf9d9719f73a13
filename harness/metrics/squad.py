"""Exact match and token F1 as the official SQuAD v2.0 evaluation script defines them.

Normalization: lowercase, drop ASCII punctuation, drop the articles a/an/the, fold whitespace.
Token F1 is the harmonic mean of token-overlap precision and recall; when either side has no
tokens it is 1 if both have none, else 0 (the v2.0 script's rule). With several references a
case takes the best one. `strict` compares texts as written (surrounding whitespace stripped,
tokens split on whitespace); `case_sensitive` keeps letter case under SQuAD normalization.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from harness.metrics.ngrams import shared_count

_PUNCTUATION = re.compile(f"[{re.escape(string.punctuation)}]")  # faster than str.translate on non-ASCII text
_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)
_ARTICLES_ANY_CASE = re.compile(r"\b(a|an|the)\b", re.UNICODE | re.IGNORECASE)


def normalize_answer(text: str, case_sensitive: bool = False) -> str:
    """SQuAD's normalize_answer (case kept when `case_sensitive`)."""
    if not case_sensitive:
        text = text.lower()
    text = _PUNCTUATION.sub("", text)
    text = (_ARTICLES_ANY_CASE if case_sensitive else _ARTICLES).sub(" ", text)
    return " ".join(text.split())


@dataclass(frozen=True, slots=True)
class SquadNormalizer:
    strict: bool = False
    case_sensitive: bool = False

    def text(self, text: str) -> str:
        return text.strip() if self.strict else normalize_answer(text, self.case_sensitive)

    def tokens(self, text: str) -> list[str]:
        return text.split() if self.strict else normalize_answer(text, self.case_sensitive).split()


def exact_match(prediction: str, references: Sequence[str], normalizer: SquadNormalizer) -> float:
    predicted = normalizer.text(prediction)
    return 1.0 if any(predicted == normalizer.text(ref) for ref in references) else 0.0


def token_f1(prediction: str, references: Sequence[str], normalizer: SquadNormalizer) -> float:
    predicted = normalizer.tokens(prediction)
    return max(f1_of_tokens(predicted, normalizer.tokens(ref)) for ref in references)


def squad_scores(prediction: str, references: Sequence[str], normalizer: SquadNormalizer) -> tuple[float, float]:
    """(exact_match, token_f1), normalizing each text once."""
    predicted = normalizer.text(prediction)
    golds = [normalizer.text(ref) for ref in references]
    exact = 1.0 if predicted in golds else 0.0
    if normalizer.strict:
        return exact, token_f1(prediction, references, normalizer)
    tokens = predicted.split()
    return exact, max(f1_of_tokens(tokens, gold.split()) for gold in golds)


def f1_of_tokens(predicted: list[str], gold: list[str]) -> float:
    if not predicted or not gold:
        return float(predicted == gold)
    same = shared_count(Counter(predicted), Counter(gold))
    if same == 0:
        return 0.0
    precision = same / len(predicted)
    recall = same / len(gold)
    return (2 * precision * recall) / (precision + recall)
