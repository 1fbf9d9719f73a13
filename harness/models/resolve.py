"""Turn `--model` arguments and the suite's `models:` into named, configured models."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from harness.errors import UsageError
from harness.models.base import GenerationParams
from harness.models.spec import ModelSpec, parse_spec
from harness.suite.schema import ModelConfig


@dataclass(frozen=True)
class ResolvedModel:
    """A model under test: its display name, parsed spec, options and effective generation parameters."""

    name: str
    spec: ModelSpec
    config: ModelConfig
    generation: GenerationParams
    base_dir: Path  # relative paths in the spec (hf:, predictions:) are resolved against this

    def resolve_path(self, value: str) -> Path:
        path = Path(value).expanduser()
        return path if path.is_absolute() else (self.base_dir / path)


def suite_model_name(ref: str, suite_models: dict[str, ModelConfig]) -> str | None:
    """The suite model a reference means: its name, or a spec string that exactly one suite model has."""
    if ref in suite_models:
        return ref
    same_spec = [name for name, config in suite_models.items() if config.spec == ref]
    return same_spec[0] if len(same_spec) == 1 else None


def resolve_model(
    ref: str, suite_models: dict[str, ModelConfig], suite_generation: GenerationParams, suite_dir: Path
) -> ResolvedModel:
    """A `--model` value is a name from the suite's `models:` or a spec string. A spec that a suite
    model already has means that model (with its options), so it is never run twice under two names."""
    name = suite_model_name(ref, suite_models)
    if name is not None:
        config = suite_models[name]
        return ResolvedModel(name, parse_spec(config.spec), config, suite_generation.merged(config.generation), suite_dir)
    spec = parse_spec(ref)  # raises a clear UsageError for unknown specs
    return ResolvedModel(ref, spec, ModelConfig(spec=ref), suite_generation, Path.cwd())


def resolve_models(
    refs: list[str], suite_models: dict[str, ModelConfig], suite_generation: GenerationParams, suite_dir: Path
) -> list[ResolvedModel]:
    """Models for a run: the given refs, else every model the suite names. Names must be unique."""
    if not refs:
        refs = list(suite_models)
    if not refs:
        raise UsageError("no model to run: pass --model SPEC or name models in the suite's `models:`")
    resolved = [resolve_model(r, suite_models, suite_generation, suite_dir) for r in refs]
    names = [m.name for m in resolved]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise UsageError(f"model given twice: {', '.join(duplicates)}")
    return resolved
