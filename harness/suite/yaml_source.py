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
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        if mark is None:
            raise SuiteError([Diagnostic(path, f"invalid YAML: {problem}")]) from exc
        raise SuiteError([Diagnostic(path, f"invalid YAML: {problem}", mark.line + 1, mark.column + 1)]) from exc
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
