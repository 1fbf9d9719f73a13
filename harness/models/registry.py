"""Build adapters for resolved models, importing each adapter kind only when it is used.

Each kind module exposes `build_adapters(models, settings) -> list[ModelAdapter]` and gets all
models of its kind at once, so a local-model kind can load a shared base model only once.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from harness.models.base import ModelAdapter
from harness.models.resolve import ResolvedModel

if TYPE_CHECKING:
    from harness.models.ray.plan import RayPlan

_KIND_MODULES = {
    "openai": "harness.models.openai_adapter",
    "predictions": "harness.models.predictions",
    "hf": "harness.models.hf",
    "run": "harness.models.recorded",
    "ray": "harness.models.ray",  # hf: models that generate on Ray actors
}


@dataclass(frozen=True)
class AdapterSettings:
    """Run-wide defaults that per-model config may override."""

    concurrency: int = 32
    timeout: float = 60.0
    max_retries: int = 4
    suite_name: str | None = None  # the suite being run; `run:` recordings of another suite are refused
    allow_other_suite: bool = False  # accept `run:` recordings made from a suite of another name
    allow_stale: bool = False  # `run:` answers to cases whose messages changed since are used anyway
    ray: RayPlan | None = None  # hf: models it names generate on Ray actors
    # Most time one request may take, retries and backoff included; None: DEADLINE_TIMEOUTS x
    # the model's timeout. Without it a hung endpoint costs timeout x (retries + 1) per request.
    max_request_time: float | None = None


DEADLINE_TIMEOUTS = 3


def _kind(model: ResolvedModel, settings: AdapterSettings) -> str:
    if model.spec.kind == "hf" and settings.ray is not None and model.name in settings.ray.models:
        return "ray"
    return model.spec.kind


def build_adapters(models: Sequence[ResolvedModel], settings: AdapterSettings) -> dict[str, ModelAdapter]:
    """One adapter per model name, in the given order."""
    by_kind: dict[str, list[ResolvedModel]] = {}
    for model in models:
        by_kind.setdefault(_kind(model, settings), []).append(model)
    built: dict[str, ModelAdapter] = {}
    for kind, group in by_kind.items():
        module = importlib.import_module(_KIND_MODULES[kind])
        adapters = module.build_adapters(group, settings)
        for model, adapter in zip(group, adapters, strict=True):
            built[model.name] = adapter
    return {model.name: built[model.name] for model in models}
