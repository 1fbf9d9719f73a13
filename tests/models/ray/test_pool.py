"""hf: generation on a local Ray instance (2 CPUs, one per test module): the answers of a single
process, resume from the cache, faults (a killed actor, an actor that keeps dying), placement and
a path missing on a node."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from harness.api import RunOptions, run_suite
from harness.cli import main
from harness.models.base import GenerationRequest, GenerationResponse
from harness.models.ray import pool
from harness.models.ray.worker import GenerationWorker, WorkerReport
from tests.models.ray.conftest import TinyModels, outputs, records, run_dir_of, write_suite
from tests.run.live import wait_for_answers

TWO_ACTORS = "{actors: 2, num_cpus: 1}"


class SlowWorker(GenerationWorker):
    """Takes a quarter of a second more per batch, so a kill lands while batches are in flight."""

    def generate(self, model: str, requests: list[GenerationRequest]) -> list[GenerationResponse]:
        time.sleep(0.25)
        return super().generate(model, requests)


class DyingWorker(GenerationWorker):
    """Ready at once (it checks and imports nothing, so restarts are quick), then dies on every job."""

    def setup(self) -> WorkerReport:
        import ray

        return WorkerReport(ray.get_runtime_context().get_node_id(), ray.util.get_node_ip_address(), socket.gethostname(),
                            os.getpid(), fingerprints={model.name: f"fp:{model.name}" for model in self.models})

    def plan(self, model: str, requests: Sequence[GenerationRequest]) -> Any:
        os._exit(1)


class StaleCopyWorker(GenerationWorker):
    """The second actor sees other files for `tuned-a`, as on a node with a stale copy of its adapter."""

    def setup(self) -> WorkerReport:
        import dataclasses

        import ray

        report = super().setup()
        if ray.get_runtime_context().get_actor_name().endswith("-1"):
            fingerprints = {**report.fingerprints, "tuned-a": report.fingerprints["tuned-a"] + "-stale"}
            report = dataclasses.replace(report, fingerprints=fingerprints, hostname="node-b")
        return report


@pytest.fixture
def worker_class(ray_instance: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Run the pool's actors from a test subclass (sent to the workers by value)."""
    ray_instance.cloudpickle.register_pickle_by_value(sys.modules[__name__])

    def use(cls: type[GenerationWorker]) -> None:
        monkeypatch.setattr(pool, "WORKER_CLASS", cls)

    return use


def _harness(*args: str) -> int:
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    return int(exited.value.code or 0)


def _run(suite: Path, output: Path, **options: Any) -> Any:
    return run_suite(suite, RunOptions(output_dir=output, progress=False, **options))


@pytest.fixture
def local_answers(tiny: TinyModels, tmp_path: Path) -> dict[tuple[str, str], str | None]:
    """What a single process answers for the suite's models (no cache)."""
    suite = write_suite(tmp_path / "local.yaml", tiny, None)
    outcome = _run(suite, tmp_path / "local", use_cache=False)
    assert "ray" not in json.dumps(json.loads((outcome.run_dir / "run.json").read_text())["models"])
    return outputs(records(outcome.run_dir))


@pytest.mark.slow
def test_ray_answers_equal_single_process_and_resume_from_the_cache(ray_instance: Any, tiny: TinyModels, tmp_path: Path) -> None:
    sampled = (f"  sampled: {{spec: 'hf:{tiny.base}+{tiny.lora_b}', generation: {{temperature: 0.9, seed: 7}}, "
               "options: {batch_size: 2, threads: 1}}")
    local = _run(write_suite(tmp_path / "local.yaml", tiny, None, extra_models=sampled), tmp_path / "local", use_cache=False)
    suite = write_suite(tmp_path / "ray.yaml", tiny, TWO_ACTORS, extra_models=sampled)

    # A first run of two models stops after 5 cases; the second asks only for the rest, like a
    # rerun after a crash. (The sampled model runs whole: its seeds follow its runner batches.)
    first = _run(suite, tmp_path / "first", models=["base", "tuned-a"], limit=5)
    second = _run(suite, tmp_path / "second")
    rows = records(second.run_dir)
    assert sum(r["cached"] for r in rows) == 2 * 5 and all(r["error"] is None for r in rows)
    assert outputs(rows) == outputs(records(local.run_dir))  # greedy and seeded sampling alike
    assert outputs(records(first.run_dir)).items() <= outputs(rows).items()

    run = json.loads((second.run_dir / "run.json").read_text())
    local_run = json.loads((local.run_dir / "run.json").read_text())
    assert [m["fingerprint"] for m in run["models"]] == [m["fingerprint"] for m in local_run["models"]]
    assert run["options"]["ray"] is None and run["ray"]["address"] == "default"
    (entry,) = run["ray"]["pools"]  # one pool: the four models share one base
    assert entry["models"] == ["base", "tuned-a", "tuned-b", "sampled"]
    assert (entry["num_cpus"], entry["num_gpus"]) == (1.0, 0.0)
    actors = entry["actors"]
    assert len(actors) == 2 and all(a["deaths"] == 0 and a["alive"] for a in actors)
    # Batches were dealt to both actors, each loaded the base (with both adapters) once, and
    # together they decoded every generation batch in batches of 2: 7 cases of base and
    # tuned-a (one runner batch each), 12 of tuned-b and sampled (runner batches of 8 and 4).
    assert all(a["batches"] > 0 and a["loads"] == 1 for a in actors)
    assert sum(a["batches"] for a in actors) == 2 * 4 + 2 * (4 + 2)

    # The same identity as a single process: a local rerun is answered from what Ray generated.
    again = _run(write_suite(tmp_path / "local.yaml", tiny, None, extra_models=sampled), tmp_path / "again")
    assert all(r["cached"] for r in records(again.run_dir))


