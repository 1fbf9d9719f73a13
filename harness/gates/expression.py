"""Gate expressions: a small hand-written parser (no eval) for one comparison over a run figure.

    gate      := figure [bound] [selector] [bound] comparator number ['%']
    figure    := NAME ('.' NAME)*           pass_rate, win_rate, rougeL, word_overlap.overlap, ...
    bound     := '.' ('point' | 'lower' | 'upper')
    selector  := '[' item (',' item)* ']'    first bare item = the model; or model=, tag=, min_valid=
    comparator:= '>=' | '>' | '<=' | '<' | '==' | '!='

Examples: `win_rate >= 0.7`, `win_rate.point[tuned] > 55%`, `pass_rate[tuned, tag=billing] >= 0.9`,
`latency_p95 <= 2.5`, `rubric[min_valid=0.9] >= 4`. Errors carry the 1-based column of the problem.
Which figure names exist is decided by `harness.gates.figures`; this module only reads the text.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal

Bound = Literal["point", "lower", "upper"]
BOUNDS: tuple[Bound, ...] = ("point", "lower", "upper")
COMPARATORS = (">=", "<=", "==", "!=", ">", "<")
SELECTOR_KEYS = ("model", "tag", "min_valid")

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_BARE_VALUE = re.compile(r"[^\s,\]=\"']+")


class GateSyntaxError(ValueError):
    """A gate expression that does not parse; `column` is 1-based within the expression."""

    def __init__(self, message: str, column: int) -> None:
        super().__init__(message)
        self.message = message
        self.column = column

    def __str__(self) -> str:
        return f"{self.message} (column {self.column})"


@dataclass(frozen=True)
class Gate:
    """One parsed gate. `bound` None means the figure's default bound."""

    text: str
    figure: str
    comparator: str
    threshold: float
    bound: Bound | None = None
    model: str | None = None
    tag: str | None = None
    min_valid: float | None = None  # a fraction (<= 1) of items, or a count (> 1)
    percent: bool = False  # the threshold was written as a percentage

    def holds(self, value: float) -> bool:
        return compare(value, self.comparator, self.threshold)

    @property
    def wants_high(self) -> bool:
        """The gate asks the figure to be large (>, >=): its conservative side is the lower bound."""
        return self.comparator in (">", ">=")


def compare(value: float, comparator: str, threshold: float) -> bool:
    if comparator == ">=":
        return value >= threshold
    if comparator == ">":
        return value > threshold
    if comparator == "<=":
        return value <= threshold
    if comparator == "<":
        return value < threshold
    if comparator == "==":
        return math.isclose(value, threshold, rel_tol=1e-9, abs_tol=1e-12)
    return not math.isclose(value, threshold, rel_tol=1e-9, abs_tol=1e-12)


class _Reader:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def skip_space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def peek(self) -> str:
        self.skip_space()
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def error(self, message: str, at: int | None = None) -> GateSyntaxError:
        return GateSyntaxError(message, (self.pos if at is None else at) + 1)

    def shown(self) -> str:
        """What stands at the cursor, for messages."""
        if self.pos >= len(self.text):
            return "the end"
        token = re.match(r"\S+", self.text[self.pos :])
        return f"'{token.group(0)[:20] if token else self.text[self.pos]}'"

    def match(self, pattern: re.Pattern[str]) -> str | None:
        self.skip_space()
        found = pattern.match(self.text, self.pos)
        if found is None:
            return None
        self.pos = found.end()
        return found.group(0)

    def literal(self, *options: str) -> str | None:
        self.skip_space()
        for option in options:
            if self.text.startswith(option, self.pos):
                self.pos += len(option)
                return option
        return None


def _bound(reader: _Reader) -> Bound:
    reader.skip_space()
    start = reader.pos
    name = reader.match(_NAME)
    if name is None:
        raise reader.error(f"expected point, lower or upper after '.', found {reader.shown()}", start)
    if name not in BOUNDS:
        raise reader.error(f"unknown bound '.{name}': use .point, .lower or .upper", start)
    return name


def _value(reader: _Reader) -> str:
    reader.skip_space()
    if reader.peek() in ("'", '"'):
        quote, start = reader.text[reader.pos], reader.pos
        end = reader.text.find(quote, start + 1)
        if end < 0:
            raise reader.error("unterminated quoted name", start)
        reader.pos = end + 1
        value = reader.text[start + 1 : end]
    else:
        value = reader.match(_BARE_VALUE) or ""
    if not value:
        raise reader.error(f"expected a model name or key=value in [...], found {reader.shown()}")
    return value


