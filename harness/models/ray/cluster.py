"""The Ray connection and the cluster's resources: connect (or start a local instance), say what
exists, and decide how many actors of what size fit before any is started.

Ray is imported here, inside functions, and only for runs that use it.
"""

from __future__ import annotations

import logging
import math
import os
import socket
import threading
from dataclasses import dataclass
from typing import Any

from harness.errors import RunError, UsageError
from harness.models.ray.plan import INSTALL_HINT

# A host:port that does not answer makes ray.init wait (and log from C++) for a minute or more;
# a plain TCP connection says the same in seconds.
PROBE_TIMEOUT_S = 5.0

_lock = threading.Lock()
_users = 0  # pools using the connection this module opened
_started_here = False


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _host_port(address: str) -> tuple[str, int] | None:
    """(host, port) of `ray://HOST:PORT` or `HOST:PORT`; None for `local`, `auto` and other forms."""
    target = address.removeprefix("ray://")
    host, sep, port = target.rpartition(":")
    if not sep or not host or not port.isdigit():
        return None
    return host.strip("[]"), int(port)


def probe(address: str) -> None:
    """Raise RunError naming the address when nothing listens there."""
    where = _host_port(address)
    if where is None:
        return
    try:
        with socket.create_connection(where, timeout=PROBE_TIMEOUT_S):
            pass
    except OSError as exc:
        reason = exc.strerror or first_line(exc) or type(exc).__name__
        raise RunError(f"ray: cannot reach the Ray cluster at {address}: {reason.lower()}") from None


def connect(address: str | None) -> None:
    """Connect to `address` (or start a local instance), unless this process is already connected,
    in which case that connection is used as it is (a notebook, a Ray job, the tests)."""
    global _users, _started_here
    import ray

    with _lock:
        if ray.is_initialized():
            _users += 1
            return
        effective = address or os.environ.get("RAY_ADDRESS")
        if effective not in (None, "", "local", "auto"):
            probe(effective)
        kwargs: dict[str, Any] = {"namespace": "harness", "logging_level": logging.ERROR, "log_to_driver": False}
        if not (effective or "").startswith("ray://"):
            kwargs["include_dashboard"] = False
        try:
            ray.init(address=address, **kwargs)
        except ValueError as exc:
            if "ray[client]" in str(exc):
                raise UsageError(f"ray: {address} is a Ray Client address, which needs ray[client]: {INSTALL_HINT}") from None
            raise RunError(f"ray: cannot connect to the Ray cluster at {effective or 'local'}: {first_line(exc)}") from None
        except Exception as exc:
            raise RunError(f"ray: cannot connect to the Ray cluster at {effective or 'local'}: {first_line(exc)}") from None
        _started_here, _users = True, 1


def disconnect() -> None:
    """One pool is done with the connection; the last one closes what this module opened."""
    global _users, _started_here
    import ray

    with _lock:
        _users = max(0, _users - 1)
        if _users == 0 and _started_here:
            _started_here = False
            ray.shutdown()


@dataclass(frozen=True)
class Node:
    node_id: str
    address: str
    hostname: str
    cpus: float
    gpus: float

    @property
    def shown(self) -> str:
        return f"{self.hostname} ({self.address})" if self.hostname and self.hostname != self.address else self.address


def nodes() -> list[Node]:
    import ray

    found = []
    for entry in ray.nodes():
        if not entry.get("Alive"):
            continue
        resources = entry.get("Resources", {})
        found.append(
            Node(
                str(entry.get("NodeID", "")),
                str(entry.get("NodeManagerAddress", "")),
                str(entry.get("NodeManagerHostname", "")),
                float(resources.get("CPU", 0)),
                float(resources.get("GPU", 0)),
            )
        )
    return found


def _count(value: float, unit: str) -> str:
    shown = f"{value:g}"
    return f"{shown} {unit}" + ("" if value == 1 else "s")


