"""Stream examples from a data file as chat turns, whatever its format, without stopping at bad lines.

Builds on the suite importers (`iter_records`, `detect_format`, `record_to_case`): every
record becomes an `Example` with its turns, or a `Problem` when it cannot be read at all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.data.problems import Problem
from harness.data.validate import Turn, chat_turns, record_turns
from harness.errors import Diagnostic, UsageError
from harness.suite.sources import FORMATS, Record, detect_format, iter_records

DATA_FORMATS = ("auto", *FORMATS)


@dataclass(slots=True)
class Example:
    """One record of a data file, read as a conversation."""

    file: str
    line: int  # 1-based line; 0 for records of a JSON array
    row: int  # 1-based position among the file's records
    data: Any
    turns: list[Turn]
    problems: list[Problem] = field(default_factory=list)

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}" if self.line else f"{self.file}#{self.row}"


def check_readable(path: Path) -> None:
    """Fail with one line when a data file cannot be opened."""
    if not path.exists():
        raise UsageError(f"data file '{path}' not found")
    if path.is_dir():
        raise UsageError(f"'{path}' is a directory, not a data file")
    try:
        with path.open("rb"):
            pass
    except OSError as exc:
        raise UsageError(f"cannot read '{path}': {exc.strerror}") from None


def _kind_for(path: Path) -> str:
    return "csv" if path.suffix.lower() in (".csv", ".tsv") else "json"


class ExampleReader:
    """Every record of `path` as an Example (with its structural problems), or a Problem for unreadable ones.

    `fmt` is `auto` until the first record is read, then the detected format.
    """

    def __init__(self, path: Path, fmt: str = "auto", on_bytes: Callable[[int], None] | None = None) -> None:
        self.path = path
        self.fmt = fmt
        self.on_bytes = on_bytes

    def __iter__(self) -> Iterator[Example | Problem]:
        path, shown = self.path, str(self.path)
        try:
            for item in iter_records(path, _kind_for(path), shown, self.on_bytes):
                if isinstance(item, Diagnostic):
                    yield Problem(shown, item.line or 0, 0, _diagnostic_kind(item), item.message)
                    continue
                assert isinstance(item, Record)
                if self.fmt == "auto":
                    self.fmt = detect_format(path, item.data) or "openai_chat"
                turns, found = chat_turns(item.data) if self.fmt == "openai_chat" else record_turns(item.data, self.fmt)
                problems = [Problem(shown, item.line, item.row, kind, message) for kind, message in found]
                yield Example(shown, item.line, item.row, item.data, turns, problems)
        except UnicodeDecodeError as exc:
            raise UsageError(f"{shown}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
        except OSError as exc:
            raise UsageError(f"cannot read '{shown}': {exc.strerror}") from None


def _diagnostic_kind(diagnostic: Diagnostic) -> str:
    return "invalid_json" if diagnostic.message.startswith(("invalid JSON", "expected a JSON")) else "invalid_record"
