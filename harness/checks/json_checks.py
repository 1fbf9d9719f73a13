"""Checks that the output is JSON, optionally valid against a JSON Schema."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import jsonschema
from jsonschema.protocols import Validator

from harness.checks.base import CheckResult, shorten

# Chat models often wrap JSON in a Markdown fence; accept ```json ... ``` around the value.
_FENCE = re.compile(r"^\s*```[A-Za-z0-9_-]*\s*\n(.*?)\n?```\s*$", re.DOTALL)


def parse_json_output(output: str) -> Any:
    """Parse an output as JSON, tolerating a surrounding code fence. Raises ValueError."""
    text = output.strip()
    fenced = _FENCE.match(text)
    if fenced:
        text = fenced.group(1)
    return json.loads(text)


@dataclass(slots=True)
class IsJsonCheck:
    name: str

    def __call__(self, output: str) -> CheckResult:
        try:
            parse_json_output(output)
        except ValueError as exc:
            return CheckResult(self.name, False, f"not valid JSON: {exc}")
        return CheckResult(self.name, True, "valid JSON")


def build_validator(schema: dict[str, Any]) -> Validator:
    """A validator for `schema` under the draft it declares (2020-12 by default). Raises on a bad schema."""
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    cls.check_schema(schema)
    validator: Validator = cls(schema, format_checker=cls.FORMAT_CHECKER)
    return validator


@dataclass(slots=True)
class JsonSchemaCheck:
    name: str
    validator: Validator

    def __call__(self, output: str) -> CheckResult:
        try:
            value = parse_json_output(output)
        except ValueError as exc:
            return CheckResult(self.name, False, f"not valid JSON: {exc}")
        error = jsonschema.exceptions.best_match(self.validator.iter_errors(value))
        if error is None:
            return CheckResult(self.name, True, "valid against the schema")
        where = "/".join(str(p) for p in error.absolute_path) or "(root)"
        return CheckResult(self.name, False, f"schema violation at {where}: {shorten(error.message, 120)}")
