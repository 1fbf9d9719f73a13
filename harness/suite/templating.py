"""Jinja2 rendering of suite-authored text in a hardened sandbox.

Only text the suite author wrote (`input:`, `messages:`, `system:`, judge templates, and
sources that opt in with `template: true`) is a template; data read from files is literal.

Jinja's `ImmutableSandboxedEnvironment` stops templates from reaching Python internals, but
not from exhausting the machine: `{{ 'a' * 4000000000 }}`, `{{ 9**9**9 }}`, nested loops
over large ranges or `{% include %}` of an arbitrary path all get through it. On top of it:

- no loader: `include`, `import` and `extends` are refused when the text is parsed;
- every operation that can amplify text (`*`, `+`, `%`, `**`, `replace`, `join`, `indent`,
  format widths, any numeric size argument of a filter or method) is checked before it runs
  against the render's size limit (`MAX_RENDERED_CHARS`, or twice the size of the variables
  when they are larger);
- `range` is limited to `MAX_RANGE` numbers, and a whole render to `MAX_STEPS` steps (loop
  iterations, filter and function calls, attribute lookups; every `for` loop's sequence is
  wrapped in a counter when the text is compiled, since the sandbox has no hook inside loops)
  and `MAX_SECONDS` of wall time; recursive loops are refused;
- whatever still fails inside the template engine (recursion, a wrong type, a missing
  variable) becomes a `TemplateProblem`, which the loader reports as a located suite error.
"""

from __future__ import annotations

import re
import string
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from types import TracebackType
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.visitor import NodeTransformer

MAX_RENDERED_CHARS = 1_000_000  # characters a render may produce (more when its variables are bigger)
MAX_RANGE = 100_000  # numbers in one `range(...)`
MAX_STEPS = 250_000  # loop iterations, filter and function calls, attribute lookups in one render
MAX_SECONDS = 1.0  # wall time of one render
_MAX_POWER_BITS = 4096  # `a ** b` results are kept below this many bits
_CHECK_CLOCK_EVERY = 256  # steps between two looks at the clock
_SUM_COPIES = 50  # `sum` of lists copies its growing total per item: allow this many full copies
_LOOP_GUARD = "_harness_loop_guard"
_CONCAT = "_harness_concat"

_REFUSED_NODES: dict[type[nodes.Node], str] = {
    nodes.Include: "include",
    nodes.Import: "import",
    nodes.FromImport: "import",
    nodes.Extends: "extends",
}


class TemplateProblem(ValueError):
    """A template that cannot be rendered; the message says why (and where in the text, when known)."""


class _Refused(TemplateProblem):
    """Raised inside a render by a sandbox limit."""


@dataclass
class _Budget:
    limit: int
    steps: int = 0
    deadline: float = 0.0


_budget: ContextVar[_Budget | None] = ContextVar("harness_template_budget", default=None)


def _limit() -> int:
    budget = _budget.get()
    return budget.limit if budget is not None else MAX_RENDERED_CHARS


def _check_size(size: int, what: str) -> None:
    limit = _limit()
    if size > limit:
        raise _Refused(f"{what} would make {size:,} characters, over the template limit of {limit:,}")


