"""A bridge to Hugging Face `evaluate`: a metric entry `evaluate:<name-or-path>`.

A local metric script (a `.py` file, or a folder holding `<folder>.py`) loads offline; a hub
name needs network access and fails with one clear line when there is none. `evaluate` is
imported only here and only when a suite asks for it: importing it takes seconds.

By default the module's `compute` runs once over all scored results of a model (and of each
tag): a corpus figure, without an interval. With `per_case: true` it runs on each case alone
instead, giving per-case values (in results.jsonl/csv) averaged with a bootstrap interval
like the built-in metrics. Every numeric value it returns is reported as `<name>.<key>`.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import RunError, UsageError
from harness.metrics.options import EVALUATE_PREFIX, EvaluateOptions


@dataclass(frozen=True)
class EvaluateSpec:
    """One `evaluate:` entry of a suite, resolved against the suite's folder."""

    entry: str  # as written, e.g. "evaluate:./metrics/overlap.py"
    target: str  # what evaluate.load receives: an absolute path, or a hub name
    alias: str  # prefix of the reported values
    options: EvaluateOptions
    local: bool


def resolve_target(entry: str, base_dir: Path) -> tuple[str, bool]:
    """(target, is_local) for an entry; raises ValueError for a local path that does not exist."""
    raw = entry[len(EVALUATE_PREFIX) :].strip()
    candidate = (base_dir / raw).resolve()
    if candidate.exists():
        return str(candidate), True
    if raw.endswith(".py") or raw.startswith((".", "/", "~")):
        raise ValueError(f"metric script '{raw}' not found (looked at {candidate})")
    return raw, False


def make_spec(entry: str, options: EvaluateOptions, base_dir: Path) -> EvaluateSpec:
    target, local = resolve_target(entry, base_dir)
    default_alias = Path(target.rstrip("/")).stem if local else target.rsplit("/", 1)[-1]
    alias = options.name or default_alias
    return EvaluateSpec(entry, target, alias, options, local)


def _numeric(value: Any) -> float | None:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if hasattr(value, "item") and getattr(value, "size", 2) == 1:  # numpy scalar or 1-element array
        item = value.item()
        return float(item) if isinstance(item, numbers.Real) else None
    return None


class EvaluateMetric:
    """A loaded `evaluate` module and how to call it."""

    def __init__(self, spec: EvaluateSpec) -> None:
        self.spec = spec
        try:
            import evaluate
        except ImportError:
            raise UsageError(
                f"metric '{spec.entry}' needs the `evaluate` package: pip install 'harness[evaluate]'"
            ) from None
        try:
            self.module = evaluate.load(spec.target, **spec.options.load_args)
        except Exception as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            hint = "" if spec.local else "; hub metrics need network access, a local metric script works offline"
            raise UsageError(f"metric '{spec.entry}': cannot load it ({reason}){hint}") from None

    def compute(self, predictions: Sequence[str], references: Sequence[Sequence[str]]) -> dict[str, float]:
        """Numeric results as {"<alias>.<key>": value}. Raises RunError when the module fails."""
        refs: list[Any] = [list(r) for r in references] if self.spec.options.all_references else [r[0] for r in references]
        try:
            result = self.module.compute(predictions=list(predictions), references=refs, **self.spec.options.compute_args)
        except Exception as exc:
            raise RunError(f"metric '{self.spec.entry}' failed: {type(exc).__name__}: {exc}") from None
        values: dict[str, float] = {}
        for key, value in (result or {}).items():
            number = _numeric(value)
            if number is not None:
                values[f"{self.spec.alias}.{key}"] = number
        return values
