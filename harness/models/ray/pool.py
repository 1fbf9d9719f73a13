"""A pool of Ray actors for the `hf:` models that share one base, and the batches dealt to them.

The runner hands a Ray-backed model runner batches as it would hand the local `hf:` adapter.
Each runner batch is planned by an actor (prompt rendering, token counts, length sort, the
generation batches: `HFModelAdapter.plan`) and its generation batches join one queue that every
actor of the pool takes from as it frees up; plans jump the queue so new work is always ready.
A generation batch decoded alone is decoded exactly as inside its runner batch, so answers are
the single-process answers, greedy or seeded.

Faults: a batch in flight on an actor that dies goes back to the front of the queue and the
next free actor takes it; its result, if the dead actor ever sent one, is never used, so no
answer is lost or counted twice. Ray restarts a dead actor up to `max_restarts` times; a
restarted actor checks its files again (it may come back on another node) before it takes
work. A batch whose actor died `MAX_ATTEMPTS` times, or a pool without a live actor, ends the
run (RunError, exit 3).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from harness.errors import HarnessError, RunError, UsageError
from harness.models.base import ErrorInfo, GenerationRequest, GenerationResponse
from harness.models.ray import cluster
from harness.models.ray.cluster import ActorShape
from harness.models.ray.plan import RayPlan, RaySettings
from harness.models.ray.worker import GenerationWorker, WorkerReport
from harness.models.resolve import ResolvedModel

# The actor class; tests put a subclass here to inject faults.
WORKER_CLASS: type[GenerationWorker] = GenerationWorker
# Deaths a single batch may cause (on any actors) before the run gives up on it.
MAX_ATTEMPTS = 3
# Ray's own reports of dead workers (see `capture_ray_messages`), newest last.
RAY_MESSAGES: collections.deque[str] = collections.deque(maxlen=50)

_PLAN, _GENERATE = "plan", "generate"
_PRIORITY = {"retry": 0, _PLAN: 1, _GENERATE: 2}


def capture_ray_messages() -> None:
    """Ray prints its raylet's error reports (a worker died, and why) on the driver's stdout, where
    they would land in the middle of the summary table. Keep them instead; a death is reported
    in one line with the exit detail they carry. Private Ray API: skipped if it moved."""
    try:
        from ray._private import worker as ray_worker
    except ImportError:  # pragma: no cover
        return
    original = getattr(ray_worker, "print_to_stdstream", None)
    if original is None or getattr(original, "_harness_capture", False):
        return

    def keep(data: dict[str, Any], ignore_prefix: bool) -> None:
        if data.get("pid") == "raylet":
            RAY_MESSAGES.extend(str(line) for line in data.get("lines", []))
            return
        original(data, ignore_prefix)

    keep._harness_capture = True  # type: ignore[attr-defined]
    ray_worker.print_to_stdstream = keep


def _exit_detail(exc: BaseException, pid: int | None) -> str:
    """Why an actor died, in a few words: Ray's exit detail for its process, else the exception's first line."""
    texts = [str(exc)] + [m for m in reversed(RAY_MESSAGES) if pid is None or f"PID: {pid}" in m]
    for text in texts:
        found = re.search(r"Worker exit detail: (.+?)(?:\. Some common causes|\n|$)", text)
        if found:
            return found.group(1).strip().rstrip(".")
    return cluster.first_line(exc)


@dataclass
class _Job:
    method: str  # plan | generate
    model: str
    requests: list[GenerationRequest]
    future: asyncio.Future[Any]
    attempts: int = 0


@dataclass
class _Slot:
    index: int
    name: str
    handle: Any
    report: WorkerReport
    start_s: float
    alive: bool = True
    deaths: int = 0
    restarts: int = 0
    batches: int = 0
    stats: dict[str, Any] = field(default_factory=dict)


class ActorPool:
    """The actors of one base; shared by the Ray-backed adapters of the models on it."""

    def __init__(
        self, label: str, settings: RaySettings, shape: ActorShape, slots: list[_Slot], fingerprints: dict[str, str],
        plan: RayPlan, info: dict[str, Any],
    ) -> None:
        self.label = label
        self.settings = settings
        self.shape = shape
        self.slots = slots
        self.fingerprints = fingerprints
        self.plan = plan
        self.info = info  # this pool's entry in run.json's `ray`
        self.users = 0
        self._queue: asyncio.PriorityQueue[tuple[int, int, _Job]] | None = None
        self._drivers: list[asyncio.Task[None]] = []
        self._order = itertools.count()
        self._failure: HarnessError | None = None
        self._last_death = ""
        self._released = False

    @property
    def size(self) -> int:
        return sum(slot.alive for slot in self.slots)

    # -- dealing ---------------------------------------------------------------------------
    async def answer(self, model: str, requests: list[GenerationRequest]) -> list[GenerationResponse]:
        """One runner batch of `model`, planned by one actor and decoded by whichever are free."""
        if not requests:
            return []
        self._start()
        plan = await self._submit(_PLAN, model, requests)
        responses: list[GenerationResponse | None] = [None] * len(requests)
        for index, response in plan.answered.items():
            responses[index] = response
        jobs = [self._submit(_GENERATE, model, [requests[i] for i in batch]) for batch in plan.batches]
        try:
            outputs = await asyncio.gather(*jobs)
        except BaseException:  # a batch failed or the run was cancelled: drop the rest from the queue
            for job in jobs:
                job.cancel()
            raise
        for batch, answered in zip(plan.batches, outputs, strict=True):
            for index, response in zip(batch, answered, strict=True):
                responses[index] = response
        missing = GenerationResponse(None, ErrorInfo(kind="other", message="not generated"))
        return [response or missing for response in responses]

    def _start(self) -> None:
        if self._queue is not None:
            return
        self._queue = asyncio.PriorityQueue()
        self._drivers = [asyncio.ensure_future(self._drive(slot)) for slot in self.slots if slot.alive]

    def _submit(self, method: str, model: str, requests: list[GenerationRequest]) -> asyncio.Future[Any]:
        """Queue a job; its future holds the actor's answer."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        if self._failure is not None:
            future.set_exception(self._failure)
        else:
            self._put(_Job(method, model, requests, future), method)
        return future

    def _put(self, job: _Job, priority: str) -> None:
        assert self._queue is not None
        self._queue.put_nowait((_PRIORITY[priority], next(self._order), job))

    async def _drive(self, slot: _Slot) -> None:
        """Feed one actor: take the next job, run it, hand back the result; handle its death."""
        from ray.exceptions import RayActorError, RayTaskError

        assert self._queue is not None
        while slot.alive:
            _, _, job = await self._queue.get()
            if job.future.done():  # its runner batch was cancelled or failed
                continue
            try:
                result = await getattr(slot.handle, job.method).remote(job.model, job.requests)
            except RayActorError as exc:
                await self._died(slot, job, exc)
                continue
            except RayTaskError as exc:  # raised inside the actor: the weights failed to load, or a bug
                cause = exc.cause
                message = cause.message if isinstance(cause, HarnessError) else f"{type(cause).__name__}: {cluster.first_line(cause)}"
                if not job.future.done():
                    job.future.set_exception(RunError(f"{message} (on Ray node {slot.report.node})"))
                continue
            if job.method == _GENERATE:
                slot.batches += 1
            if not job.future.done():
                job.future.set_result(result)

    async def _died(self, slot: _Slot, job: _Job, exc: BaseException) -> None:
        slot.deaths += 1
        job.attempts += 1
        self._last_death = f"actor {slot.index} on {slot.report.node}: {_exit_detail(exc, slot.report.pid)}"
        if job.attempts >= MAX_ATTEMPTS:
            cases = ", ".join(r.case_id for r in job.requests[:3]) + (", ..." if len(job.requests) > 3 else "")
            if not job.future.done():
                job.future.set_exception(
                    RunError(
                        f"ray: model '{job.model}': {job.attempts} actors died running the same batch "
                        f"(cases {cases}); last: {self._last_death}"
                    )
                )
        elif not job.future.done():
            self._put(job, "retry")
            self.plan.say(f"ray: {self._last_death}; its batch goes to another actor", always=True)
        if not await self._revive(slot):
            slot.alive = False
            if self.size == 0:
                self._fail_all(
                    RunError(
                        f"ray: every actor for {self.label} died ({sum(s.deaths for s in self.slots)} deaths, "
                        f"max_restarts {self.settings.max_restarts} each); last: {self._last_death}"
                    )
                )

    async def _revive(self, slot: _Slot) -> bool:
        """Wait for Ray to restart the actor and let it check its files again; False when it is gone for good."""
        from ray.exceptions import ActorUnavailableError, RayActorError, RayTaskError

        deadline = time.monotonic() + self.settings.start_timeout
        while True:
            try:
                report: WorkerReport = await slot.handle.setup.remote()
                break
            except ActorUnavailableError:
                if time.monotonic() > deadline:
                    return False
                await asyncio.sleep(0.5)
            except (RayActorError, RayTaskError):
                return False
        problem = report.problem
        if problem is None and report.fingerprints != self.fingerprints:
            problem = "it restarted with model files that differ from the other actors'"
        if problem is not None:
            self._last_death = f"actor {slot.index} restarted on {report.node}: {problem}"
            _kill(slot.handle)
            return False
        slot.report = report
        slot.restarts += 1
        return True

    def _fail_all(self, error: HarnessError) -> None:
        self._failure = error
        if self._queue is None:
            return
        while not self._queue.empty():
            _, _, job = self._queue.get_nowait()
            if not job.future.done():
                job.future.set_exception(error)

    # -- the end -----------------------------------------------------------------------------
    async def release(self) -> None:
        """One model is done; the last one collects the actors' figures and stops them."""
        self.users -= 1
        if self.users > 0 or self._released:
            return
        self._released = True
        alive = [slot for slot in self.slots if slot.alive]
        if alive:
            try:
                stats = await asyncio.wait_for(
                    asyncio.gather(*(slot.handle.stats.remote() for slot in alive), return_exceptions=True), 10
                )
            except TimeoutError:
                stats = []
            for slot, figures in zip(alive, stats, strict=False):
                if isinstance(figures, dict):
                    slot.stats = figures
        for task in self._drivers:
            task.cancel()
        await asyncio.gather(*self._drivers, return_exceptions=True)
        self.stop()

    def stop(self) -> None:
        """Kill the actors and record what each did in run.json's `ray` entry."""
        for slot in self.slots:
            _kill(slot.handle)
        self.info["actors"] = [_actor_info(slot) for slot in self.slots]
        if self._queue is not None:
            self.plan.say(f"ray: {self.label}: {_summary(self.slots)}")
        cluster.disconnect()