def _check_number(value: Any) -> None:
    """Numbers given to filters and methods act as sizes (widths, counts): bound them."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > _limit():
        raise _Refused(f"the number {value:,} is over the template limit of {_limit():,}")


def _check_arguments(args: Iterable[Any], kwargs: Mapping[str, Any]) -> None:
    for value in (*args, *kwargs.values()):
        _check_number(value)


def text_size(value: Any, stop: int | None = None) -> int:
    """Characters a value prints as, roughly (nested lists and dicts included), counting no
    further than `stop`: a list of a million references to one long text is as big as it prints."""
    if isinstance(value, str):
        return len(value)
    total = 0
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            total += len(item)
        elif isinstance(item, Mapping):
            total += 4 * len(item)
            stack.extend(item.values())
            stack.extend(key for key in item if isinstance(key, str))
        elif isinstance(item, (list, tuple)):
            total += 4 * len(item)
            stack.extend(item)
        else:
            total += 8
        if stop is not None and total > stop:
            break
    return total


def _sized(value: Any) -> int | None:
    if isinstance(value, (str, list, tuple)):
        return text_size(value, _limit())
    return None


_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")


def _check_percent_format(text: str, args: Any) -> None:
    """`'%10000000d' % 1` and `'%*d' % (10**9, 1)`: widths and precisions are sizes."""
    for width, precision in _PERCENT_SPEC.findall(text):
        for part in (width, precision):
            if part.isdigit():
                _check_number(int(part))
    values = args if isinstance(args, tuple) else (args,)
    _check_arguments(values, args if isinstance(args, Mapping) else {})
    _check_size(len(text) + sum(len(v) for v in values if isinstance(v, str)), "this formatting")


def _check_format_string(text: str) -> None:
    """`'{:>1000000000}'.format(x)`: the width is inside the string."""
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as exc:
        raise _Refused(f"bad format string: {exc}") from None
    for _, _, spec, _ in parsed:
        for number in re.findall(r"\d+", spec or ""):
            _check_number(int(number))


def _checked_binop(operator_name: str, left: Any, right: Any) -> None:
    if operator_name == "*":
        for sequence, count in ((left, right), (right, left)):
            size = _sized(sequence)
            if size is not None and isinstance(count, int):
                _check_size(size * max(count, 0), "repeating a text or list")
    elif operator_name == "+":
        left_size, right_size = _sized(left), _sized(right)
        if left_size is not None and right_size is not None:
            _check_size(left_size + right_size, "joining two texts or lists")
    elif operator_name == "**":
        big = isinstance(left, int) and isinstance(right, int) and right > 0 and abs(left) > 1
        if big and right * abs(left).bit_length() > _MAX_POWER_BITS:
            raise _Refused(f"{left} ** {right} is too large a number for a template")
    elif operator_name == "%" and isinstance(left, str):
        _check_percent_format(left, right)


def _checked_replace(text: str, old: str, new: str, count: int = -1) -> None:
    occurrences = text.count(old) if old else len(text) + 1
    if count >= 0:
        occurrences = min(occurrences, count)
    _check_size(len(text) + occurrences * (len(new) - len(old)), "this replace")


def _checked_join(separator: str, items: list[Any]) -> None:
    size = len(separator) * max(len(items) - 1, 0) + text_size(items, _limit())
    _check_size(size, "this join")


def _concat(*parts: Any) -> str:
    """The `~` operator, bounded (Jinja compiles it to a plain join the sandbox does not see)."""
    _step()
    texts = [str(part) for part in parts]
    _check_size(sum(len(text) for text in texts), "joining texts with ~")
    return "".join(texts)


class _BoundConcat(NodeTransformer):
    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
        parts = [self.visit(part) for part in node.nodes]
        return nodes.Call(nodes.Name(_CONCAT, "load"), parts, [], None, None, lineno=node.lineno)


def _range(*args: Any) -> range:
    numbers = range(*args)
    if len(numbers) > MAX_RANGE:
        raise _Refused(f"range of {len(numbers):,} numbers is over the template limit of {MAX_RANGE:,}")
    return numbers


def _guard_filter(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """A filter that checks its size arguments (and the amplification of a few) before running."""

    def guarded(*args: Any, **kwargs: Any) -> Any:
        _step()
        _check_arguments(args, kwargs)
        # Jinja passes a context, eval context or environment first to some filters.
        skip = 1 if args and isinstance(args[0], (jinja2.runtime.Context, nodes.EvalContext, jinja2.Environment)) else 0
        head, values = args[:skip], list(args[skip:])
        if name in ("join", "sum") and values and not isinstance(values[0], (str, Mapping)):
            values[0] = list(values[0])  # an iterator is read once: measure what the filter will get
        if name == "replace" and len(values) >= 3 and all(isinstance(v, str) for v in values[:3]):
            count = values[3] if len(values) > 3 else kwargs.get("count")
            _checked_replace(values[0], values[1], values[2], count if isinstance(count, int) else -1)
        elif name == "join" and values and isinstance(values[0], list):
            separator = values[1] if len(values) > 1 else kwargs.get("d", "")
            _checked_join(str(separator), values[0])
        elif name == "indent" and values and isinstance(values[0], str):
            width = values[1] if len(values) > 1 else kwargs.get("width", 4)
            pad = len(width) if isinstance(width, str) else int(width or 0)
            _check_size(len(values[0]) + pad * (values[0].count("\n") + 1), "this indent")
        elif name == "sum" and values and isinstance(values[0], list):
            start = values[2] if len(values) > 2 else kwargs.get("start", 0)
            if isinstance(start, (list, tuple)):  # adding lists copies the growing total each time
                size = text_size([start, *values[0]], _limit())
                _check_size(size, "this sum")
                _check_size(size * len(values[0]) // _SUM_COPIES, "this sum (copying as it adds)")
        elif name == "format" and values and isinstance(values[0], str):
            _check_percent_format(values[0], tuple(values[1:]))
        return function(*head, *values, **kwargs)

    guarded.__name__ = getattr(function, "__name__", name)
    for marker in ("jinja_pass_arg",):
        if hasattr(function, marker):
            setattr(guarded, marker, getattr(function, marker))
    return guarded


class HardenedSandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox with bounded sizes (see the module docstring)."""

    intercepted_binops = frozenset({"*", "+", "%", "**"})

    def __init__(self, **options: Any) -> None:
        super().__init__(loader=None, **options)
        self.globals.pop("lipsum", None)  # lipsum(n=10**9) would write a billion paragraphs
        self.globals["range"] = _range
        self.globals[_LOOP_GUARD] = _loop_guard
        self.globals[_CONCAT] = _concat
        self.filters = {name: _guard_filter(name, f) for name, f in self.filters.items()}

    def call_binop(self, context: jinja2.runtime.Context, operator: str, left: Any, right: Any) -> Any:
        _checked_binop(operator, left, right)
        return super().call_binop(context, operator, left, right)

    def call(__self, __context: jinja2.runtime.Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        if __obj is not _loop_guard and __obj is not _concat:
            _step()
        _check_arguments(args, kwargs)
        owner = getattr(__obj, "__self__", None)
        if isinstance(owner, str) and callable(__obj):
            method = getattr(__obj, "__name__", "")
            if method == "replace" and len(args) >= 2 and isinstance(args[0], str) and isinstance(args[1], str):
                count = args[2] if len(args) > 2 else kwargs.get("count", -1)
                _checked_replace(owner, args[0], args[1], count if isinstance(count, int) else -1)
            elif method == "join" and args:
                _checked_join(owner, list(args[0]))
        return super().call(__context, __obj, *args, **kwargs)

    def getattr(self, obj: Any, attribute: str) -> Any:
        _step()  # the sandbox's attribute checks are the slowest thing a loop body can do
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        _step()
        return super().getitem(obj, argument)

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        wrapped = super().wrap_str_format(value)
        if wrapped is not None:
            _check_format_string(value.__self__)
        return wrapped


@lru_cache(maxsize=1)
def _environment() -> HardenedSandbox:
    return HardenedSandbox(undefined=jinja2.StrictUndefined, keep_trailing_newline=True, autoescape=False)


@lru_cache(maxsize=4096)
def _template(text: str) -> jinja2.Template:
    environment = _environment()
    tree = environment.parse(text)
    for node in tree.find_all(tuple(_REFUSED_NODES)):
        raise TemplateProblem(
            f"template line {node.lineno}: `{_REFUSED_NODES[type(node)]}` is not allowed in a suite's text "
            "(templates cannot read other files)"
        )
    tree = _BoundConcat().visit(tree)
    for loop in tree.find_all(nodes.For):
        if loop.recursive:
            raise TemplateProblem(f"template line {loop.lineno}: recursive loops are not allowed in a suite's text")
        loop.iter = nodes.Call(nodes.Name(_LOOP_GUARD, "load"), [loop.iter], [], None, None, lineno=loop.lineno)
    return environment.from_string(tree)


def is_template(text: str) -> bool:
    """Whether text has Jinja syntax at all; text without it renders to itself."""
    return "{{" in text or "{%" in text or "{#" in text


def _template_line(traceback: TracebackType | None) -> int | None:
    """The template line a render failed on: Jinja rewrites tracebacks to point into the template."""
    line = None
    while traceback is not None:
        if traceback.tb_frame.f_code.co_filename == "<template>":
            line = traceback.tb_lineno
        traceback = traceback.tb_next
    return line


def _step(count: int = 1) -> None:
    budget = _budget.get()
    if budget is None:
        return
    before = budget.steps
    budget.steps += count
    if budget.steps > MAX_STEPS:
        raise _Refused(f"the template runs more than {MAX_STEPS:,} loop steps and calls (a loop too large?)")
    if before // _CHECK_CLOCK_EVERY != budget.steps // _CHECK_CLOCK_EVERY and time.monotonic() > budget.deadline:
        raise _Refused(f"the template takes longer than {MAX_SECONDS:g} s to render")


def _loop_guard(iterable: Iterable[Any]) -> Iterator[Any]:
    """Wrapped around every `for` loop's sequence: each item is a step of the render's budget."""
    for item in iterable:
        _step()
        yield item


def _render_bounded(template: jinja2.Template, variables: dict[str, Any], limit: int) -> str:
    token = _budget.set(_Budget(limit, deadline=time.monotonic() + MAX_SECONDS))
    try:
        chunks: list[str] = []
        size = 0
        for chunk in template.generate(**variables):
            size += len(chunk)
            if size > limit:
                raise _Refused(f"the rendered text is over the template limit of {limit:,} characters")
            chunks.append(chunk)
        return "".join(chunks)
    finally:
        _budget.reset(token)


def render(text: str, variables: dict[str, Any]) -> str:
    """Render `text` with `variables`; text without template syntax is returned as is.

    Raises TemplateProblem for every failure, whatever its cause.
    """
    if not is_template(text):
        return text
    limit = max(MAX_RENDERED_CHARS, 2 * text_size(variables))
    try:
        return _render_bounded(_template(text), variables, limit)
    except TemplateProblem as exc:
        line = _template_line(exc.__traceback__)
        raise TemplateProblem(f"template line {line}: {exc}" if line and not str(exc).startswith("template line") else str(exc)) from None
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateProblem(f"template syntax error on line {exc.lineno} of the text: {exc.message}") from None
    except jinja2.UndefinedError as exc:
        raise TemplateProblem(f"template uses an undefined variable: {exc.message} (add it to `vars`)") from None
    except jinja2.exceptions.SecurityError as exc:
        raise TemplateProblem(f"template refused by the sandbox: {exc}") from None
    except jinja2.TemplateError as exc:
        raise TemplateProblem(f"template error: {exc}") from None
    except RecursionError:
        raise TemplateProblem("template recurses too deeply") from None
    except MemoryError:
        raise TemplateProblem("template needs more memory than the machine has") from None
    except Exception as exc:  # a template is code from a file: any failure is the file's, never ours
        line = _template_line(exc.__traceback__)
        where = f"template line {line}: " if line else ""
        raise TemplateProblem(f"{where}template failed: {type(exc).__name__}: {exc}") from None


__all__ = ["MAX_RANGE", "MAX_RENDERED_CHARS", "MAX_SECONDS", "MAX_STEPS", "TemplateProblem", "is_template", "render"]
