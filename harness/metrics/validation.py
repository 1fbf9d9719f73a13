"""Suite-level checks of the metric configuration, run by the loader once cases are expanded.

Names and options are already checked by the schema; here is what needs the whole suite: a
metric listed twice, an `evaluate:` script that does not exist, classification without a
label set or with references outside it, and metric checks on cases without references.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from harness.errors import Diagnostic
from harness.metrics.classification import LabelExtractor
from harness.metrics.evaluate_bridge import resolve_target
from harness.metrics.options import CLASSIFICATION, EVALUATE_PREFIX, ClassificationOptions
from harness.metrics.plan import metric_checks, resolve_entries
from harness.suite.case import Case
from harness.suite.schema import SuiteFile
from harness.suite.sources import MAX_REPORTED_PROBLEMS
from harness.suite.yaml_source import LocatedDocument


def _case_problem(case: Case, message: str) -> Diagnostic:
    return Diagnostic(case.origin, f"case '{case.id}': {message}")


def _label_problems(cases: Sequence[Case], labels: list[str]) -> list[Diagnostic]:
    extractor = LabelExtractor(labels)
    problems = []
    for case in cases:
        if len(case.references) > 1:
            problems.append(_case_problem(case, f"a classification case takes one reference label, not {len(case.references)}"))
        elif case.references and extractor.canonical(case.references[0]) is None:
            problems.append(
                _case_problem(case, f"reference '{case.references[0]}' is not one of the labels ({', '.join(labels)})")
            )
    return problems


def metric_problems(spec: SuiteFile, cases: Sequence[Case], doc: LocatedDocument, base_dir: Path) -> list[Diagnostic]:
    """Located problems of the suite's metric configuration (empty when it is sound)."""
    problems: list[Diagnostic] = []
    first_at: dict[str, int] = {}
    for index, item in enumerate(spec.metrics):
        name = item if isinstance(item, str) else item.name
        if name in first_at:
            problems.append(doc.diagnostic(("metrics", index), f"metric '{name}' is listed twice (also item {first_at[name] + 1})"))
        first_at.setdefault(name, index)
    if problems:
        return problems

    for entry in resolve_entries(spec.metrics, spec.labels, cases):
        loc: tuple[str | int, ...] = ("metrics", entry.index) if entry.index is not None else ()
        if entry.name.startswith(EVALUATE_PREFIX):
            try:
                resolve_target(entry.name, base_dir)
            except ValueError as exc:
                problems.append(doc.diagnostic(loc, f"{entry.name}: {exc}"))
        elif entry.name == CLASSIFICATION:
            assert isinstance(entry.options, ClassificationOptions)
            labels = entry.options.labels or spec.labels
            if not labels:
                problems.append(
                    doc.diagnostic(
                        loc, "classification needs a label set: add `labels: [...]` to the suite or `labels` to its options"
                    )
                )
            else:
                problems.extend(_label_problems(cases, labels))

    for case in cases:
        checked = metric_checks(case)
        if checked and not case.references:
            problems.append(_case_problem(case, f"the check on metric '{checked[0]}' needs a reference, and the case has none"))
    if len(problems) > MAX_REPORTED_PROBLEMS:
        hidden = len(problems) - MAX_REPORTED_PROBLEMS
        problems = [*problems[:MAX_REPORTED_PROBLEMS], Diagnostic(doc.path, f"... and {hidden} more metric problems")]
    return problems
