"""Pydantic validation errors turned into located, human one-liners with did-you-mean."""

from __future__ import annotations

import difflib
import types
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from harness.errors import Diagnostic
from harness.suite.yaml_source import LocatedDocument


def _members(annotation: Any) -> list[Any]:
    origin = get_origin(annotation)
    if origin is Union or origin is types.UnionType:
        return [m for arg in get_args(annotation) for m in _members(arg)]
    return [annotation]


def _is_model(t: Any) -> bool:
    return isinstance(t, type) and issubclass(t, BaseModel)


def allowed_keys(root: type[BaseModel], loc: tuple[str | int, ...]) -> list[str]:
    """Field names of the model found at `loc` (a data path), for did-you-mean suggestions."""
    current: list[Any] = [root]
    for part in loc:
        following: list[Any] = []
        for annotation in current:
            for t in _members(annotation):
                origin = get_origin(t)
                if _is_model(t) and isinstance(part, str) and part in t.model_fields:
                    following.append(t.model_fields[part].annotation)
                elif origin is list and isinstance(part, int):
                    following.append(get_args(t)[0])
                elif origin is dict and isinstance(part, str):
                    following.append(get_args(t)[1])
        current = following
    keys: list[str] = []
    for annotation in current:
        for t in _members(annotation):
            if _is_model(t):
                keys.extend(k for k in t.model_fields if k not in keys)
    return keys


def _data_path(data: Any, raw_loc: tuple[str | int, ...]) -> tuple[tuple[str | int, ...], int | None]:
    """Keep only the parts of pydantic's loc that exist in the data (drops union member tags).
    Returns the path and the index in raw_loc of the first dropped part (the union point)."""
    path: list[str | int] = []
    union_at: int | None = None
    current = data
    for part in raw_loc:
        if isinstance(current, dict) and part in current:
            path.append(part)
            current = current[part]
        elif isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current):
            path.append(part)
            current = current[part]
        elif union_at is None:
            union_at = len(path)
    return tuple(path), union_at


def _message(error: Any, path: tuple[str | int, ...], root: type[BaseModel]) -> tuple[str, bool]:
    """The one-line text for an error, and whether it points at a key rather than a value."""
    kind = error["type"]
    field = next((p for p in reversed(path) if isinstance(p, str)), None)
    if kind == "extra_forbidden":
        key = str(path[-1]) if path else "?"
        candidates = allowed_keys(root, path[:-1])
        close = difflib.get_close_matches(key, candidates, n=1, cutoff=0.6)
        hint = f" (did you mean '{close[0]}'?)" if close else (f" (allowed: {', '.join(candidates)})" if candidates else "")
        return f"unknown key '{key}'{hint}", True
    if kind == "missing":
        missing = error["loc"][-1]
        return f"missing required key '{missing}'", False
    text = str(error["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        if text.startswith(prefix):
            text = text[len(prefix) :]
    if kind.endswith("_type") or kind in ("literal_error", "greater_than", "greater_than_equal", "less_than_equal", "enum"):
        text = text[0].lower() + text[1:]
        got = error.get("input")
        shown = repr(got) if not isinstance(got, (dict, list)) else type(got).__name__
        return (f"{field}: {text} (got {shown})" if field else f"{text} (got {shown})"), False
    return text, False


def diagnostics_from_validation(
    exc: ValidationError, doc: LocatedDocument, root: type[BaseModel], prefix: tuple[str | int, ...] = ()
) -> list[Diagnostic]:
    """Located diagnostics for a validation of `doc.data` at `prefix` against `root`."""
    base = doc.data
    for part in prefix:
        base = base[part]
    collected: list[tuple[tuple[str | int, ...], int | None, Any]] = []
    for error in exc.errors():
        path, union_at = _data_path(base, tuple(error["loc"]))
        collected.append((path, union_at, error))

    # A value that matches no member of a union yields one error per member; keep the
    # member that got furthest into the value, which is almost always what the user meant.
    deepest: dict[tuple[str | int, ...], int] = {}
    for path, union_at, _ in collected:
        if union_at is not None:
            point = path[:union_at]
            deepest[point] = max(deepest.get(point, 0), len(path))
    diagnostics: list[Diagnostic] = []
    seen: set[str] = set()
    for path, union_at, error in collected:
        if union_at is not None and len(path) < deepest[path[:union_at]]:
            continue
        message, at_key = _message(error, path, root)
        diagnostic = doc.diagnostic((*prefix, *path), message, prefer_key=at_key)
        if str(diagnostic) not in seen:
            seen.add(str(diagnostic))
            diagnostics.append(diagnostic)
    diagnostics.sort(key=lambda d: (d.line or 0, d.column or 0))
    return diagnostics