@pytest.mark.slow
@pytest.mark.parametrize("restart", [False, True], ids=["killed-for-good", "killed-and-restarted"])
def test_a_killed_actor_loses_nothing_and_duplicates_nothing(ray_instance: Any, worker_class: Any, tiny: TinyModels, tmp_path: Path,
                                                             local_answers: dict[tuple[str, str], str | None],
                                                             restart: bool) -> None:
    worker_class(SlowWorker)
    suite = write_suite(tmp_path / "ray.yaml", tiny, TWO_ACTORS)
    output = tmp_path / "out"
    killed: list[str] = []

    def kill_after_the_first_answers() -> None:
        if wait_for_answers(output, 2, timeout=120) is not None:
            names = sorted(a["name"] for a in ray_instance.util.list_named_actors(all_namespaces=True)
                           if a["name"].startswith("harness-"))
            ray_instance.kill(ray_instance.get_actor(names[0], namespace="harness"), no_restart=not restart)
            killed.append(names[0])

    killer = threading.Thread(target=kill_after_the_first_answers)
    killer.start()
    try:
        outcome = _run(suite, output)
    finally:
        killer.join()
    assert killed, "the run ended before an actor could be killed"
    rows = records(outcome.run_dir)
    assert len(rows) == 3 * 12 and all(r["error"] is None for r in rows)
    assert outputs(rows) == local_answers  # every case exactly once, with the single-process answer
    (entry,) = json.loads((outcome.run_dir / "run.json").read_text())["ray"]["pools"]
    victim = next(a for a in entry["actors"] if a["name"] == killed[0])
    assert victim["deaths"] == 1
    assert (victim["alive"], victim["restarts"]) == ((True, 1) if restart else (False, 0))


@pytest.mark.slow
@pytest.mark.parametrize(
    ("restarts", "expected"),
    [
        (2, r"error: ray: model 'base': 3 actors died running the same batch \(cases q\d\d, q\d\d, q\d\d, \.\.\.\); last: actor \d on .+"),
        (0, r"error: ray: every actor for base '.+' died \(2 deaths, max_restarts 0 each\); last: actor \d on .+"),
    ],
    ids=["same-batch", "all-actors"],
)
def test_an_actor_that_keeps_dying_ends_the_run_with_exit_3(ray_instance: Any, worker_class: Any, tiny: TinyModels, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str], restarts: int, expected: str) -> None:
    worker_class(DyingWorker)
    suite = write_suite(tmp_path / "ray.yaml", tiny, f"{{actors: 2, num_cpus: 1, max_restarts: {restarts}}}")
    output = tmp_path / "out"
    assert _harness("run", str(suite), "-m", "base", "-o", str(output), "-q") == 3
    captured = capsys.readouterr()
    *notices, error, partial = captured.err.splitlines()
    assert re.fullmatch(expected, error), error
    assert partial == f"Partial results: {run_dir_of(output)}"
    assert notices and all(re.fullmatch(r"ray: actor \d on .+; its batch goes to another actor", n) for n in notices)
    assert "raylet" not in captured.out + captured.err  # Ray's own multi-line reports are folded into ours
    assert json.loads((run_dir_of(output) / "run.json").read_text())["status"] == "aborted"


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ("{num_gpus: 1}", "error: ray: no actor for base '{base}' fits on the cluster: each asks 1 CPU and 1 GPU; "
                          "the largest node has 2 CPUs and 0 GPUs (cluster: 1 node: 2 CPUs, 0 GPUs)"),
        ("{actors: 3, num_cpus: 1}", "error: ray: the actors do not fit on the cluster: asked 3 × (1 CPU and 0 GPUs) for "
                                     "base '{base}' = 3 CPUs and 0 GPUs; the cluster has 1 node: 2 CPUs, 0 GPUs"),
    ],
    ids=["more-gpus-than-exist", "more-actors-than-fit"],
)
def test_actors_that_cannot_be_placed_say_what_was_asked_and_what_exists(
    ray_instance: Any, tiny: TinyModels, tmp_path: Path, capsys: pytest.CaptureFixture[str], settings: str, message: str
) -> None:
    suite = write_suite(tmp_path / "ray.yaml", tiny, settings)
    assert _harness("run", str(suite), "-o", str(tmp_path / "out"), "-q") == 3
    assert capsys.readouterr().err == message.format(base=tiny.base) + "\n"
    assert not (tmp_path / "out").exists()  # refused before the run started


