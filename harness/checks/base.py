"""The check protocol and its result."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class CheckResult:
    name: str
    passed: bool
    reason: str

    def as_dict(self) -> dict[str, object]:
        return {"name": self.name, "passed": self.passed, "reason": self.reason}


def check_text(check: Mapping[str, Any]) -> str:
    """How a check result reads everywhere (reports, CSV, diff, JUnit): `name: reason`.

    The name says what was checked (`required: /^1\\. /`), the reason only what happened
    (`missing`), so nothing is said twice.
    """
    return f"{check.get('name')}: {check.get('reason')}"


class Check(Protocol):
    """A deterministic test of one output. Implementations are pure and cheap."""

    name: str

    def __call__(self, output: str) -> CheckResult: ...


class CheckConfigError(ValueError):
    """A check that cannot be built (bad regex, bad schema). `field`/`index` locate it in the case."""

    def __init__(self, field: str, index: int | None, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.index = index
        self.message = message


def shorten(text: str, limit: int = 60) -> str:
    text = text.replace("\n", "\\n")
    return text if len(text) <= limit else text[: limit - 1] + "…"
