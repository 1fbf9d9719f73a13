"""hf: generation in one process against Ray actors: wall time, CPU time, per-actor overheads.

Phases are run.json's: `prepare` holds Ray's actors starting and checking their files, `generate`
the answers; `load` (part of `generate`) is the base and adapters loading, in the process with
the transformers/peft imports, on an actor the weights only (its imports are in its start-up).

    .venv/bin/python bench/ray_generation.py                 # 3 interleaved rounds
    .venv/bin/python bench/ray_generation.py --rounds 1 --prompts 40 --max-tokens 8   # a quick look

The model is bench/hf_generation.py's ~50M-parameter random Llama with two random LoRA adapters
(r=16 on the attention projections); the suite has two models, base+lora-0 and base+lora-1, and
`--prompts` cases split between them, each asking for `--max-tokens` tokens (the random model has
no EOS, so every answer is full length). Every measurement is a fresh subprocess running
`run_suite` without the cache, so imports, Ray's start, the actors' start and the weight loads are
all inside the figures. Configurations:

    process/2 threads   one process, torch on both cores (the local hf: default)
    process/1 thread    one process, options.threads: 1
    ray/2 actors        a local Ray instance, 2 actors of 1 CPU each (one thread each)

CPU time is that of the measuring process and everything it started (Ray's GCS, raylet, workers
and actors included), read from /proc when the actors have finished and before they are stopped. "others" is the CPU time the rest of the
machine used meanwhile, in cores: how busy the shared machine was while the figure was taken.
Rounds interleave the configurations so a change in that load hits all of them alike.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

CONFIGS = ["process/2 threads", "process/1 thread", "ray/2 actors"]
TICKS = os.sysconf("SC_CLK_TCK")


def _tree_cpu_s(root: int) -> float:
    """CPU seconds of `root` and its live descendants, each with its reaped children (no double count)."""
    stats: dict[int, tuple[int, float]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        ppid = int(fields[1])
        cpu = sum(int(value) for value in fields[11:15]) / TICKS  # utime, stime, cutime, cstime
        stats[int(entry.name)] = (ppid, cpu)
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in stats.items():
        children.setdefault(ppid, []).append(pid)
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        total += stats.get(pid, (0, 0.0))[1]
        todo.extend(children.get(pid, []))
    return total


def _machine_busy_s() -> float:
    """CPU seconds the whole machine has spent busy (all cores), from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values[:8]) - idle) / TICKS


def write_suite(folder: Path, base: Path, adapters: list[Path], prompts: int, max_tokens: int, threads: int, engine: str = "") -> Path:
    from hf_generation import _questions

    questions = _questions()
    models = "\n".join(
        f"  lora-{i}: {{spec: 'hf:{base}+{adapter}', options: {{batch_size: 16, device: cpu, threads: {threads}}}}}"
        for i, adapter in enumerate(adapters)
    )
    per_model = prompts // len(adapters)
    cases = "\n".join(f"  - {{id: q{i:03d}, input: {json.dumps(questions[i % len(questions)])}}}" for i in range(per_model))
    path = folder / f"bench-{threads}{'-ray' if engine else ''}.yaml"
    path.write_text(f"name: ray-bench\ngeneration: {{max_tokens: {max_tokens}}}\n{engine}models:\n{models}\ncases:\n{cases}\n")
    return path