def describe(cluster: list[Node], available: dict[str, float] | None = None) -> str:
    """`1 node: 2 CPUs, 0 GPUs (2 CPUs, 0 GPUs free)`."""
    cpus = sum(n.cpus for n in cluster)
    gpus = sum(n.gpus for n in cluster)
    text = f"{_count(len(cluster), 'node')}: {_count(cpus, 'CPU')}, {_count(gpus, 'GPU')}"
    if available is not None:
        text += f" ({_count(available.get('CPU', 0), 'CPU')}, {_count(available.get('GPU', 0), 'GPU')} free now)"
    return text


def available() -> dict[str, float]:
    import ray

    return {key: float(value) for key, value in ray.available_resources().items()}


@dataclass(frozen=True)
class ActorShape:
    """What one actor asks for."""

    num_cpus: float
    num_gpus: float

    def describe(self) -> str:
        return f"{_count(self.num_cpus, 'CPU')} and {_count(self.num_gpus, 'GPU')}"

    def fits_on(self, node: Node) -> int:
        """How many such actors the node holds."""
        counts = [math.floor(node.cpus / self.num_cpus + 1e-9)] if self.num_cpus > 0 else []
        if self.num_gpus > 0:
            counts.append(math.floor(node.gpus / self.num_gpus + 1e-9))
        return min(counts) if counts else 0


def default_shape(cluster: list[Node], num_cpus: float | None, num_gpus: float | None, device: str) -> ActorShape:
    """GPUs: one per actor when the cluster has any (and the model may use one); CPUs: one per GPU
    actor, else the smallest node's, so a CPU-only cluster gets one multi-threaded actor per node."""
    if num_gpus is None:
        has_gpus = any(n.gpus > 0 for n in cluster)
        num_gpus = 1.0 if device.startswith("cuda") or (device == "auto" and has_gpus) else 0.0
    if num_cpus is None:
        num_cpus = 1.0 if num_gpus > 0 else max(1.0, min((n.cpus for n in cluster if n.cpus > 0), default=1.0))
    return ActorShape(num_cpus, num_gpus)


def place(requests: list[tuple[str, ActorShape, int | None]], cluster: list[Node]) -> list[int]:
    """Actors per group (label, shape, asked count or None for the default). Groups without a count
    share what is left. Raises RunError saying what was asked and what exists when it cannot fit."""
    counts: list[int] = []
    for label, shape, asked in requests:
        capacity = sum(shape.fits_on(node) for node in cluster)
        if capacity == 0:
            largest = max(cluster, key=lambda n: (n.gpus, n.cpus), default=None)
            biggest = (
                f"the largest node has {_count(largest.cpus, 'CPU')} and {_count(largest.gpus, 'GPU')}"
                if largest is not None
                else "no node is alive"
            )
            raise RunError(
                f"ray: no actor for {label} fits on the cluster: each asks {shape.describe()}; {biggest} "
                f"(cluster: {describe(cluster)})"
            )
        counts.append(asked if asked is not None else capacity)
    if len(requests) > 1:  # several bases: defaults split the room; asked counts must fit together
        defaults = [i for i, (_, _, asked) in enumerate(requests) if asked is None]
        for i in defaults:
            counts[i] = max(1, counts[i] // len(requests))
    total_cpus = sum(n.cpus for n in cluster)
    total_gpus = sum(n.gpus for n in cluster)
    asked_cpus = sum(count * shape.num_cpus for count, (_, shape, _) in zip(counts, requests, strict=True))
    asked_gpus = sum(count * shape.num_gpus for count, (_, shape, _) in zip(counts, requests, strict=True))
    room = [sum(shape.fits_on(node) for node in cluster) for _, shape, _ in requests]
    too_many = [(i, c) for i, c in enumerate(counts) if c > room[i]]
    if too_many or asked_cpus > total_cpus + 1e-9 or asked_gpus > total_gpus + 1e-9:
        parts = [f"{c} × ({shape.describe()}) for {label}" for c, (label, shape, _) in zip(counts, requests, strict=True)]
        raise RunError(
            f"ray: the actors do not fit on the cluster: asked {'; '.join(parts)} = {_count(asked_cpus, 'CPU')} and "
            f"{_count(asked_gpus, 'GPU')}; the cluster has {describe(cluster)}"
        )
    return counts
