"""The Ray-backed `hf:` adapter: what the runner sees of a model whose batches go to an actor pool.

Models on the same base (and device, dtype, revision and Ray settings) share one pool, as they
share one base load in a single process. The fingerprint comes from the actors, which compute it
from the files on their nodes; the runner hands this adapter runner batches of the same size as
the local adapter's, with as many in flight as the pool has actors.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from harness.errors import RunError
from harness.models.base import Capabilities, GenerationRequest, GenerationResponse, ModelAdapter
from harness.models.hf import check_prompt_options
from harness.models.hf.batching import SORT_WINDOW
from harness.models.hf.options import HFOptions, parse_options
from harness.models.ray import cluster
from harness.models.ray.plan import RayPlan, RaySettings
from harness.models.ray.pool import ActorPool, start_pool
from harness.models.registry import AdapterSettings
from harness.models.resolve import ResolvedModel


class RayModelAdapter:
    """One `hf:` model answered by the actors of its base's pool."""

    def __init__(self, name: str, pool: ActorPool, batch_size: int) -> None:
        self.name = name
        self.pool = pool
        self.batch_size = batch_size
        self._closed = False
        pool.users += 1

    @property
    def fingerprint(self) -> str:
        return self.pool.fingerprints[self.name]

    @property
    def capabilities(self) -> Capabilities:
        # The local adapter's runner batch, so each generation batch holds the same prompts; one
        # runner batch in flight per actor keeps every actor busy even with a single model.
        return Capabilities(max_batch_size=self.batch_size * SORT_WINDOW, max_concurrency=max(1, self.pool.size), cacheable=True)

    async def generate(self, requests: Sequence[GenerationRequest]) -> list[GenerationResponse]:
        return await self.pool.answer(self.name, list(requests))

    async def aclose(self) -> None:
        if not self._closed:
            self._closed = True
            await self.pool.release()


@dataclasses.dataclass
class _Group:
    label: str
    base: str
    settings: RaySettings
    device: str
    members: list[tuple[ResolvedModel, HFOptions]]


def _groups(models: Sequence[ResolvedModel], plan: RayPlan) -> list[_Group]:
    """Models that share one pool: same base, same loading options, same Ray settings."""
    groups: dict[tuple[Any, ...], _Group] = {}
    for model in models:
        options = parse_options(model.name, model.config.options)
        check_prompt_options(model, options, None)  # the files are checked on the nodes
        settings = plan.models[model.name]
        key = (str(model.resolve_path(model.spec.target).resolve()), options.base_key(), settings)
        if key not in groups:
            groups[key] = _Group(f"base '{model.spec.target}'", model.spec.target, settings, options.device, [])
        groups[key].members.append((model, options))
    return list(groups.values())


def _shipped(model: ResolvedModel, num_gpus: float) -> ResolvedModel:
    """The model as an actor gets it: paths resolved here (the nodes see the same absolute paths),
    and `device: auto` pinned to cpu on an actor without a GPU (Ray hides no GPU from it)."""
    options = dict(model.config.options)
    if num_gpus == 0 and options.get("device", "auto") == "auto":
        options["device"] = "cpu"
    config = model.config.model_copy(update={"options": options})
    return dataclasses.replace(model, config=config, base_dir=model.base_dir.resolve())


def build_ray_adapters(models: Sequence[ResolvedModel], settings: AdapterSettings) -> list[ModelAdapter]:
    plan = settings.ray
    assert plan is not None
    groups = _groups(models, plan)
    cluster.connect(plan.address)
    pools: list[ActorPool] = []
    try:
        nodes = cluster.nodes()
        shapes = [cluster.default_shape(nodes, g.settings.num_cpus, g.settings.num_gpus, g.device) for g in groups]
        for group, shape in zip(groups, shapes, strict=True):
            if group.device.startswith("cuda") and shape.num_gpus == 0:
                name = group.members[0][0].name
                raise RunError(
                    f"ray: model '{name}' asks options.device {group.device} but its actors get no GPU "
                    f"(num_gpus 0; the cluster has {cluster.describe(nodes)})"
                )
        counts = cluster.place([(g.label, shape, g.settings.actors) for g, shape in zip(groups, shapes, strict=True)], nodes)
        plan.info["cluster"] = cluster.describe(nodes)
        plan.say(f"ray: connected to {plan.address or 'the default Ray instance'}: {cluster.describe(nodes)}")
        for group, shape, count in zip(groups, shapes, counts, strict=True):
            plan.say(f"ray: starting {count} actor{'s' if count != 1 else ''} for {group.label} ({shape.describe()} each)")
            shipped = [_shipped(model, shape.num_gpus) for model, _ in group.members]
            cluster.connect(plan.address)  # the pool's own use of the connection, ended by its stop()
            pools.append(start_pool(group.label, group.base, shipped, group.settings, shape, count, plan))
    except BaseException:
        for pool in pools:
            pool.stop()
        raise
    finally:
        cluster.disconnect()
    built: dict[str, ModelAdapter] = {}
    for group, pool in zip(groups, pools, strict=True):
        for model, options in group.members:
            built[model.name] = RayModelAdapter(model.name, pool, options.batch_size)
    return [built[model.name] for model in models]
