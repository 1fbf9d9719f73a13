"""Suite-time validation of `gates:`: each expression parsed, problems as located diagnostics."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from harness.errors import Diagnostic
from harness.gates.evaluate import check_gate
from harness.gates.expression import GateSyntaxError, parse_gate
from harness.metrics.options import CLASSIFICATION, CLASSIFICATION_AGGREGATES, EVALUATE_PREFIX, TEXT_METRICS
from harness.suite.yaml_source import LocatedDocument


def _file_column(doc: LocatedDocument, source: list[str] | None, index: int, offset: int) -> tuple[int | None, int | None]:
    """Line and column in the suite file of character `offset` (0-based) of gate `index`."""
    return scalar_column(doc, source, ("gates", index), offset)


def scalar_column(doc: LocatedDocument, source: list[str] | None, loc: tuple[str | int, ...],
                  offset: int) -> tuple[int | None, int | None]:
    """Line and column in the suite file of character `offset` (0-based) of the string at `loc`.

    Exact for one-line plain or quoted scalars (what gates and rules are); the node's own position otherwise.
    """
    position = doc.position(loc)
    if position is None:
        return None, None
    column = position.column
    if source is not None and 0 < position.line <= len(source):
        line = source[position.line - 1]
        at = column - 1
        if at < len(line) and line[at] in "'\"":
            column += 1
    return position.line, column + offset


def check_gates(gates: Sequence[str], doc: LocatedDocument, suite_path: Path, metric_names: Sequence[str] | None) -> list[Diagnostic]:
    """One diagnostic per invalid gate expression. `metric_names` None accepts any name as a metric."""
    try:
        source: list[str] | None = suite_path.read_text(encoding="utf-8").splitlines()
    except OSError:
        source = None
    problems = []
    for index, text in enumerate(gates):
        try:
            gate = parse_gate(text)
        except GateSyntaxError as exc:
            line, column = _file_column(doc, source, index, exc.column - 1)
            problems.append(Diagnostic(doc.path, f"gate '{text}': {exc.message}", line, column))
            continue
        problem = check_gate(gate, metric_names)
        if problem:
            line, column = _file_column(doc, source, index, 0)
            problems.append(Diagnostic(doc.path, f"gate '{text}': {problem}", line, column))
    return problems


# What the reference metrics report. A suite without `metrics:` gets the text metrics by
# default (and classification when it has labels).
_DEFAULT_FIGURES = (*TEXT_METRICS, *CLASSIFICATION_AGGREGATES)


def suite_metric_figures(metrics: Sequence[object]) -> list[str] | None:
    """Figure names a suite's `metrics:` entries produce; None when one of them may produce any name."""
    if not metrics:
        return list(_DEFAULT_FIGURES)
    names: list[str] = []
    for entry in metrics:
        name = entry if isinstance(entry, str) else getattr(entry, "name", None)
        if not isinstance(name, str):
            return None
        if name.startswith(EVALUATE_PREFIX):  # a plug-in names its own figures
            return None
        names.extend(CLASSIFICATION_AGGREGATES if name == CLASSIFICATION else [name])
    return names


def gates_for_run(suite_gates: Sequence[str], cli_gates: Sequence[str], metrics: Sequence[object],
                  model_names: Sequence[str]) -> tuple[list[str], list[str]]:
    """The gate texts a run records (the suite's, then the CLI's), checked before anything is sent,
    and warnings about suite gates left out.

    A suite gate on a model this run does not include (say `pass_rate[tuned]` in a run of another
    `--model`) does not apply and is left out with a warning. A `--gate` that does not parse,
    names an unknown figure or a model the run does not have raises UsageError: it was asked for.
    """
    from harness.errors import UsageError
    from harness.gates.evaluate import parse_gates

    known = suite_metric_figures(metrics)
    parsed = parse_gates(list(cli_gates), origin="--gate")
    for gate in parsed:
        problem = check_gate(gate, known)
        if problem:
            raise UsageError(f"--gate '{gate.text}': {problem}")
        if gate.model is not None and gate.model not in model_names:
            raise UsageError(
                f"--gate '{gate.text}': model '{gate.model}' is not in this run (models: {', '.join(model_names)})"
            )
    kept: list[str] = []
    warnings: list[str] = []
    for gate in parse_gates(list(suite_gates), origin="gate"):
        if gate.model is not None and gate.model not in model_names:
            warnings.append(f"suite gate '{gate.text}' left out: model '{gate.model}' is not in this run")
        else:
            kept.append(gate.text)
    return [*kept, *cli_gates], warnings