def _selector(reader: _Reader, fields: dict[str, str | float | None]) -> None:
    positional_used = False
    while True:
        start = reader.pos
        reader.skip_space()
        start = reader.pos
        key: str | None = None
        name = reader.match(_NAME)
        if name is not None and reader.literal("="):
            key = name
        else:
            reader.pos = start
        if key is None:
            if positional_used or fields["model"] is not None:
                raise reader.error("only one model may be named: use tag=NAME or min_valid=N for the rest", start)
            positional_used = True
            fields["model"] = _value(reader)
        elif key not in SELECTOR_KEYS:
            raise reader.error(f"unknown key '{key}' in [...]: use model=, tag= or min_valid=", start)
        elif fields[key] is not None:
            raise reader.error(f"'{key}' given twice", start)
        elif key == "min_valid":
            number_at = reader.pos
            number = reader.match(_NUMBER)
            if number is None:
                raise reader.error("min_valid needs a number: a fraction of items (0.8, 80%) or a count (50)")
            value = float(number)
            if reader.literal("%"):
                value /= 100.0
            if value <= 0 or (value > 1 and not value.is_integer()):
                raise reader.error("min_valid is a fraction in (0, 1] or a whole count of items", number_at)
            fields["min_valid"] = value
        else:
            fields[key] = _value(reader)
        closing = reader.literal(",", "]")
        if closing == "]":
            return
        if closing is None:
            raise reader.error(f"expected ',' or ']' in the selector, found {reader.shown()}")


def parse_gate(text: str) -> Gate:
    """Parse one gate expression. Raises GateSyntaxError naming the column of the problem."""
    reader = _Reader(text)
    if not text.strip():
        raise GateSyntaxError("empty gate expression", 1)
    start = reader.pos
    figure = reader.match(_NAME)
    if figure is None:
        raise reader.error(f"expected a figure name (pass_rate, win_rate, ...), found {reader.shown()}", start)
    # Dotted names (`word_overlap.overlap`, from plug-in metrics) are one figure unless the last
    # part is a bound: `win_rate.point` is win_rate's point estimate.
    while reader.text.startswith(".", reader.pos):
        after = _NAME.match(reader.text, reader.pos + 1)
        if after is None or after.group(0) in BOUNDS:
            break
        figure += "." + after.group(0)
        reader.pos = after.end()
    fields: dict[str, str | float | None] = {"model": None, "tag": None, "min_valid": None}
    bound: Bound | None = None
    while reader.peek() in (".", "["):
        at = reader.pos
        if reader.literal("."):
            if bound is not None:
                raise reader.error("the bound is given twice", at)
            bound = _bound(reader)
        else:
            reader.literal("[")
            if fields["model"] is not None or fields["tag"] is not None or fields["min_valid"] is not None:
                raise reader.error("only one [...] selector is allowed", at)
            _selector(reader, fields)
    comparator = reader.literal(*COMPARATORS)
    if comparator is None:
        if reader.peek() == "=":
            swapped = reader.text[reader.pos + 1 : reader.pos + 2]
            if swapped in ("<", ">"):
                raise reader.error(f"write '{swapped}=' instead of '={swapped}'")
            raise reader.error("use '==' to compare for equality")
        raise reader.error(f"expected a comparison (>=, >, <=, <, ==, !=) after '{figure}', found {reader.shown()}")
    number_at = reader.pos
    number = reader.match(_NUMBER)
    if number is None:
        reader.skip_space()
        raise reader.error(f"expected a number after '{comparator}', found {reader.shown()}")
    threshold = float(number)
    percent = reader.literal("%") is not None
    if percent:
        threshold /= 100.0
    if not math.isfinite(threshold):
        raise reader.error("the threshold must be a finite number", number_at)
    reader.skip_space()
    if reader.pos < len(text):
        raise reader.error(f"unexpected {reader.shown()} after the threshold (one comparison per gate; give several gates)")
    model, tag, min_valid = fields["model"], fields["tag"], fields["min_valid"]
    return Gate(
        text=text.strip(),
        figure=figure,
        comparator=comparator,
        threshold=threshold,
        bound=bound,
        model=model if isinstance(model, str) else None,
        tag=tag if isinstance(tag, str) else None,
        min_valid=min_valid if isinstance(min_valid, float) else None,
        percent=percent,
    )
