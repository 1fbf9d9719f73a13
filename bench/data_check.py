"""Time and peak memory of `harness data check` / `clean` / `split` on a generated 100k-example chat file,
and memory on a much larger file (generated in /tmp, deleted after).

    .venv/bin/python bench/data_check.py                 # 100k examples, 3 runs, + one check of a 400 MB file
    .venv/bin/python bench/data_check.py --examples 20000 --runs 1 --large-mb 0

Each command runs in a fresh process (`harness data ...`), its peak resident memory read from
the kernel (ru_maxrss of the child). The data is deterministic: the same arguments give the
same file. About 12 % of examples are exact copies and 4 % near copies (one word changed),
2 % carry PII and 1 % are invalid, like a raw support-ticket export.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

PRODUCTS = ["TechCorp app", "TechCorp router", "Acme CRM", "Nimbus Drive", "Orbit Watch", "Pulse Earbuds",
            "Vega Laptop", "Atlas Printer", "Zen Thermostat", "Echo Camera"]
ACTIONS = ["reset my password", "update the firmware", "change my billing address", "cancel my subscription",
           "export my data", "pair a new device", "enable two-factor login", "recover a deleted file",
           "transfer my licence", "book a repair"]
FEELINGS = ["", "I am in a hurry. ", "This is urgent. ", "I tried twice already. ", "Thanks in advance. "]
STEPS = ["open Settings", "tap Account", "choose Security", "select the device", "confirm with the code we email you",
         "wait for the green light", "sign in again", "restart the app", "check the status page", "save the change"]
WORDS = ["please", "note", "that", "the", "process", "usually", "takes", "a", "few", "minutes", "and", "you", "can", "always", "contact", "our", "support", "team", "if", "anything", "looks", "different", "on", "your", "screen", "or", "an", "error", "message", "appears", "during", "the", "update"]


def example(rng: random.Random, n: int) -> dict[str, object]:
    product, action = rng.choice(PRODUCTS), rng.choice(ACTIONS)
    user = f"{rng.choice(FEELINGS)}How do I {action} on the {product}? Ticket {n}."
    steps = rng.sample(STEPS, 4)
    filler = " ".join(rng.choices(WORDS, k=rng.randint(15, 45)))
    answer = (f"To {action} on the {product}: 1. {steps[0]}, 2. {steps[1]}, 3. {steps[2]}, 4. {steps[3]}. "
              f"{filler.capitalize()}. Reference {n}.")
    return {"messages": [{"role": "system", "content": "You are a helpful support agent for TechCorp."},
                         {"role": "user", "content": user}, {"role": "assistant", "content": answer}]}


def generate(path: Path, examples: int | None = None, target_bytes: int | None = None, seed: int = 7) -> int:
    """Write a chat JSONL file of `examples` lines (or until `target_bytes`); returns the line count."""
    rng = random.Random(seed)
    recent: list[dict[str, object]] = []
    written = size = 0
    with path.open("wb") as handle:
        while (examples is not None and written < examples) or (target_bytes is not None and size < target_bytes):
            roll = rng.random()
            if roll < 0.12 and recent:
                record = rng.choice(recent)
            elif roll < 0.16 and recent:
                record = orjson.loads(orjson.dumps(rng.choice(recent)))
                messages = record["messages"]
                assert isinstance(messages, list)
                words = messages[2]["content"].split()
                words[len(words) // 2] = "kindly"
                messages[2]["content"] = " ".join(words)
            else:
                record = example(rng, written)
                if roll > 0.98:
                    messages = record["messages"]
                    assert isinstance(messages, list)
                    messages[1]["content"] += f" Reach me at user{written}@mailbox.org or +1 415 555 {2600 + written % 99:04d}."
                if roll > 0.97 and roll <= 0.98:
                    record["messages"] = record["messages"][:2]  # type: ignore[index]  # no answer: invalid
                else:
                    recent.append(record)
                if len(recent) > 500:
                    recent.pop(0)
            line = orjson.dumps(record) + b"\n"
            handle.write(line)
            size += len(line)
            written += 1
    return written


def peak_of(args: list[str]) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and peak RSS (MiB) of one `harness` process.

    Run from a fresh interpreter so each command's peak is its own (ru_maxrss of children
    never decreases). CPU time is reported too: on a shared machine, wall time includes waiting.
    """
    code = (
        "import resource, subprocess, sys, time, json;"
        "t = time.perf_counter();"
        f"p = subprocess.run([sys.executable, '-m', 'harness', *{args!r}], capture_output=True, text=True);"
        "u = resource.getrusage(resource.RUSAGE_CHILDREN);"
        "print(json.dumps([time.perf_counter() - t, u.ru_utime + u.ru_stime, u.ru_maxrss / 1024,"
        " p.returncode, p.stderr[-300:]]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    elapsed, cpu, peak, code_, stderr = orjson.loads(out)
    if code_ not in (0, 1):
        raise SystemExit(f"harness {' '.join(args)} failed ({code_}): {stderr.strip()}")
    return float(elapsed), float(cpu), float(peak)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--examples", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--large-mb", type=int, default=400, help="size of the bounded-memory file; 0 skips it")
    parser.add_argument("--large-runs", type=int, default=1, help="checks of the large file (several minutes each)")
    options = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="harness-bench-") as tmp:
        folder = Path(tmp)
        data = folder / "train.jsonl"
        started = time.perf_counter()
        lines = generate(data, examples=options.examples)
        print(f"generated {lines:,} examples, {data.stat().st_size / 2**20:.1f} MiB in {time.perf_counter() - started:.1f}s",
              flush=True)
        commands = {
            "check": ["data", "check", str(data), "-q", "--json"],
            "clean": ["data", "clean", str(data), "-o", str(folder / "clean.jsonl"), "-q", "--json"],
            "split": ["data", "split", str(data), "-o", str(folder / "split"), "-q", "--json"],
        }
        for name, args in commands.items():
            figures = [peak_of(args) for _ in range(options.runs)]
            times = ", ".join(f"{t:.1f}s" for t, _, _ in figures)
            cpus = ", ".join(f"{c:.1f}s" for _, c, _ in figures)
            peaks = ", ".join(f"{m:.0f} MiB" for _, _, m in figures)
            print(f"{name:6} {lines:,} examples: wall {times}; CPU {cpus}; peak RSS {peaks}", flush=True)
        report = orjson.loads(subprocess.run([sys.executable, "-m", "harness", *commands["check"]],
                                             capture_output=True, text=True).stdout)
        print(f"check found {report['duplicates']:,} exact and {report['near_duplicates']:,} near duplicates, "
              f"{report['problems_by_kind'].get('pii', 0):,} examples with PII; tokens {report['tokens']['total']:,} "
              f"({report['tokens']['method']})")
        data.unlink()

        if options.large_mb:
            large = folder / "large.jsonl"
            lines = generate(large, target_bytes=options.large_mb * 2**20, seed=11)
            size = large.stat().st_size / 2**20
            for _ in range(options.large_runs):
                elapsed, cpu, peak = peak_of(["data", "check", str(large), "-q", "--json"])
                print(f"check  {lines:,} examples, {size:.0f} MiB: wall {elapsed:.1f}s; CPU {cpu:.1f}s; "
                      f"peak RSS {peak:.0f} MiB", flush=True)
            large.unlink()


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
