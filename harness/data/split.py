"""`harness data split`: a deterministic train/val/test split that keeps near-duplicates together.

Examples are grouped first (exact and near duplicates form one group, see duplicates.py);
whole groups are then dealt to the splits in a seeded random order, each to the split
furthest below its target, per stratum when `stratify` names a field. The same file and
seed always give the same split, and no group straddles two splits, so a test example's
near copy can never sit in train.
"""

from __future__ import annotations

import csv
import dataclasses
import math
from array import array
from collections import Counter
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import IO, Any

import numpy as np
import orjson
from pydantic import BaseModel, Field

from harness.data.duplicates import DuplicateFinder
from harness.data.output import atomic_write, same_file
from harness.data.problems import DataError
from harness.data.scan import ScanOptions, ScanState, finish, scan
from harness.errors import Diagnostic, UsageError
from harness.suite.sources import iter_records

SPLITS = ("train", "val", "test")
MISSING = "<missing>"
_MAX_LISTED = 20


class SplitReport(BaseModel):
    input: str
    seed: int
    fractions: dict[str, float]
    stratify: str | None
    outputs: dict[str, str] = Field(description="Split -> file written.")
    counts: dict[str, int] = Field(description="Examples per split.")
    groups: int = Field(description="Groups dealt (an example without copies is a group of one).")
    grouped_examples: int = Field(description="Examples that share a group with another example.")
    strata: dict[str, dict[str, int]] | None = Field(default=None, description="Stratum -> examples per split.")


def check_fractions(fractions: dict[str, float]) -> None:
    for name, value in fractions.items():
        if not 0 <= value <= 1:
            raise UsageError(f"--{name} must be between 0 and 1, got {value}")
    total = sum(fractions.values())
    if not math.isclose(total, 1.0, abs_tol=1e-6):
        raise UsageError(f"--train, --val and --test must add up to 1, got {total:g}")


def field_value(record: Any, dotted: str) -> str:
    """The value at a dotted path (`label`, `metadata.topic`), as text; `<missing>` when absent."""
    value = record
    for part in dotted.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        else:
            return MISSING
    if isinstance(value, str):
        return value
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def deal_groups(
    group_sizes: dict[int, int], group_strata: dict[int, str], fractions: dict[str, float], seed: int
) -> dict[int, str]:
    """Assign every group (by id) to a split: seeded order, each to the split furthest below its target."""
    names = [name for name in SPLITS if fractions.get(name, 0) > 0]
    by_stratum: dict[str, list[int]] = {}
    for group in sorted(group_sizes):
        by_stratum.setdefault(group_strata.get(group, MISSING), []).append(group)
    rng = np.random.default_rng(seed)
    assignment: dict[int, str] = {}
    for stratum in sorted(by_stratum):
        groups = by_stratum[stratum]
        order = rng.permutation(len(groups))
        total = sum(group_sizes[g] for g in groups)
        targets = {name: fractions[name] * total for name in names}
        filled = dict.fromkeys(names, 0)
        for position in order.tolist():
            group = groups[position]
            # Furthest below target, relative to it, so a 10% split fills as steadily as an 80% one.
            name = max(names, key=lambda n: ((targets[n] - filled[n]) / targets[n], -names.index(n)))
            assignment[group] = name
            filled[name] += group_sizes[group]
    return assignment


def output_paths(path: Path, out_dir: Path | None, fractions: dict[str, float]) -> dict[str, Path]:
    directory = out_dir if out_dir is not None else path.parent
    return {
        name: directory / f"{path.stem}.{name}{path.suffix}"
        for name in SPLITS
        if fractions.get(name, 0) > 0
    }


