r"""The stand-in endpoint's script: which model answers what, and how its judge decides.

    # standin.yaml, served by `python -m harness.testing serve --script standin.yaml`
    models:
      base:
        replies:
          - {when: password, reply: "You can reset it from the login page."}
        default: "Sorry, I can only help with TechCorp questions."
      tuned:
        replies: {password: "1. Open techcorp.com/login. 2. Click Forgot Password."}
    judge:
      prefer: ['regex:^1\.', Forgot Password]

A request names its model (`openai:base` asks for `base`); the first reply rule whose `when`
pattern matches the last user message answers it. Patterns follow the suite's convention: plain
text matches case-insensitively anywhere, `regex:` starts a (case-insensitive) Python regex.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from harness.errors import Diagnostic, SuiteError

REGEX_PREFIX = "regex:"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def compile_pattern(text: str) -> re.Pattern[str]:
    """`regex:...` as a case-insensitive regex, anything else as a case-insensitive literal."""
    if text.startswith(REGEX_PREFIX):
        return re.compile(text[len(REGEX_PREFIX) :].lstrip(), re.IGNORECASE)
    return re.compile(re.escape(text), re.IGNORECASE)


def _check_pattern(text: str) -> str:
    if not text.strip():
        raise ValueError("give a non-empty pattern")
    try:
        compile_pattern(text)
    except re.error as exc:
        raise ValueError(f"invalid regular expression: {exc}") from None
    return text


class ReplyRule(_Strict):
    """One scripted answer: given when the request's last user message matches `when`."""

    when: str = Field(description="Text (case-insensitive) or `regex:PATTERN` looked for in the last user message.")
    reply: str = Field(description="The answer.")

    _check = field_validator("when")(_check_pattern)


class ModelScript(_Strict):
    """How one model answers."""

    replies: list[ReplyRule] = Field(
        default_factory=list,
        description="Rules tried in order; also a mapping `when: reply` (in file order).",
    )
    default: str | None = Field(
        default=None, description="Answer when no rule matches; without one the model echoes the message."
    )

    @field_validator("replies", mode="before")
    @classmethod
    def _mapping(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return [{"when": str(when), "reply": reply} for when, reply in value.items()]
        return value


class Scores(_Strict):
    """Numeric rubric grades: `low` for an answer that matches none of the preferences, `high` for all."""

    low: int = Field(default=2, description="Score of an answer matching no preference pattern.")
    high: int = Field(default=9, description="Score of an answer matching every preference pattern.")

    @model_validator(mode="after")
    def _ordered(self) -> Scores:
        if self.low > self.high:
            raise ValueError("`low` must not be above `high`")
        return self


class JudgeScript(_Strict):
    """The judge's policy: an answer's merit is how many `prefer` patterns it matches."""

    model: str = Field(default="judge", description="Model name the judge answers to (`openai:judge`).")
    prefer: list[str] = Field(
        min_length=1,
        description="Patterns a good answer matches. Pairwise: more matches wins, equal is a tie; "
        "rubric: scores from `scores.low` to `scores.high`; closed-QA and pass/fail: all must match.",
    )
    scores: Scores = Field(default_factory=Scores, description="The numeric rubric scale's ends.")

    @field_validator("prefer", mode="before")
    @classmethod
    def _one(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("prefer")
    @classmethod
    def _patterns(cls, value: list[str]) -> list[str]:
        return [_check_pattern(text) for text in value]


class StandInScript(_Strict):
    """A whole script: the models served, the optional judge, and a delay per reply."""

    models: dict[str, ModelScript] = Field(default_factory=dict, description="Model name -> how it answers.")
    judge: JudgeScript | None = Field(default=None, description="The judge, if the script has one.")
    latency: float = Field(default=0.0, ge=0, le=60, description="Seconds added to every reply.")

    @model_validator(mode="after")
    def _something(self) -> StandInScript:
        if not self.models and self.judge is None:
            raise ValueError("the script serves nothing: add `models:` or `judge:`")
        if self.judge is not None and self.judge.model in self.models:
            raise ValueError(f"'{self.judge.model}' is both a model and the judge; rename one (judge: {{model: ...}})")
        return self

    @property
    def served(self) -> list[str]:
        return [*self.models, *([self.judge.model] if self.judge else [])]


def load_script(path: str | Path) -> StandInScript:
    """Read and validate a script; problems are SuiteError lines `file:line:col: message`."""
    from harness.suite.validation import diagnostics_from_validation
    from harness.suite.yaml_source import load_yaml_file

    doc = load_yaml_file(Path(path))
    if not isinstance(doc.data, dict):
        raise SuiteError([Diagnostic(doc.path, "a stand-in script is a mapping with `models:` and `judge:`", 1, 1)])
    try:
        return StandInScript.model_validate(doc.data)
    except ValidationError as exc:
        raise SuiteError(diagnostics_from_validation(exc, doc, StandInScript)) from None
