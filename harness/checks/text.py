"""Checks over the output's text: patterns, equality, prefix, regex, length."""

from __future__ import annotations

import re
from dataclasses import dataclass

from harness.checks.base import CheckResult, shorten


@dataclass(slots=True)
class PatternCheck:
    """A required (must appear) or forbidden (must not appear) pattern."""

    name: str
    pattern: str
    required: bool
    regex: re.Pattern[str] | None  # None: substring match
    case_sensitive: bool

    def _find(self, output: str) -> str | None:
        if self.regex is not None:
            match = self.regex.search(output)
            return match.group(0) if match else None
        if self.case_sensitive:
            return self.pattern if self.pattern in output else None
        position = output.casefold().find(self.pattern.casefold())
        return None if position < 0 else output[position : position + len(self.pattern)]

    def __call__(self, output: str) -> CheckResult:
        # The name shows the pattern; the reason says only what happened (see check_text).
        found = self._find(output)
        if self.required:
            if found is None:
                return CheckResult(self.name, False, "missing")
            return CheckResult(self.name, True, f"found '{shorten(found)}'")
        if found is not None:
            return CheckResult(self.name, False, f"found '{shorten(found)}'")
        return CheckResult(self.name, True, "absent")


@dataclass(slots=True)
class EqualsCheck:
    name: str
    expected: str
    case_sensitive: bool

    def __call__(self, output: str) -> CheckResult:
        got, want = output.strip(), self.expected.strip()
        if not self.case_sensitive:
            got, want = got.casefold(), want.casefold()
        if got == want:
            return CheckResult(self.name, True, "equal")
        return CheckResult(self.name, False, f"got '{shorten(output.strip())}'")


@dataclass(slots=True)
class StartsWithCheck:
    name: str
    prefix: str
    case_sensitive: bool

    def __call__(self, output: str) -> CheckResult:
        got = output.lstrip()
        ok = got.startswith(self.prefix) if self.case_sensitive else got.casefold().startswith(self.prefix.casefold())
        if ok:
            return CheckResult(self.name, True, "ok")
        return CheckResult(self.name, False, f"starts '{shorten(got, 30)}'")


@dataclass(slots=True)
class RegexCheck:
    name: str
    regex: re.Pattern[str]

    def __call__(self, output: str) -> CheckResult:
        match = self.regex.search(output)
        if match:
            return CheckResult(self.name, True, f"matched '{shorten(match.group(0))}'")
        return CheckResult(self.name, False, "no match")


@dataclass(slots=True)
class LengthCheck:
    """Bounds on characters or whitespace-separated words."""

    name: str
    unit: str  # "characters" | "words"
    minimum: int | None
    maximum: int | None

    def __call__(self, output: str) -> CheckResult:
        size = len(output.split()) if self.unit == "words" else len(output)
        if self.minimum is not None and size < self.minimum:
            return CheckResult(self.name, False, f"{size} {self.unit}, fewer than {self.minimum}")
        if self.maximum is not None and size > self.maximum:
            return CheckResult(self.name, False, f"{size} {self.unit}, more than {self.maximum}")
        return CheckResult(self.name, True, f"{size} {self.unit}")