def _kill(handle: Any) -> None:
    import ray

    with contextlib.suppress(Exception):  # already gone
        ray.kill(handle, no_restart=True)


def _actor_info(slot: _Slot) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": slot.name,
        "node": slot.report.node,
        "gpu_ids": slot.report.gpu_ids,
        "start_s": round(slot.start_s, 3),
        "batches": slot.batches,
        "deaths": slot.deaths,
        "restarts": slot.restarts,
        "alive": slot.alive,
    }
    entry.update({key: slot.stats[key] for key in ("load_s", "loads", "cpu_s") if key in slot.stats})
    return entry


def _summary(slots: list[_Slot]) -> str:
    parts = []
    for slot in slots:
        text = f"actor {slot.index} on {slot.report.node}: {slot.batches} batches, start-up {slot.start_s:.1f}s"
        if "load_s" in slot.stats:
            text += f", load {slot.stats['load_s']:.1f}s"
        if slot.deaths:
            text += f", {slot.deaths} deaths"
        parts.append(text)
    return "; ".join(parts)


def start_pool(
    label: str, base: str, models: list[ResolvedModel], settings: RaySettings, shape: ActorShape, count: int, plan: RayPlan
) -> ActorPool:
    """Start `count` actors, let each check its files on its node, and wait until they are ready.

    Raises UsageError for a file or option problem found on a node (with the node), RunError when
    no actor can be placed or started within `start_timeout`."""
    import ray
    from ray.exceptions import RayError, RayTaskError

    capture_ray_messages()
    remote = ray.remote(WORKER_CLASS)
    token = uuid.uuid4().hex[:8]
    handles = []
    for index in range(count):
        handles.append(
            remote.options(
                name=f"harness-{token}-{index}",
                num_cpus=shape.num_cpus,
                num_gpus=shape.num_gpus,
                max_restarts=settings.max_restarts,
                max_task_retries=0,
                scheduling_strategy="SPREAD",
            ).remote(models)
        )
    started = time.perf_counter()
    refs = [handle.setup.remote() for handle in handles]
    ready_at: dict[int, float] = {}
    pending = list(refs)
    deadline = started + settings.start_timeout
    while pending and time.perf_counter() < deadline:
        done, pending = ray.wait(pending, num_returns=1, timeout=max(0.0, deadline - time.perf_counter()))
        for ref in done:
            ready_at[refs.index(ref)] = time.perf_counter() - started

    reports: dict[int, WorkerReport] = {}
    failures: list[str] = []
    for index in sorted(ready_at):
        try:
            reports[index] = ray.get(refs[index])
        except RayTaskError as exc:
            failures.append(f"{type(exc.cause).__name__}: {cluster.first_line(exc.cause)}")
        except RayError as exc:
            failures.append(_exit_detail(exc, None))
    problems = [r for r in reports.values() if r.problem is not None]
    if problems:
        for handle in handles:
            _kill(handle)
        cluster.disconnect()
        first = problems[0]
        raise UsageError(f"{first.problem} on Ray node {first.node}")
    if not reports:
        for handle in handles:
            _kill(handle)
        cluster.disconnect()
        if failures:
            raise RunError(f"ray: no actor for {label} started: {failures[0]}")
        raise RunError(
            f"ray: no actor for {label} could be placed within {settings.start_timeout:g}s: each asks "
            f"{shape.describe()}; the cluster has {cluster.describe(cluster.nodes(), cluster.available())}"
        )
    fingerprints = next(iter(reports.values())).fingerprints
    differing = [r for r in reports.values() if r.fingerprints != fingerprints]
    if differing:
        for handle in handles:
            _kill(handle)
        cluster.disconnect()
        first = next(iter(reports.values()))
        model = next(name for name in fingerprints if differing[0].fingerprints.get(name) != fingerprints[name])
        raise UsageError(
            f"model '{model}': the model files differ between Ray nodes {first.node} and {differing[0].node}; "
            "give every node the same files (a shared filesystem, or copies that keep modification times: rsync -a)"
        )
    missing = count - len(reports)
    if missing:
        reason = failures[0] if failures else f"not placed within {settings.start_timeout:g}s"
        plan.say(f"warning: ray: {missing} of {count} actors for {label} did not start ({reason}); running on {len(reports)}", always=True)
        for index, handle in enumerate(handles):
            if index not in reports:
                _kill(handle)
    slots = [
        _Slot(index, f"harness-{token}-{index}", handles[index], report, ready_at[index])
        for index, report in sorted(reports.items())
    ]
    info: dict[str, Any] = {
        "base": base,
        "models": [model.name for model in models],
        "num_cpus": shape.num_cpus,
        "num_gpus": shape.num_gpus,
        "actors": [_actor_info(slot) for slot in slots],
    }
    plan.info.setdefault("pools", []).append(info)
    return ActorPool(label, settings, shape, slots, fingerprints, plan, info)