def test_actors_waiting_for_busy_resources_time_out(ray_instance: Any, tiny: TinyModels, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    @ray_instance.remote(num_cpus=2)
    class Hog:
        def ready(self) -> bool:
            return True

    hog = Hog.remote()  # type: ignore[attr-defined]
    ray_instance.get(hog.ready.remote())
    try:
        suite = write_suite(tmp_path / "ray.yaml", tiny, "{actors: 1, num_cpus: 1, start_timeout: 2}")
        assert _harness("run", str(suite), "-o", str(tmp_path / "out"), "-q") == 3
    finally:
        ray_instance.kill(hog)
    assert capsys.readouterr().err == (
        f"error: ray: no actor for base '{tiny.base}' could be placed within 2s: each asks 1 CPU and 0 GPUs; "
        "the cluster has 1 node: 2 CPUs, 0 GPUs (0 CPUs, 0 GPUs free now)\n"
    )


@pytest.mark.slow
def test_a_path_missing_on_a_node_is_reported_with_the_node(ray_instance: Any, tiny: TinyModels, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "adapters" / "gone"
    suite = write_suite(  # no engine: in the suite; --ray sends it to Ray (the check here is only a note)
        tmp_path / "ray.yaml", tiny, None,
        extra_models=f"  gone: {{spec: 'hf:{tiny.base}+{missing}', options: {{batch_size: 2}}}}",
    )
    assert _harness("run", str(suite), "-m", "gone", "--ray", "local", "-o", str(tmp_path / "out"), "-q") == 2
    node = re.escape(f"on Ray node {os.uname().nodename} (")
    assert re.fullmatch(
        rf"error: model 'gone': adapter directory '{re.escape(str(missing))}' not found \(looked at {re.escape(str(missing))}\) "
        rf"{node}[\d.]+\)\n",
        capsys.readouterr().err,
    )
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_weights_that_fail_to_load_on_an_actor_are_exit_3_with_the_node(ray_instance: Any, tiny: TinyModels, tmp_path: Path,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    broken = shutil.copytree(tiny.base, tmp_path / "broken")
    (broken / "model.safetensors").write_bytes(b"not a safetensors file")
    suite = write_suite(tmp_path / "ray.yaml", tiny, TWO_ACTORS,
                        extra_models=f"  broken: {{spec: 'hf:{broken}', options: {{batch_size: 2}}}}")
    assert _harness("run", str(suite), "-m", "broken", "-o", str(tmp_path / "out"), "-q") == 3
    error, partial = capsys.readouterr().err.splitlines()
    assert error.startswith(f"error: model 'broken': could not load base model '{broken}': ")
    assert re.search(r" \(on Ray node .+ \([\d.]+\)\)$", error)
    assert partial == f"Partial results: {run_dir_of(tmp_path / 'out')}"


@pytest.mark.slow
def test_nodes_with_different_files_are_refused(ray_instance: Any, worker_class: Any, tiny: TinyModels, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    worker_class(StaleCopyWorker)
    suite = write_suite(tmp_path / "ray.yaml", tiny, TWO_ACTORS)
    assert _harness("run", str(suite), "-o", str(tmp_path / "out"), "-q") == 2
    assert re.fullmatch(
        r"error: model 'tuned-a': the model files differ between Ray nodes .+ and node-b \([\d.]+\); give every node the "
        r"same files \(a shared filesystem, or copies that keep modification times: rsync -a\)\n",
        capsys.readouterr().err,
    )
    assert not (tmp_path / "out").exists()
