"""A case after expansion: what the runner sends and what the checks and metrics see."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from harness.models.base import ChatMessage
from harness.suite.schema import CheckSpec, PatternSpec


class Case(BaseModel):
    """One fully expanded test case (defaults merged, templates rendered)."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(description="Unique within the suite; stable across runs.")
    messages: list[ChatMessage] = Field(description="The prompt, system message included.")
    references: list[str] = Field(default_factory=list, description="Gold answers (empty when none).")
    required_patterns: list[PatternSpec] = Field(default_factory=list)
    forbidden_patterns: list[PatternSpec] = Field(default_factory=list)
    checks: list[CheckSpec] = Field(default_factory=list)
    rubric: str | None = None
    tags: list[str] = Field(default_factory=list)
    metadata: dict[str, Any] = Field(default_factory=dict)
    origin: str = Field(description="Where the case was defined, as `file:line`.")
    source: str = Field(default="inline", description="`inline` or the source file it came from.")

    @property
    def input_text(self) -> str:
        """The last user turn: what a reader calls "the question"."""
        for message in reversed(self.messages):
            if message["role"] == "user":
                return message["content"]
        return ""

    @property
    def reference(self) -> str | None:
        return self.references[0] if self.references else None
