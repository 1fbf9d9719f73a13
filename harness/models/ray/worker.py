"""The Ray actor: one base model (loaded once, on first use) with every adapter the run uses on it.

It is the same code as local generation: the actor builds the run's `hf:` adapters on its own
node with `harness.models.hf.build_adapters`, which checks every path there (so a path missing
on one node is reported with that node) and computes each model's fingerprint from the files it
will load. The driver only deals batches and collects answers.

This module does not import Ray at import time; the pool wraps the class with `ray.remote`.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from harness.errors import HarnessError
from harness.models.base import GenerationRequest, GenerationResponse
from harness.models.resolve import ResolvedModel

if TYPE_CHECKING:
    from harness.models.hf.adapter import HFModelAdapter
    from harness.models.hf.batching import BatchPlan


@dataclass(frozen=True)
class WorkerReport:
    """Where an actor runs and what it found there."""

    node_id: str
    address: str
    hostname: str
    pid: int
    gpu_ids: list[str] = field(default_factory=list)
    fingerprints: dict[str, str] = field(default_factory=dict)  # model name -> fingerprint, computed on the node
    problem: str | None = None  # a file or option problem found on this node (one line)
    setup_s: float = 0.0  # checking the files (and importing torch, transformers, peft)

    @property
    def node(self) -> str:
        return f"{self.hostname} ({self.address})" if self.hostname and self.hostname != self.address else self.address


class GenerationWorker:
    """A Ray actor answering batches of the `hf:` models that share one base."""

    def __init__(self, models: list[ResolvedModel]) -> None:
        self.models = models
        self.adapters: dict[str, HFModelAdapter] = {}
        self.report: WorkerReport | None = None
        self.batches = 0
        self.load_s = 0.0
        self.loads = 0

    def setup(self) -> WorkerReport:
        """Check the files on this node and compute the fingerprints; weights load on first use."""
        if self.report is not None and self.report.problem is None:
            return self.report
        import ray

        started = time.perf_counter()
        context = ray.get_runtime_context()
        where = {
            "node_id": context.get_node_id(),
            "address": ray.util.get_node_ip_address(),
            "hostname": socket.gethostname(),
            "pid": os.getpid(),
            "gpu_ids": [str(gpu) for gpu in ray.get_gpu_ids()],
        }
        try:
            from harness.models.hf import build_adapters
            from harness.models.registry import AdapterSettings

            built = build_adapters(self.models, AdapterSettings())
            # Imported now, so start-up holds the imports and `load_s` only the weights.
            import transformers  # noqa: F401

            if any(model.spec.adapters for model in self.models):
                import peft  # noqa: F401
        except HarnessError as exc:
            self.report = WorkerReport(**where, problem=exc.message, setup_s=time.perf_counter() - started)
            return self.report
        self.adapters = {model.name: adapter for model, adapter in zip(self.models, built, strict=True)}  # type: ignore[misc]
        fingerprints = {name: adapter.fingerprint for name, adapter in self.adapters.items()}
        self.report = WorkerReport(**where, fingerprints=fingerprints, setup_s=time.perf_counter() - started)
        return self.report

    def _adapter(self, model: str) -> HFModelAdapter:
        if not self.adapters:
            self.setup()
        adapter = self.adapters[model]
        if adapter.shared.model is None:  # the first batch on this base loads it: time it apart
            started = time.perf_counter()
            adapter.load()
            self.load_s += time.perf_counter() - started
            self.loads += 1
        return adapter

    def plan(self, model: str, requests: Sequence[GenerationRequest]) -> BatchPlan:
        """The generation batches of one runner batch (see HFModelAdapter.plan)."""
        return self._adapter(model).plan(requests)

    def generate(self, model: str, requests: Sequence[GenerationRequest]) -> list[GenerationResponse]:
        """Decode one planned generation batch."""
        responses = self._adapter(model).generate_sync(requests)
        self.batches += 1
        return responses

    def stats(self) -> dict[str, Any]:
        """What this actor did: batches, base loads and their seconds, and CPU seconds of its process."""
        return {"batches": self.batches, "loads": self.loads, "load_s": round(self.load_s, 3), "cpu_s": round(time.process_time(), 3)}
