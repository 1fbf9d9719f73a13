"""YAML loading that remembers where every value came from.

PyYAML's constructed objects forget their position, but pydantic errors name a path such as
`("cases", 3, "checks", 0, "regex")`. We compose the node graph once, build plain Python data
from it, and keep a map from each path to the line and column of its key and value, so a
validation error can be reported as `suite.yaml:42:7: ...`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from harness.errors import Diagnostic, SuiteError

try:  # the C loader is several times faster on large suites
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - libyaml missing
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

PathKey = tuple[str | int, ...]
_STR_TAG = "tag:yaml.org,2002:str"


@dataclass(frozen=True)
class Position:
    line: int  # 1-based
    column: int  # 1-based


@dataclass
class LocatedDocument:
    """Plain data loaded from a YAML file, plus the position of every key and value in it."""

    path: str
    data: Any
    values: dict[PathKey, Position] = field(default_factory=dict)
    keys: dict[PathKey, Position] = field(default_factory=dict)

    def position(self, loc: Sequence[str | int], prefer_key: bool = False) -> Position | None:
        """Best position for a path: the exact node, else its nearest located ancestor."""
        loc = tuple(loc)
        for end in range(len(loc), -1, -1):
            prefix = loc[:end]
            if prefer_key and end == len(loc) and prefix in self.keys:
                return self.keys[prefix]
            if prefix in self.values:
                return self.values[prefix]
        return None

    def diagnostic(self, loc: Sequence[str | int], message: str, prefer_key: bool = False) -> Diagnostic:
        pos = self.position(loc, prefer_key=prefer_key)
        if pos is None:
            return Diagnostic(self.path, message)
        return Diagnostic(self.path, message, pos.line, pos.column)


def _pos(mark: yaml.Mark) -> Position:
    return Position(mark.line + 1, mark.column + 1)


class _Builder:
    def __init__(self, doc: LocatedDocument, loader: _Loader) -> None:
        self.doc = doc
        self.loader = loader
        self.problems: list[Diagnostic] = []

    def build(self, node: yaml.Node, path: PathKey) -> Any:
        self.doc.values.setdefault(path, _pos(node.start_mark))
        if isinstance(node, yaml.MappingNode):
            self.loader.flatten_mapping(node)  # resolves `<<` merge keys
            result: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                key = self.loader.construct_object(key_node, deep=True)
                if isinstance(key, (list, dict)):
                    self.problems.append(
                        Diagnostic(self.doc.path, "mapping keys must be plain scalars", *_lc(key_node))
                    )
                    continue
                child = (*path, key if isinstance(key, int) else str(key))
                if key in result:
                    self.problems.append(
                        Diagnostic(self.doc.path, f"duplicate key '{key}'", *_lc(key_node))
                    )
                    continue
                self.doc.keys[child] = _pos(key_node.start_mark)
                result[key] = self.build(value_node, child)
            return result
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        if node.tag == _STR_TAG:  # most scalars: skip the constructor's dispatch
            return node.value
        return self.loader.construct_object(node, deep=True)


def _lc(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _at(mark: yaml.Mark) -> str:
    return f"{mark.line + 1}:{mark.column + 1}"


def _found(problem: str) -> str:
    return "end of file" if "end of stream" in problem else problem.removeprefix("found ")


def syntax_diagnostic(exc: yaml.MarkedYAMLError, path: str) -> Diagnostic:
    """A YAML syntax error located where the problem starts, in words a suite author can act on.

    PyYAML (and libyaml) report two marks: the context (the construct being read, e.g. the
    opening quote) and the problem (where reading failed, often the end of the file). An
    unclosed quote or bracket starts at the context; an indentation or tab problem is on the
    problem's line. Both marks are kept in the message.
    """
    context, problem = exc.context or "", exc.problem or ""
    context_mark, problem_mark = exc.context_mark, exc.problem_mark
    if problem.startswith("found character") and "next token" in context:  # a tab (libyaml omits the character)
        where, message = problem_mark or context_mark, "a tab character: YAML indents and separates with spaces only"
    elif context_mark is not None and "quoted scalar" in context:
        where = context_mark
        message = f"unclosed quoted scalar (found {_found(problem)} at {_at(problem_mark)})" if problem_mark else "unclosed quoted scalar"
    elif context_mark is not None and "flow" in context:
        bracket = "[" if "sequence" in context else "{"
        where = context_mark
        message = f"unclosed '{bracket}' ({problem}" + (f" at {_at(problem_mark)})" if problem_mark else ")")
    elif context_mark is not None and "simple key" in context:
        where = context_mark
        message = "a line that is neither 'key: value' nor a '- ' list item" + (
            f" (no ':' found before {_at(problem_mark)})" if problem_mark else ""
        )
    elif context_mark is not None and "block" in context and problem_mark is not None:
        where = problem_mark
        message = f"bad indentation: this line does not line up with the block that starts at {_at(context_mark)} ({problem})"
    elif "mapping values are not allowed" in problem:
        where = problem_mark
        message = "unexpected ':': is this line indented too far, or does a value with ': ' need quotes?"
    else:
        where = context_mark or problem_mark
        detail = "; ".join(part for part in (context, problem) if part) or "invalid YAML"
        if context_mark is not None and problem_mark is not None and _at(context_mark) != _at(problem_mark):
            detail += f" (at {_at(problem_mark)})"
        message = f"invalid YAML: {detail}"
    if where is None:
        return Diagnostic(path, message)
    return Diagnostic(path, message, where.line + 1, where.column + 1)


def parse_yaml(text: str, path: str) -> LocatedDocument:
    """Parse one YAML document, raising SuiteError with `path:line:col` on malformed input."""
    loader = _Loader(text)
    doc = LocatedDocument(path=path, data=None)
    try:
        node = loader.get_single_node()
        if node is None:
            return doc
        builder = _Builder(doc, loader)
        doc.data = builder.build(node, ())
    except yaml.MarkedYAMLError as exc:
        raise SuiteError([syntax_diagnostic(exc, path)]) from exc
    except yaml.YAMLError as exc:
        raise SuiteError([Diagnostic(path, f"invalid YAML: {exc}")]) from exc
    finally:
        loader.dispose()
    if builder.problems:
        raise SuiteError(builder.problems)
    return doc


def load_yaml_file(path: Path, display_path: str | None = None) -> LocatedDocument:
    shown = display_path or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SuiteError([Diagnostic(shown, "file not found")]) from None
    except IsADirectoryError:
        raise SuiteError([Diagnostic(shown, "is a directory, expected a YAML file")]) from None
    except UnicodeDecodeError as exc:
        raise SuiteError([Diagnostic(shown, f"not UTF-8 text ({exc.reason} at byte {exc.start})")]) from None
    except OSError as exc:
        raise SuiteError([Diagnostic(shown, f"cannot read file: {exc.strerror}")]) from None
    return parse_yaml(text, shown)
