"""Which `hf:` models generate on Ray, and with what: the suite's `engine: {ray: ...}`, a model's own
`engine:`, and `--ray ADDRESS`. Decided before anything starts; Ray itself is not imported here.

Precedence: a model's `engine: {ray: false}` keeps it in this process whatever else says; otherwise
`--ray` turns Ray on for every `hf:` model and sets the address; a model's `engine.ray` settings
override the suite's field by field.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console

from harness.errors import UsageError
from harness.models.resolve import ResolvedModel
from harness.suite.schema import EngineConfig, RayConfig

INSTALL_HINT = "pip install 'harness[ray]'"


@dataclass(frozen=True)
class RaySettings:
    """What one model asks of the cluster (None: decided from the cluster's resources)."""

    actors: int | None = None
    num_cpus: float | None = None
    num_gpus: float | None = None
    max_restarts: int = 2
    start_timeout: float = 300.0


@dataclass
class RayPlan:
    """The run's models on Ray and how to reach the cluster."""

    address: str | None  # None: Ray's default (RAY_ADDRESS, a running local instance, else a new one)
    models: dict[str, RaySettings]
    source: str  # what turned Ray on, for messages: "--ray" or "engine.ray"
    console: Console = field(default_factory=lambda: Console(stderr=True))
    progress: bool = True
    # run.json's `ray` entry: the pools add their actors when they start and what each did when they stop.
    info: dict[str, Any] = field(default_factory=dict)

    def say(self, text: str, always: bool = False) -> None:
        if self.progress or always:
            self.console.print(text, markup=False, highlight=False, soft_wrap=True)


def _ray_layer(engine: EngineConfig | None) -> RayConfig | bool | None:
    return engine.ray if engine is not None else None


def goes_to_ray(suite_engine: EngineConfig | None, model_engine: EngineConfig | None, cli_ray: bool) -> bool:
    """Whether an `hf:` model generates on Ray: its own `ray: false` keeps it here, else `--ray`,
    its own `engine.ray` or the suite's turns Ray on."""
    model_layer = _ray_layer(model_engine)
    if model_layer is False:
        return False
    return cli_ray or model_layer is not None or _ray_layer(suite_engine) not in (None, False)


def _merge(layers: Sequence[RayConfig | bool | None]) -> RayConfig:
    merged = RayConfig()
    for layer in layers:
        if isinstance(layer, RayConfig):
            merged = merged.model_copy(update=layer.model_dump(exclude_unset=True))
    return merged


def plan_ray(
    suite_engine: EngineConfig | None,
    models: Sequence[ResolvedModel],
    cli_address: str | None,
    console: Console | None = None,
    progress: bool = True,
) -> tuple[RayPlan | None, list[str]]:
    """The Ray plan (None when no model generates on Ray) and warnings. Raises UsageError."""
    if cli_address is not None and not cli_address.strip():
        raise UsageError("--ray needs an address: local, auto, ray://HEAD:10001 or HOST:PORT")
    suite_layer = _ray_layer(suite_engine)
    settings: dict[str, RaySettings] = {}
    addresses: dict[str | None, str] = {}
    for model in models:
        model_layer = _ray_layer(model.config.engine)
        if model.spec.kind != "hf":
            if isinstance(model_layer, RayConfig) or model_layer is True:
                raise UsageError(f"model '{model.name}': engine.ray applies to hf: models only")
            continue
        if not goes_to_ray(suite_engine, model.config.engine, cli_address is not None):
            continue
        config = _merge([suite_layer, model_layer])
        settings[model.name] = RaySettings(
            config.actors, config.num_cpus, config.num_gpus, config.max_restarts, config.start_timeout
        )
        address = cli_address.strip() if cli_address is not None else config.address
        addresses.setdefault(address, model.name)
    warnings: list[str] = []
    if not settings:
        if cli_address is not None:
            warnings.append("--ray: this run has no hf: model; every model is answered from this process")
        return None, warnings
    source = "--ray" if cli_address is not None else "engine.ray"
    if importlib.util.find_spec("ray") is None:
        raise UsageError(f"{source}: generating on Ray needs the ray package, which is not installed: {INSTALL_HINT}")
    if len(addresses) > 1:
        shown = ", ".join(f"'{address or 'default'}' (model '{name}')" for address, name in addresses.items())
        raise UsageError(f"engine.ray: one Ray cluster per run, but the models ask for {shown}")
    (address,) = addresses
    plan = RayPlan(address, settings, source, console or Console(stderr=True), progress)
    plan.info.update(address=address or "default", pools=[])
    return plan, warnings
