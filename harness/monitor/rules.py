"""Monitor rules: what must hold after every run, in the gate syntax plus a history threshold.

    rule      := figure [bound] [selector] comparator threshold
    threshold := number ['%']                                   absolute:  error_rate <= 2%
               | 'median' ['(' N ')'] [('-' | '+' | '*') number ['%']]
                                                                drift:     pass_rate >= median(10) - 5%

`median(N)` is the median of the figure over the last N completed runs of the suite before the
one checked (N defaults to the monitor block's `window`). `- 5%` is five points for a fraction
figure, as in gates; `* 1.5` scales the median (`latency_p95 <= median * 1.5`). The left side
is a gate's left side, parsed by the gate parser; figures are the gates' figures. Rules use the
point estimate unless a bound (`.lower`, `.upper`) is written.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from harness.errors import Diagnostic
from harness.gates.evaluate import check_gate
from harness.gates.expression import COMPARATORS, Gate, GateSyntaxError, parse_gate
from harness.suite.schema import MonitorConfig
from harness.suite.yaml_source import LocatedDocument

RUN_COMPLETES = "run_completes"  # the built-in rule every monitor checks: the run finished
MEDIAN = "median"
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_COUNT = re.compile(r"\d+")

Operator = Literal["-", "+", "*"]


class RuleSyntaxError(ValueError):
    """A rule that does not parse or names no known figure; `column` is 1-based within the rule."""

    def __init__(self, message: str, column: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.column = column


@dataclass(frozen=True)
class Drift:
    """A threshold taken from history: median of the last `window` runs, then `operator` `amount`."""

    window: int
    operator: Operator | None = None
    amount: float = 0.0
    percent: bool = False  # the amount was written with %

    def threshold(self, median: float) -> float:
        if self.operator == "-":
            return median - self.amount
        if self.operator == "+":
            return median + self.amount
        if self.operator == "*":
            return median * self.amount
        return median

    def describe(self, median: float, runs: int, shown: str, fraction: bool) -> str:
        """`median 83.3% of the last 4 runs - 5.0 pts`, with the median already formatted as `shown`."""
        text = f"median {shown} of the last {runs} run{'s' if runs != 1 else ''}"
        if self.operator in ("-", "+") and fraction:
            text += f" {self.operator} {100 * self.amount:.1f} pts"
        elif self.operator is not None:
            text += f" {self.operator} {self.amount:g}"
        return text


@dataclass(frozen=True)
class Rule:
    """One parsed rule. `gate` holds the figure, selector, comparator and (absolute) threshold."""

    text: str
    name: str
    gate: Gate
    drift: Drift | None = None
    retrain: bool = False

    @property
    def figure(self) -> str:
        return self.gate.figure


def _drift(text: str, start: int, default_window: int) -> Drift:
    """Parse `median[(N)] [op number[%]]` from `text[start:]`."""
    pos = start + len(MEDIAN)

    def skip() -> int:
        nonlocal pos
        while pos < len(text) and text[pos].isspace():
            pos += 1
        return pos

    window = default_window
    skip()
    if text.startswith("(", pos):
        pos += 1
        skip()
        count = _COUNT.match(text, pos)
        if count is None:
            raise RuleSyntaxError("median(N) takes a whole number of past runs, e.g. median(10)", pos + 1)
        window = int(count.group(0))
        if not 1 <= window <= 1000:
            raise RuleSyntaxError("median(N) takes between 1 and 1000 past runs", pos + 1)
        pos = count.end()
        skip()
        if not text.startswith(")", pos):
            raise RuleSyntaxError("expected ')' after the number of runs", pos + 1)
        pos += 1
    skip()
    if pos >= len(text):
        return Drift(window)
    operator = text[pos]
    if operator not in "-+*":
        raise RuleSyntaxError(f"expected '-', '+' or '*' after the median, found '{text[pos:pos + 10].split()[0]}'", pos + 1)
    pos += 1
    skip()
    number = _NUMBER.match(text, pos)
    if number is None or number.group(0)[0] in "+-":
        raise RuleSyntaxError(f"expected a number after '{operator}'", pos + 1)
    amount = float(number.group(0))
    pos = number.end()
    percent = text.startswith("%", pos)
    if percent:
        amount /= 100.0
        pos += 1
    if not math.isfinite(amount) or (operator == "*" and amount <= 0):
        raise RuleSyntaxError("the factor must be a positive number" if operator == "*" else "the amount must be finite",
                              number.start() + 1)
    skip()
    if pos < len(text):
        raise RuleSyntaxError(f"unexpected '{text[pos:].split()[0]}' after the threshold (one comparison per rule)", pos + 1)
    return Drift(window, operator, amount, percent)  # type: ignore[arg-type]


def _threshold_start(text: str) -> int | None:
    """Index just after the rule's comparator (outside a [...] selector), or None."""
    depth = 0
    index = 0
    while index < len(text):
        char = text[index]
        if char in "'\"":
            end = text.find(char, index + 1)
            index = len(text) if end < 0 else end + 1
            continue
        if char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
        elif depth == 0:
            for comparator in COMPARATORS:
                if text.startswith(comparator, index):
                    return index + len(comparator)
        index += 1
    return None


