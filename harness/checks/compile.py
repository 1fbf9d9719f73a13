"""Turn a case's declared patterns and checks into callables, once per case."""

from __future__ import annotations

import re
from typing import Any

import jsonschema

from harness.checks.base import Check, CheckConfigError, shorten
from harness.checks.json_checks import IsJsonCheck, JsonSchemaCheck, build_validator
from harness.checks.text import EqualsCheck, LengthCheck, PatternCheck, RegexCheck, StartsWithCheck
from harness.suite.schema import CheckSpec, PatternSpec


def _compile_regex(pattern: str, flags: int, field: str, index: int) -> re.Pattern[str]:
    try:
        return re.compile(pattern, flags)
    except re.error as exc:
        raise CheckConfigError(field, index, f"invalid regular expression '{shorten(pattern)}': {exc}") from None


def _pattern_check(spec: PatternSpec, required: bool, index: int) -> PatternCheck:
    field = "required_patterns" if required else "forbidden_patterns"
    compiled = None
    if spec.regex:
        flags = 0 if spec.case_sensitive else re.IGNORECASE
        compiled = _compile_regex(spec.pattern, flags, field, index)
    label = "required" if required else "forbidden"
    shown = f"/{spec.pattern}/" if spec.regex else repr(spec.pattern)
    return PatternCheck(f"{label}: {shorten(shown, 50)}", spec.pattern, required, compiled, spec.case_sensitive)


def _typed_check(spec: CheckSpec, index: int) -> Check:
    kind = spec.kind
    value: Any = getattr(spec, kind)
    default_name = f"{kind}: {shorten(str(value), 40)}" if kind not in ("is_json", "json_schema") else kind
    name = spec.name or default_name
    if kind == "equals":
        return EqualsCheck(name, value, spec.case_sensitive)
    if kind == "starts_with":
        return StartsWithCheck(name, value, spec.case_sensitive)
    if kind == "regex":
        flags = 0 if spec.case_sensitive else re.IGNORECASE
        return RegexCheck(name, _compile_regex(value, flags, "checks", index))
    if kind == "is_json":
        if value is not True:
            raise CheckConfigError("checks", index, "`is_json` takes `true`")
        return IsJsonCheck(name)
    if kind == "json_schema":
        if not isinstance(value, dict):
            raise CheckConfigError("checks", index, "`json_schema` must be resolved to an object before compiling")
        try:
            return JsonSchemaCheck(name, build_validator(value))
        except jsonschema.SchemaError as exc:
            raise CheckConfigError("checks", index, f"invalid JSON schema: {shorten(exc.message, 120)}") from None
    if kind in ("min_length", "max_length"):
        return LengthCheck(name, "characters", value if kind == "min_length" else None, value if kind == "max_length" else None)
    if kind in ("min_words", "max_words"):
        return LengthCheck(name, "words", value if kind == "min_words" else None, value if kind == "max_words" else None)
    raise CheckConfigError("checks", index, f"unknown check kind '{kind}'")  # pragma: no cover


def compile_case_checks(
    required: list[PatternSpec], forbidden: list[PatternSpec], checks: list[CheckSpec]
) -> list[Check]:
    """All checks of a case, in declaration order. Raises CheckConfigError on the first bad one."""
    compiled: list[Check] = []
    compiled += [_pattern_check(p, True, i) for i, p in enumerate(required)]
    compiled += [_pattern_check(p, False, i) for i, p in enumerate(forbidden)]
    # Metric thresholds need the case's scores: the scoring stage evaluates them after generation.
    compiled += [_typed_check(c, i) for i, c in enumerate(checks) if c.metric is None]
    return compiled
