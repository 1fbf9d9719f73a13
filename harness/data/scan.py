"""One streaming pass over data files that every command shares: examples, their problems,
tokens, PII and duplicate groups, with per-example state kept in compact arrays."""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from harness.data.duplicates import DEFAULT_THRESHOLD, DuplicateFinder, DuplicateGroups
from harness.data.pii import PiiMatch, PiiScanner
from harness.data.problems import INVALID_KINDS, Problem
from harness.data.reader import Example, ExampleReader, check_readable
from harness.data.tokens import TokenCounter, conversation_tokens
from harness.data.validate import Rules, Turn, content_problems

# Roles whose text identifies an example for deduplication: a system prompt shared by every
# example would make them all look alike.
DEDUP_ROLES = frozenset({"user", "assistant", "tool", "function"})


def dedup_text(turns: list[Turn]) -> str:
    return "\n".join(f"{role}: {text}" for role, text in turns if role in DEDUP_ROLES)


@dataclass
class ScanOptions:
    fmt: str = "auto"
    rules: Rules = field(default_factory=Rules.build)
    near_duplicates: bool = True
    near_threshold: float = DEFAULT_THRESHOLD
    pii: bool = True
    pii_names: bool = False
    phone_region: str = "US"
    # Whether examples with a structural problem take part in duplicate detection: not when
    # checking or cleaning (they are reported and dropped for that problem), yes when splitting.
    dedup_invalid: bool = False


@dataclass
class ScanState:
    """Per-example facts by example index (position across all files), as compact arrays."""

    files: list[str] = field(default_factory=list)
    file_index: array[int] = field(default_factory=lambda: array("i"))
    lines: array[int] = field(default_factory=lambda: array("i"))
    rows: array[int] = field(default_factory=lambda: array("i"))
    tokens: array[int] = field(default_factory=lambda: array("i"))
    invalid: array[int] = field(default_factory=lambda: array("b"))
    dedup_index: array[int] = field(default_factory=lambda: array("i"))  # example index per finder index
    groups: DuplicateGroups | None = None
    formats: dict[str, str] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.lines)

    def where(self, example: int) -> str:
        line = self.lines[example]
        shown = self.files[self.file_index[example]]
        return f"{shown}:{line}" if line else f"{shown}#{self.rows[example]}"

    def duplicate_of(self) -> dict[int, tuple[str, int, float]]:
        """Example index -> (kind, example index of the original, similarity) for every copy."""
        out: dict[int, tuple[str, int, float]] = {}
        if self.groups is None:
            return out
        for copy, original in self.groups.exact_of.items():
            out[self.dedup_index[copy]] = ("duplicate", self.dedup_index[original], 1.0)
        for copy, (original, similarity) in self.groups.near_of.items():
            out[self.dedup_index[copy]] = ("near_duplicate", self.dedup_index[original], similarity)
        return out


@dataclass
class ScannedExample:
    """An example as the scan saw it: `index` is its position across all files."""

    index: int
    example: Example | None  # None for a line that could not be read
    problems: list[Problem]
    tokens: int
    pii: list[tuple[int, list[PiiMatch]]]  # (turn index, matches)


def _pii_problem(example: Example, found: list[tuple[int, list[PiiMatch]]]) -> Problem:
    return Problem(example.file, example.line, example.row, "pii", pii_summary([m for _, ms in found for m in ms]))


def pii_summary(matches: Sequence[PiiMatch], samples_per_kind: int = 2) -> str:
    """`email x2 ("ja…om", "jo…rg"), phone x1 ("(4…32")`: each kind once, with quoted masked samples."""
    by_kind: dict[str, list[PiiMatch]] = {}
    for match in matches:
        by_kind.setdefault(match.kind, []).append(match)
    parts = []
    for kind in sorted(by_kind):
        found = by_kind[kind]
        shown = ", ".join(f'"{m.masked}"' for m in found[:samples_per_kind]) + (", ..." if len(found) > samples_per_kind else "")
        parts.append(f"{kind} x{len(found)} ({shown})")
    return ", ".join(parts)


def scan(
    paths: Sequence[Path],
    options: ScanOptions,
    counter: TokenCounter | None,
    state: ScanState,
    finder: DuplicateFinder | None,
    on_bytes: Callable[[int], None] | None = None,
) -> Iterator[ScannedExample]:
    """Stream every example of `paths` with its problems; fills `state` (and `finder`) as it goes.

    Duplicate problems are known only at the end: call `finish` after exhausting this.
    Without a `counter`, tokens are not counted (and `too_long` is not checked).
    """
    for path in paths:
        check_readable(path)
    scanner = PiiScanner(names=options.pii_names, phone_region=options.phone_region) if options.pii else None
    for file_number, path in enumerate(paths):
        shown = str(path)
        state.files.append(shown)
        row = 0
        reader = ExampleReader(path, options.fmt, on_bytes)
        for item in reader:
            row += 1
            index = len(state)
            state.file_index.append(file_number)
            state.rows.append(row)
            if isinstance(item, Problem):
                state.lines.append(item.line)
                state.tokens.append(0)
                state.invalid.append(1)
                problem = Problem(item.file, item.line, row, item.kind, item.message)
                yield ScannedExample(index, None, [problem], 0, [])
                continue
            example = item
            state.lines.append(example.line)
            problems = list(example.problems)
            problems.extend(
                Problem(example.file, example.line, example.row, kind, message)
                for kind, message in content_problems(example.turns, options.rules)
            )
            tokens = conversation_tokens(example.turns, counter) if counter is not None else 0
            if tokens > options.rules.max_tokens:
                problems.append(
                    Problem(example.file, example.line, example.row, "too_long",
                            f"{tokens} tokens (> {options.rules.max_tokens}); fine-tuning truncates it")
                )
            found: list[tuple[int, list[PiiMatch]]] = []
            if scanner is not None:
                for turn, (_, text) in enumerate(example.turns):
                    matches = scanner.find(text)
                    if matches:
                        found.append((turn, matches))
                if found:
                    problems.append(_pii_problem(example, found))
            state.tokens.append(tokens)
            is_invalid = any(p.kind in INVALID_KINDS for p in problems)
            state.invalid.append(1 if is_invalid else 0)
            if finder is not None and example.turns and (options.dedup_invalid or not is_invalid):
                text = dedup_text(example.turns)
                if text:
                    finder.add(text)
                    state.dedup_index.append(index)
            yield ScannedExample(index, example, problems, tokens, found)
        state.formats[shown] = reader.fmt if reader.fmt != "auto" else "unknown"


def finish(state: ScanState, finder: DuplicateFinder | None) -> list[tuple[int, Problem]]:
    """Compute duplicate groups; one problem per copy (with its example index), naming what it copies."""
    if finder is None:
        return []
    state.groups = finder.groups()
    problems = []
    for index, (kind, original, similarity) in sorted(state.duplicate_of().items()):
        file = state.files[state.file_index[index]]
        what = f"duplicate of {state.where(original)}" if kind == "duplicate" else (
            f"near duplicate of {state.where(original)} (similarity {similarity:.2f})"
        )
        problems.append((index, Problem(file, state.lines[index], state.rows[index], kind, what)))
    return problems