def parse_rule(text: str, default_window: int = 10, name: str | None = None, retrain: bool = False) -> Rule:
    """Parse one rule. Raises RuleSyntaxError with the column of the problem."""
    stripped = text.strip()
    if not stripped:
        raise RuleSyntaxError("empty rule")
    if stripped == RUN_COMPLETES:
        raise RuleSyntaxError(f"'{RUN_COMPLETES}' is built in: every monitor alerts on a failed run")
    at = _threshold_start(text)
    if at is not None:
        rest = text[at:]
        word = _WORD.match(rest.lstrip())
        if word is not None:
            word_at = at + len(rest) - len(rest.lstrip())
            if word.group(0) != MEDIAN:
                close = difflib.get_close_matches(word.group(0), [MEDIAN], n=1, cutoff=0.6)
                hint = " (did you mean 'median'?)" if close else ""
                raise RuleSyntaxError(
                    f"expected a number or median(N) after the comparison, found '{word.group(0)}'{hint}", word_at + 1
                )
            try:
                gate = parse_gate(text[:at] + " 0")
            except GateSyntaxError as exc:
                raise RuleSyntaxError(exc.message, exc.column) from None
            drift = _drift(text, word_at, default_window)
            gate = replace(gate, text=stripped)
            return Rule(stripped, name or stripped, gate, drift, retrain)
    try:
        gate = parse_gate(text)
    except GateSyntaxError as exc:
        raise RuleSyntaxError(exc.message, exc.column) from None
    return Rule(stripped, name or stripped, gate, None, retrain)


def check_rule(rule: Rule, metric_names: Sequence[str] | None) -> str | None:
    """A static problem of a parsed rule (unknown figure, a fraction threshold out of range), or None."""
    gate = rule.gate
    drift = rule.drift
    if drift is not None:
        # `- 5%` / `- 0.05` is in the figure's unit, checked like a gate's threshold; a factor is unitless
        if drift.operator in ("-", "+"):
            gate = replace(gate, threshold=drift.amount, percent=drift.percent)
        else:
            gate = replace(gate, threshold=0.0, percent=True)
    return check_gate(gate, metric_names)


def parse_rules(config: MonitorConfig, metric_names: Sequence[str] | None = None) -> list[Rule]:
    """The monitor block's rules, parsed (the suite loader has already reported problems)."""
    rules = []
    for spec in config.rules:
        rule = parse_rule(spec.rule, config.window, spec.name, spec.retrain)
        problem = check_rule(rule, metric_names)
        if problem:
            raise RuleSyntaxError(problem)
        rules.append(rule)
    return rules


def check_monitor(config: MonitorConfig, doc: LocatedDocument, suite_path: Path,
                  metric_names: Sequence[str] | None) -> list[Diagnostic]:
    """One located diagnostic per rule that does not parse or names an unknown figure; duplicate names."""
    from harness.gates.validate import scalar_column

    try:
        source: list[str] | None = suite_path.read_text(encoding="utf-8").splitlines()
    except OSError:
        source = None
    raw = ((doc.data or {}).get("monitor") or {}).get("rules") or []
    problems: list[Diagnostic] = []
    names: dict[str, int] = {}
    for index, spec in enumerate(config.rules):
        loc: tuple[str | int, ...] = ("monitor", "rules", index)
        if index < len(raw) and isinstance(raw[index], dict):
            loc = (*loc, "rule")
        try:
            rule = parse_rule(spec.rule, config.window, spec.name, spec.retrain)
        except RuleSyntaxError as exc:
            line, column = scalar_column(doc, source, loc, exc.column - 1)
            problems.append(Diagnostic(doc.path, f"monitor rule '{spec.rule.strip()}': {exc.message}", line, column))
            continue
        problem = check_rule(rule, metric_names)
        if problem:
            line, column = scalar_column(doc, source, loc, 0)
            problems.append(Diagnostic(doc.path, f"monitor rule '{rule.text}': {problem}", line, column))
            continue
        if rule.name in names:
            line, column = scalar_column(doc, source, loc, 0)
            problems.append(Diagnostic(doc.path, f"monitor rule name '{rule.name}' is used twice (give `name:`)", line, column))
        names[rule.name] = index
    return problems
