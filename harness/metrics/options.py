"""Metric names and their options as a suite writes them, validated when the suite loads.

This module imports nothing heavy: the suite schema uses it to reject an unknown metric or
option with a located one-line error before anything runs.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

TEXT_METRICS = ("exact_match", "token_f1", "rouge1", "rouge2", "rougeL", "rougeLsum", "bleu", "chrf")
ROUGE_METRICS = ("rouge1", "rouge2", "rougeL", "rougeLsum")
SQUAD_METRICS = ("exact_match", "token_f1")
CORPUS_METRICS = ("bleu", "chrf")  # the run-level figure is a corpus score, not a mean
CLASSIFICATION = "classification"
CLASSIFICATION_CASE_METRIC = "accuracy"  # per case: 1.0 when the extracted label is the reference
CLASSIFICATION_AGGREGATES = (
    "accuracy",
    "precision_macro",
    "recall_macro",
    "f1_macro",
    "precision_micro",
    "recall_micro",
    "f1_micro",
    "precision_weighted",
    "recall_weighted",
    "f1_weighted",
)
EVALUATE_PREFIX = "evaluate:"
METRIC_NAMES = (*TEXT_METRICS, CLASSIFICATION)
# Names a `metric:` check may test: every metric that has a value per case.
CHECKABLE_METRICS = (*TEXT_METRICS, CLASSIFICATION_CASE_METRIC)


def did_you_mean(name: str, candidates: Sequence[str]) -> str:
    """` (did you mean 'x'?)` for the closest candidate, else the list of candidates."""
    folded = {c.lower(): c for c in candidates}
    close = difflib.get_close_matches(name.lower(), list(folded), n=1, cutoff=0.6)
    if close:
        return f" (did you mean '{folded[close[0]]}'?)"
    return f" (known: {', '.join(candidates)})"


class MetricOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SquadOptions(MetricOptions):
    """exact_match / token_f1."""

    strict: bool = Field(
        default=False,
        description="Compare the texts as written (surrounding whitespace stripped) instead of SQuAD-normalizing them.",
    )
    case_sensitive: bool = Field(default=False, description="Keep letter case under SQuAD normalization.")


class RougeOptions(MetricOptions):
    """rouge1 / rouge2 / rougeL / rougeLsum."""

    use_stemmer: bool = Field(default=True, description="Porter-stem tokens longer than 3 letters (rouge-score's option).")


class BleuOptions(MetricOptions):
    """sacrebleu BLEU."""

    tokenize: Literal["13a", "none", "intl", "char", "zh"] = Field(default="13a", description="sacrebleu tokenizer.")
    lowercase: bool = Field(default=False, description="Lowercase before scoring.")
    smooth_method: Literal["exp", "floor", "add-k", "none"] = Field(default="exp", description="Smoothing of the corpus score.")
    smooth_value: float | None = Field(default=None, ge=0, description="Value for floor / add-k smoothing.")
    max_ngram_order: int = Field(default=4, ge=1, le=9, description="Highest n-gram order.")


class ChrfOptions(MetricOptions):
    """sacrebleu chrF (chrF++ with word_order: 2)."""

    char_order: int = Field(default=6, ge=1, le=12, description="Highest character n-gram order.")
    word_order: int = Field(default=0, ge=0, le=6, description="Highest word n-gram order (2 gives chrF++).")
    beta: int = Field(default=2, ge=0, description="Weight of recall over precision.")
    lowercase: bool = Field(default=False, description="Lowercase before scoring.")
    whitespace: bool = Field(default=False, description="Keep whitespace in character n-grams.")
    eps_smoothing: bool = Field(default=False, description="chrF++.py-style epsilon smoothing.")


class ClassificationOptions(MetricOptions):
    """Label suites: references are labels, outputs are mapped onto the label set."""

    labels: list[str] | None = Field(default=None, description="The label set (default: the suite's `labels:`).")
    pattern: str | None = Field(
        default=None,
        description="Regular expression applied to the output first; its group `label` (or group 1, or the "
        "whole match) is what is matched against the labels.",
    )
    match: Literal["search", "exact"] = Field(
        default="search",
        description="exact: the normalized text must equal a label; search: else a label occurring in it as whole words.",
    )

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, pattern: str | None) -> str | None:
        if pattern is not None:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"invalid regular expression: {exc}") from None
        return pattern

    @field_validator("labels")
    @classmethod
    def _labels(cls, labels: list[str] | None) -> list[str] | None:
        return None if labels is None else check_labels(labels)


class EvaluateOptions(MetricOptions):
    """A Hugging Face `evaluate` module."""

    name: str | None = Field(default=None, description="Prefix of the reported values (default: the module's name).")
    per_case: bool = Field(
        default=False,
        description="Compute the module on each case alone (per-case values, averaged with a CI) instead of once over all cases.",
    )
    all_references: bool = Field(
        default=False, description="Pass each case's list of references instead of its first reference."
    )
    compute_args: dict[str, Any] = Field(default_factory=dict, description="Extra keyword arguments to `compute`.")
    load_args: dict[str, Any] = Field(default_factory=dict, description="Extra keyword arguments to `evaluate.load`.")


OPTION_MODELS: dict[str, type[MetricOptions]] = {
    "exact_match": SquadOptions,
    "token_f1": SquadOptions,
    **dict.fromkeys(ROUGE_METRICS, RougeOptions),
    "bleu": BleuOptions,
    "chrf": ChrfOptions,
    CLASSIFICATION: ClassificationOptions,
}


def normalize_label(text: str) -> str:
    """How labels and outputs are compared: case-folded, punctuation dropped, whitespace folded."""
    return " ".join(re.sub(r"[^\w\s]", " ", text.casefold()).split())


def check_labels(labels: list[str]) -> list[str]:
    if not labels:
        raise ValueError("the label list is empty")
    seen: dict[str, str] = {}
    for label in labels:
        key = normalize_label(label)
        if not key:
            raise ValueError(f"label '{label}' has no letters or digits")
        if key == "unmatched":
            raise ValueError("'unmatched' is reserved for outputs that match no label")
        if key in seen:
            raise ValueError(f"labels '{seen[key]}' and '{label}' are the same once normalized")
        seen[key] = label
    return labels


def metric_names_hint() -> str:
    return ", ".join(METRIC_NAMES) + f", {EVALUATE_PREFIX}NAME-OR-PATH"


def check_metric_name(name: str) -> None:
    """Raise ValueError with a did-you-mean unless `name` is a metric a suite can list."""
    if name.startswith(EVALUATE_PREFIX):
        if not name[len(EVALUATE_PREFIX) :].strip():
            raise ValueError(f"'{name}' needs a module name or a path after '{EVALUATE_PREFIX}'")
        return
    if name not in METRIC_NAMES:
        raise ValueError(f"unknown metric '{name}'{did_you_mean(name, (*METRIC_NAMES, EVALUATE_PREFIX))}")


def parse_options(name: str, options: dict[str, Any]) -> MetricOptions:
    """The validated options of metric `name`. Raises ValueError with one readable line."""
    model = EvaluateOptions if name.startswith(EVALUATE_PREFIX) else OPTION_MODELS[name]
    try:
        return model.model_validate(options)
    except ValidationError as exc:
        error = exc.errors()[0]
        key = ".".join(str(part) for part in error["loc"])
        if error["type"] == "extra_forbidden":
            raise ValueError(
                f"{name}: unknown option '{key}'{did_you_mean(key, list(model.model_fields))}"
            ) from None
        message = str(error["msg"]).removeprefix("Value error, ")
        message = message[:1].lower() + message[1:]
        raise ValueError(f"{name}: option '{key}': {message}") from None


def check_metric_check(metric: str) -> None:
    """Raise ValueError unless `metric` is a built-in metric with per-case values a check can test."""
    if metric not in CHECKABLE_METRICS:
        raise ValueError(f"unknown metric '{metric}' in a check{did_you_mean(metric, CHECKABLE_METRICS)}")
