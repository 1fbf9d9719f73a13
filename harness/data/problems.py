"""The problems `harness data check` reports, one per example and kind, located by line."""

from __future__ import annotations

from dataclasses import dataclass

from harness.errors import HarnessError

# Kinds that make an example unusable for fine-tuning: `clean` always drops these.
INVALID_KINDS = (
    "invalid_json",
    "invalid_record",
    "missing_messages",
    "unknown_role",
    "no_assistant",
    "not_ending_with_assistant",
    "empty_content",
)
# Kinds that are quality findings on a valid example.
QUALITY_KINDS = ("short_content", "refusal", "too_long", "pii")
DUPLICATE_KINDS = ("duplicate", "near_duplicate")
FILE_KINDS = ("too_few_examples",)
ALL_KINDS = (*INVALID_KINDS, *QUALITY_KINDS, *DUPLICATE_KINDS, *FILE_KINDS)


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding; `line` is the 1-based line in the file (0 for records of a JSON array)."""

    file: str
    line: int
    row: int
    kind: str
    message: str

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}" if self.line else f"{self.file}#{self.row}"

    def __str__(self) -> str:
        return f"{self.where}: {self.kind}: {self.message}"


class DataError(HarnessError):
    """A data file cannot be processed (e.g. unparseable lines before a split): exit 2, one line per problem."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self._lines = lines

    def lines(self) -> list[str]:
        return self._lines