def split_file(
    path: Path,
    fractions: dict[str, float],
    seed: int,
    options: ScanOptions,
    out_dir: Path | None = None,
    stratify: str | None = None,
    on_bytes: Callable[[int], None] | None = None,
) -> SplitReport:
    """Split `path` into `<stem>.train<ext>`, `<stem>.val<ext>`, `<stem>.test<ext>` in `out_dir`."""
    check_fractions(fractions)
    options = dataclasses.replace(options, pii=False, dedup_invalid=True)
    outputs = output_paths(path, out_dir, fractions)
    for target in outputs.values():
        if same_file(path, target):
            raise UsageError(f"the output '{target}' is the input file: choose another --output directory")

    state = ScanState()
    strata_codes: dict[str, int] = {}
    stratum_of = array("i")
    unreadable: list[str] = []
    with DuplicateFinder(options.near_threshold, near=options.near_duplicates) as finder:
        for item in scan([path], options, None, state, finder, on_bytes):
            if item.example is None:
                if len(unreadable) < _MAX_LISTED:
                    unreadable.extend(str(p) for p in item.problems)
                stratum_of.append(-1)
                continue
            value = field_value(item.example.data, stratify) if stratify else ""
            stratum_of.append(strata_codes.setdefault(value, len(strata_codes)))
        finish(state, finder)
    if unreadable:
        raise DataError([*unreadable, f"{path}: cannot split a file with unreadable records: run `harness data clean` first"])
    n = len(state)
    if n == 0:
        raise UsageError(f"{path}: no examples to split")

    group_of = np.arange(n, dtype=np.int64)
    if state.groups is not None and len(state.dedup_index):
        dedup_index = np.frombuffer(state.dedup_index, dtype=np.int32).astype(np.int64)
        group_of[dedup_index] = dedup_index[state.groups.labels]
    sizes = Counter(group_of.tolist())
    names_of_strata = {code: value for value, code in strata_codes.items()}
    group_strata = {int(g): names_of_strata[stratum_of[int(g)]] for g in sizes}
    assignment = deal_groups(dict(sizes), group_strata, fractions, seed)

    counts: Counter[str] = Counter()
    strata: dict[str, Counter[str]] = {}
    is_csv = path.suffix.lower() in (".csv", ".tsv")
    with ExitStack() as stack:
        handles = {
            name: stack.enter_context(atomic_write(target, newline="" if is_csv else None))
            for name, target in outputs.items()
        }
        writers = _Writers(handles, path.suffix.lower())
        index = -1
        for record in iter_records(path, "csv" if is_csv else "json", str(path), on_bytes):
            if isinstance(record, Diagnostic):
                continue
            index += 1
            name = assignment[int(group_of[index])]
            writers.write(name, record.data)
            counts[name] += 1
            if stratify:
                strata.setdefault(group_strata[int(group_of[index])], Counter())[name] += 1
        writers.finish()
    return SplitReport(
        input=str(path),
        seed=seed,
        fractions=fractions,
        stratify=stratify,
        outputs={name: str(p) for name, p in outputs.items()},
        counts={name: counts.get(name, 0) for name in outputs},
        groups=len(sizes),
        grouped_examples=sum(size for size in sizes.values() if size > 1),
        strata={k: {name: v.get(name, 0) for name in outputs} for k, v in sorted(strata.items())} if stratify else None,
    )


class _Writers:
    """One output per split, in the input's format (JSONL, JSON array or CSV/TSV)."""

    def __init__(self, handles: dict[str, IO[str]], suffix: str) -> None:
        self.handles = handles
        self.is_csv = suffix in (".csv", ".tsv")
        self.delimiter = "\t" if suffix == ".tsv" else ","
        self.array = suffix == ".json"
        self.csv_writers: dict[str, csv.DictWriter[str]] = {}
        self.started: set[str] = set()
        if self.array:
            for handle in handles.values():
                handle.write("[")

    def write(self, name: str, data: Any) -> None:
        handle = self.handles[name]
        if self.is_csv:
            writer = self.csv_writers.get(name)
            if writer is None:
                writer = csv.DictWriter(handle, fieldnames=list(data), delimiter=self.delimiter)
                writer.writeheader()
                self.csv_writers[name] = writer
            writer.writerow(data)
        elif self.array:
            handle.write(("\n" if name not in self.started else ",\n") + orjson.dumps(data).decode())
        else:
            handle.write(orjson.dumps(data).decode() + "\n")
        self.started.add(name)

    def finish(self) -> None:
        if self.array:
            for handle in self.handles.values():
                handle.write("\n]\n")
