"""`harness data clean`: drop invalid examples and copies, replace PII with placeholders, report every change.

Two streaming passes: the first finds problems and duplicate groups (the scan `check`
uses), the second writes the examples kept. The input is never modified; the output and
the report are written to temporary files and moved into place at the end.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
from pydantic import BaseModel, Field

from harness.data.duplicates import DuplicateFinder
from harness.data.output import atomic_write, same_file
from harness.data.pii import PiiScanner
from harness.data.problems import ALL_KINDS, DUPLICATE_KINDS, INVALID_KINDS, QUALITY_KINDS
from harness.data.scan import ScanOptions, ScanState, finish, scan
from harness.data.tokens import ApproximateCounter, TokenCounter
from harness.errors import Diagnostic, UsageError
from harness.suite.sources import Record, iter_records

# Fields whose values are identifiers or enums, never free text to anonymize.
_NOT_TEXT_KEYS = frozenset({"role", "id", "tool_call_id", "type", "weight"})
DROPPABLE = (*QUALITY_KINDS,)


class CleanReport(BaseModel):
    input: str
    output: str
    report: str = Field(description="The JSON file listing every change.")
    examples: int
    kept: int
    dropped: dict[str, int] = Field(description="Examples dropped, by reason.")
    anonymized_examples: int
    replacements: dict[str, int] = Field(description="PII placeholders written, by kind.")


def _anonymize(value: Any, scanner: PiiScanner, counts: Counter[str], key: str | None = None) -> Any:
    if isinstance(value, str):
        if key in _NOT_TEXT_KEYS:
            return value
        text, matches = scanner.redact(value)
        counts.update(m.kind for m in matches)
        return text
    if isinstance(value, list):
        return [_anonymize(v, scanner, counts, key) for v in value]
    if isinstance(value, dict):
        return {k: _anonymize(v, scanner, counts, k) for k, v in value.items()}
    return value


def clean_file(
    path: Path,
    output: Path,
    options: ScanOptions,
    report_path: Path | None = None,
    drop: frozenset[str] = frozenset(),
    anonymize: bool = True,
    counter: TokenCounter | None = None,
    on_bytes: Callable[[int], None] | None = None,
) -> CleanReport:
    """Write the cleaned copy of `path` to `output` and the change list to `report_path`.

    `counter` matters only when over-long examples are dropped; by default tokens are approximated.
    """
    report_path = report_path or output.with_name(output.name + ".report.json")
    for target, what in ((output, "output"), (report_path, "report")):
        if same_file(path, target):
            raise UsageError(f"the {what} '{target}' is the input file: clean never edits its input, choose another path")
    unknown = sorted(set(drop) - set(DROPPABLE))
    if unknown:
        raise UsageError(f"--drop takes {', '.join(DROPPABLE)}, not {', '.join(unknown)}")
    drop_kinds = set(INVALID_KINDS) | set(drop)
    if "pii" not in drop:
        drop_kinds.discard("pii")
    state = ScanState()
    reasons = bytearray()
    with DuplicateFinder(options.near_threshold, near=options.near_duplicates) as finder:
        for scanned in scan([path], options, counter or ApproximateCounter(), state, finder, on_bytes):
            kinds = [p.kind for p in scanned.problems if p.kind in drop_kinds]
            reasons.append(ALL_KINDS.index(kinds[0]) + 1 if kinds else 0)
        duplicates = finish(state, finder)
    copies = state.duplicate_of()
    for index, problem in duplicates:
        if not reasons[index]:
            reasons[index] = ALL_KINDS.index(problem.kind) + 1

    scanner = PiiScanner(names=options.pii_names, phone_region=options.phone_region)
    dropped: Counter[str] = Counter()
    replacements: Counter[str] = Counter()
    anonymized = kept = 0
    shown = str(path)
    is_csv = path.suffix.lower() in (".csv", ".tsv")
    is_array = path.suffix.lower() == ".json"
    with atomic_write(report_path) as report, atomic_write(output, newline="" if is_csv else None) as out:
        report.write('{"changes": [\n')
        first_change = True

        def change(entry: dict[str, Any]) -> None:
            nonlocal first_change
            report.write(("" if first_change else ",\n") + orjson.dumps(entry).decode())
            first_change = False

        writer: csv.DictWriter[str] | None = None
        if is_array:
            out.write("[\n")
        index = -1
        for item in iter_records(path, "csv" if is_csv else "json", shown, on_bytes):
            index += 1
            line = item.line if isinstance(item, (Record, Diagnostic)) else 0
            reason = reasons[index] if index < len(reasons) else ALL_KINDS.index("invalid_record") + 1
            if reason or isinstance(item, Diagnostic):
                kind = ALL_KINDS[reason - 1] if reason else "invalid_record"
                dropped[kind] += 1
                entry: dict[str, Any] = {"line": line or None, "row": index + 1, "action": "dropped", "reason": kind}
                if kind in DUPLICATE_KINDS and index in copies:
                    entry["of"] = state.where(copies[index][1])
                    entry["similarity"] = copies[index][2]
                change(entry)
                continue
            data = item.data
            if anonymize:
                counts: Counter[str] = Counter()
                data = _anonymize(data, scanner, counts)
                if counts:
                    anonymized += 1
                    replacements.update(counts)
                    change({"line": line or None, "row": index + 1, "action": "anonymized", "replacements": dict(counts)})
            if is_csv:
                if writer is None:
                    writer = csv.DictWriter(out, fieldnames=list(data), delimiter="\t" if path.suffix.lower() == ".tsv" else ",")
                    writer.writeheader()
                writer.writerow(data)
            elif is_array:
                out.write(("" if kept == 0 else ",\n") + orjson.dumps(data).decode())
            else:
                out.write(orjson.dumps(data).decode() + "\n")
            kept += 1
        if is_array:
            out.write("\n]\n")
        result = CleanReport(
            input=shown,
            output=str(output),
            report=str(report_path),
            examples=len(state),
            kept=kept,
            dropped={k: dropped[k] for k in ALL_KINDS if dropped.get(k)},
            anonymized_examples=anonymized,
            replacements=dict(sorted(replacements.items())),
        )
        report.write('\n],\n"summary": ' + orjson.dumps(result.model_dump()).decode() + "}\n")
    return result
