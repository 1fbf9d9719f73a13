"""Evaluation cases whose input or reference appears in training data, exactly or nearly.

The eval side is small, so it is indexed (word trigrams of each case's input and references)
and the training data streamed past it: a training turn contaminates an eval text when it
contains at least `threshold` of the eval text's trigrams, in any order — a copy, a
near copy with a few words changed, or the eval text embedded in a longer prompt. Eval
texts shorter than `MIN_WORDS` words match only a training turn equal to them (after
normalization), since a couple of common words inside a long text prove nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, Field

from harness.data.reader import Example, ExampleReader, check_readable
from harness.data.text import shingles, words
from harness.errors import UsageError
from harness.suite.case import Case

DEFAULT_THRESHOLD = 0.8
NGRAM = 3
MIN_WORDS = 4
_SNIPPET = 160
_SKIPPED_ROLES = frozenset({"system", "developer"})


class ContaminationMatch(BaseModel):
    case_id: str
    origin: str = Field(description="Where the case is defined (`file:line`).")
    field: str = Field(description="`input` or `reference`.")
    text: str = Field(description="The eval text (shortened).")
    kind: str = Field(description="`exact` (equal after normalization) or `near` (contains most of its trigrams).")
    overlap: float = Field(description="Share of the eval text's word trigrams found in the training turn.")
    train_at: str = Field(description="The training example, `file:line`.")
    train_role: str
    train_text: str = Field(description="The training turn (shortened).")
    train_matches: int = Field(description="Training turns matching this eval text.")


class ContaminationReport(BaseModel):
    suite: str
    train_files: list[str]
    cases: int
    contaminated_cases: int
    training_examples: int
    threshold: float
    matches: list[ContaminationMatch] = Field(description="The best match of each contaminated eval text.")


@dataclass
class _EvalText:
    case: Case
    field: str
    text: str
    normalized: str
    grams: int


@dataclass
class _Best:
    overlap: float
    exact: bool
    where: str
    role: str
    text: str
    count: int = 0


def _shorten(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= _SNIPPET else flat[: _SNIPPET - 1] + "…"


def find_contamination(
    train_paths: Sequence[Path],
    cases: Sequence[Case],
    suite_name: str,
    threshold: float = DEFAULT_THRESHOLD,
    fmt: str = "auto",
    on_bytes: Callable[[int], None] | None = None,
) -> ContaminationReport:
    """Match every case's input and references against every non-system turn of the training files."""
    if not 0 < threshold <= 1:
        raise UsageError(f"--threshold must be in (0, 1], got {threshold}")
    for path in train_paths:
        check_readable(path)
    items: list[_EvalText] = []
    exact_index: dict[str, list[int]] = {}
    gram_index: dict[str, list[int]] = {}
    for case in cases:
        texts = [("input", case.input_text)] + [("reference", r) for r in case.references]
        for field_name, text in texts:
            tokens = words(text)
            if not tokens:
                continue
            number = len(items)
            normalized = " ".join(tokens)
            grams = shingles(tokens, NGRAM) if len(tokens) >= MIN_WORDS else set()
            items.append(_EvalText(case, field_name, text, normalized, len(grams)))
            exact_index.setdefault(normalized, []).append(number)
            for gram in grams:
                gram_index.setdefault(gram, []).append(number)

    best: dict[int, _Best] = {}
    examples = 0
    for path in train_paths:
        for example in ExampleReader(path, fmt, on_bytes):
            if not isinstance(example, Example):
                continue
            examples += 1
            for role, text in example.turns:
                if role in _SKIPPED_ROLES:
                    continue
                _match_turn(example, role, text, items, exact_index, gram_index, threshold, best)

    matches = [
        ContaminationMatch(
            case_id=items[n].case.id,
            origin=items[n].case.origin,
            field=items[n].field,
            text=_shorten(items[n].text),
            kind="exact" if found.exact else "near",
            overlap=round(found.overlap, 3),
            train_at=found.where,
            train_role=found.role,
            train_text=_shorten(found.text),
            train_matches=found.count,
        )
        for n, found in sorted(best.items())
    ]
    return ContaminationReport(
        suite=suite_name,
        train_files=[str(p) for p in train_paths],
        cases=len(cases),
        contaminated_cases=len({m.case_id for m in matches}),
        training_examples=examples,
        threshold=threshold,
        matches=matches,
    )


def _match_turn(
    example: Example,
    role: str,
    text: str,
    items: list[_EvalText],
    exact_index: dict[str, list[int]],
    gram_index: dict[str, list[int]],
    threshold: float,
    best: dict[int, _Best],
) -> None:
    tokens = words(text)
    if not tokens:
        return
    found: dict[int, tuple[float, bool]] = {n: (1.0, True) for n in exact_index.get(" ".join(tokens), ())}
    if gram_index and len(tokens) >= MIN_WORDS:
        hits: Counter[int] = Counter()
        for gram in shingles(tokens, NGRAM):
            for n in gram_index.get(gram, ()):
                hits[n] += 1
        for n, count in hits.items():
            overlap = count / items[n].grams
            if overlap >= threshold and n not in found:
                found[n] = (overlap, False)
    for n, (overlap, exact) in found.items():
        current = best.get(n)
        if current is None:
            best[n] = _Best(overlap, exact, example.where, role, text, 1)
            continue
        current.count += 1
        if (exact, overlap) > (current.exact, current.overlap):
            current.overlap, current.exact, current.where, current.role, current.text = (
                overlap, exact, example.where, role, text,
            )


def training_paths(suite_path: Path, declared: Sequence[str]) -> list[Path]:
    """The suite's `training_data` files, relative to the suite; one clear line when one is missing."""
    paths = []
    for entry in declared:
        path = (suite_path.parent / entry).resolve() if not Path(entry).is_absolute() else Path(entry)
        if not path.is_file():
            raise UsageError(f"{suite_path}: training_data '{entry}' not found (looked at {path})")
        paths.append(path)
    return paths


def run_warning(suite_path: Path, declared: Sequence[str], cases: Sequence[Case], suite_name: str) -> str | None:
    """The one-line warning `harness run` prints when cases appear in the suite's training data."""
    if not declared:
        return None
    report = find_contamination(training_paths(suite_path, declared), cases, suite_name)
    if not report.contaminated_cases:
        return None
    ids = list(dict.fromkeys(m.case_id for m in report.matches))
    shown = ", ".join(f"{m.case_id} ({m.field} ~ {m.train_at})" for m in report.matches[:3])
    more = f" and {len(ids) - 3} more" if len(ids) > 3 else ""
    return (
        f"{len(ids)} of {report.cases} cases appear in the training data: {shown}{more}; "
        f"their scores overstate the model (see `harness data contamination --suite {suite_path}`)"
    )