def measure(config: str, suite: Path) -> dict[str, Any]:
    """One run in this (fresh) process."""
    started = time.perf_counter()
    busy_before, own_before = _machine_busy_s(), _tree_cpu_s(os.getpid())
    ray_init_s = None
    if config.startswith("ray"):
        import ray

        began = time.perf_counter()
        ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR,
             namespace="harness")
        ray_init_s = time.perf_counter() - began
    from harness.api import RunOptions, run_suite

    # The process tree's CPU is read when the pool stops: its actors are still alive then (a killed
    # process takes its CPU time with it); what the driver does after that is added from its own.
    at_stop: list[float] = []
    if config.startswith("ray"):
        from harness.models.ray import pool

        stop = pool.ActorPool.stop

        def read_then_stop(self: pool.ActorPool) -> None:
            at_stop.extend([_tree_cpu_s(os.getpid()), time.process_time()])
            stop(self)

        pool.ActorPool.stop = read_then_stop  # type: ignore[method-assign]

    load_s = [0.0]
    if not config.startswith("ray"):  # time the base load in this process (transformers/peft imports included)
        from harness.models.hf.engine import SharedBase

        original = SharedBase.ensure_loaded

        def timed(self: SharedBase) -> None:
            began = time.perf_counter()
            original(self)
            load_s[0] += time.perf_counter() - began

        SharedBase.ensure_loaded = timed  # type: ignore[method-assign]

    # On Ray: the run attaches to the instance started above (so its start is timed apart).
    options = RunOptions(output_dir=suite.parent / "runs", use_cache=False, progress=False, history=False,
                         ray="auto" if config.startswith("ray") else None)
    outcome = run_suite(suite, options)
    wall = time.perf_counter() - started
    if at_stop:
        cpu = at_stop[0] + (time.process_time() - at_stop[1]) - own_before
    else:
        cpu = _tree_cpu_s(os.getpid()) - own_before
    others = max(0.0, _machine_busy_s() - busy_before - cpu) / wall
    errors = [r["error"] for r in outcome.records if r["error"]]
    if errors:
        raise SystemExit(f"{config}: {len(errors)} errors, first: {errors[0]}")
    run = json.loads((outcome.run_dir / "run.json").read_text())
    tokens = sum(r["usage"]["completion_tokens"] for r in outcome.records)
    actors = [a for pool in (run.get("ray") or {}).get("pools", []) for a in pool["actors"]]
    return {
        "config": config, "wall_s": wall, "cpu_s": cpu, "others_cores": others, "tokens": tokens,
        "prepare_s": run["timings"]["prepare_s"], "generate_s": run["timings"]["generate_s"],
        "ray_init_s": ray_init_s, "actors": actors, "load_s": load_s[0],
        "outputs": {f"{r['model']}/{r['case_id']}": r["output"] for r in outcome.records},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--prompts", type=int, default=200, help="cases x models (split between the two adapters)")
    parser.add_argument("--max-tokens", type=int, default=32)
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--suite", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if args.measure:
        print(json.dumps(measure(args.measure, args.suite)))
        return

    from hf_generation import build_random_model

    print(f"{os.cpu_count()} cores; load average {' '.join(f'{x:.1f}' for x in os.getloadavg())} before the first round")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        base, adapters = build_random_model(folder, adapters=2)
        suites = {
            "process/2 threads": write_suite(folder, base, adapters, args.prompts, args.max_tokens, 2),
            "process/1 thread": write_suite(folder, base, adapters, args.prompts, args.max_tokens, 1),
            "ray/2 actors": write_suite(folder, base, adapters, args.prompts, args.max_tokens, 1,
                                        "engine: {ray: {actors: 2, num_cpus: 1}}\n"),
        }
        results: dict[str, list[dict[str, Any]]] = {config: [] for config in CONFIGS}
        print(f"{args.prompts} prompts ({args.prompts // 2} cases x 2 adapters), {args.max_tokens} tokens each, {args.rounds} rounds\n")
        print(f"{'round':>5} {'configuration':<18} {'wall':>7} {'prepare':>8} {'generate':>9} {'load':>6} {'CPU':>7} {'tokens/s':>9} {'others':>7}")
        for round_index in range(1, args.rounds + 1):
            order = CONFIGS if round_index % 2 else list(reversed(CONFIGS))
            for config in order:
                suite = suites[config]
                done = subprocess.run([sys.executable, __file__, "--measure", config, "--suite", str(suite)],
                                      capture_output=True, text=True, check=False)
                if done.returncode != 0:
                    raise SystemExit(f"{config} failed:\n{done.stderr[-3000:]}")
                result = json.loads(done.stdout.strip().splitlines()[-1])
                results[config].append(result)
                load = max((a.get("load_s", 0.0) for a in result["actors"]), default=result["load_s"])
                print(f"{round_index:>5} {config:<18} {result['wall_s']:>6.1f}s {result['prepare_s']:>7.1f}s "
                      f"{result['generate_s']:>8.1f}s {load:>5.1f}s {result['cpu_s']:>6.1f}s {result['tokens'] / result['wall_s']:>9.1f} "
                      f"{result['others_cores']:>6.2f}")
        reference = results[CONFIGS[0]][0]["outputs"]
        same = all(r["outputs"] == reference for runs in results.values() for r in runs)
        print(f"\nanswers identical across every configuration and round: {same}")

        print(f"\n{'median':<24} {'wall':>7} {'generate':>9} {'CPU':>7} {'tokens/s (wall)':>16}")
        for config, runs in results.items():
            wall = statistics.median(r["wall_s"] for r in runs)
            print(f"{config:<24} {wall:>6.1f}s {statistics.median(r['generate_s'] for r in runs):>8.1f}s "
                  f"{statistics.median(r['cpu_s'] for r in runs):>6.1f}s {runs[0]['tokens'] / wall:>16.1f}")

        print("\nper actor (ray/2 actors)   start-up = created -> files checked (process, imports); load = weights + adapters")
        for round_index, run in enumerate(results["ray/2 actors"], 1):
            actors = ", ".join(
                f"{a['start_s']:.1f}s start-up + {a['load_s']:.1f}s load, {a['batches']} batches, {a['cpu_s']:.0f}s CPU"
                for a in run["actors"]
            )
            print(f"round {round_index}: Ray start {run['ray_init_s']:.1f}s; {actors}")


if __name__ == "__main__":
    main()
