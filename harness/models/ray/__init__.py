"""`hf:` models generated on a Ray cluster: actors that each load one base with its adapters.

Nothing here imports Ray until a run uses it (`pip install 'harness[ray]'`). The registry sends
the `hf:` models that the run's Ray plan covers (`--ray`, `engine: {ray: ...}`) here.
"""

from __future__ import annotations

from collections.abc import Sequence

from harness.models.base import ModelAdapter
from harness.models.registry import AdapterSettings
from harness.models.resolve import ResolvedModel


def build_adapters(models: Sequence[ResolvedModel], settings: AdapterSettings) -> list[ModelAdapter]:
    from harness.models.ray.adapter import build_ray_adapters

    return build_ray_adapters(models, settings)
