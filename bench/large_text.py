"""Peak memory (RSS) and time for one huge text: a 50 MB reference in `harness run`, a 50 MB line
in `harness data check`, and each reference metric at its text-size limit.

    .venv/bin/python bench/large_text.py                    # 50 MB, every part
    .venv/bin/python bench/large_text.py --mb 10 --parts data,run

Every measurement runs in a fresh process whose peak resident memory is read from the kernel
(ru_maxrss of the child, via os.wait4); the interpreter and libraries alone are ~50-100 MB of
it. Texts are random words from a 5,000-word vocabulary (deterministic), written to a temporary
folder that is deleted afterwards, by a child process too: a child's ru_maxrss starts from its
parent's size at fork, so the parent never holds a large text. Nothing here is a test: it
prints figures.
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

ROOT = Path(__file__).resolve().parent.parent


def words_text(chars: int, seed: int, lines: bool = False) -> str:
    rng = random.Random(seed)
    vocabulary = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 9))) for _ in range(5000)]
    parts: list[str] = []
    size = 0
    while size < chars:
        word = rng.choice(vocabulary)
        if lines and rng.random() < 0.05:
            word += ".\n"
        parts.append(word)
        size += len(word) + 1
    return " ".join(parts)[:chars]


def measure(args: list[str], env: dict[str, str] | None = None) -> tuple[int, float, float]:
    """(exit code, seconds, peak RSS in MB) of a child process."""
    started = time.perf_counter()
    process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return process.returncode, time.perf_counter() - started, usage.ru_maxrss / 1024


def make(kind: str, folder: Path, mb: float) -> None:
    """Write the files of one part (run in a child process by `bench_data` / `bench_run`)."""
    if kind == "data":
        write_data(folder / "one-long-line.jsonl", mb)
    else:
        write_run(folder, mb)


def _make(kind: str, folder: Path, mb: float) -> None:
    subprocess.run([sys.executable, __file__, "--make", kind, str(folder), "--mb", str(mb)], check=True)


def write_data(path: Path, mb: float) -> None:
    with path.open("wb") as handle:
        for i in range(10):
            handle.write(orjson.dumps({"messages": [{"role": "user", "content": f"Question number {i} about a product?"},
                                                    {"role": "assistant", "content": f"Answer {i}: open Settings, then Account."}]}) + b"\n")
        long = {"messages": [{"role": "user", "content": "Summarize the manual."},
                             {"role": "assistant", "content": words_text(int(mb * 1e6), 1)}]}
        handle.write(orjson.dumps(long) + b"\n")


def bench_data(folder: Path, mb: float) -> None:
    path = folder / "one-long-line.jsonl"
    _make("data", folder, mb)
    code, seconds, peak = measure([sys.executable, "-m", "harness", "data", "check", str(path), "-q", "--tokenizer", "approx"])
    print(f"data check, one {mb:g} MB line + 10 examples: exit {code}, {seconds:.1f} s, peak RSS {peak:.0f} MB")


def write_run(folder: Path, mb: float) -> None:
    reference = words_text(int(mb * 1e6), 2)
    (folder / "cases.jsonl").write_bytes(
        orjson.dumps({"id": "huge", "input": "Summarize the manual.", "reference": reference}) + b"\n"
        + b"".join(orjson.dumps({"id": f"q{i}", "input": f"Question {i}", "reference": f"answer {i}"}) + b"\n" for i in range(20))
    )
    (folder / "preds.jsonl").write_bytes(
        orjson.dumps({"id": "huge", "output": words_text(2000, 3)}) + b"\n"
        + b"".join(orjson.dumps({"id": f"q{i}", "output": f"the answer {i}"}) + b"\n" for i in range(20))
    )
    (folder / "suite.yaml").write_text("name: large\nmodels: {saved: 'predictions:preds.jsonl'}\nsources:\n  - path: cases.jsonl\n")


def bench_run(folder: Path, mb: float) -> None:
    _make("run", folder, mb)
    suite = folder / "suite.yaml"
    env = {**os.environ, "HARNESS_CACHE_DIR": str(folder / "cache")}
    code, seconds, peak = measure(
        [sys.executable, "-m", "harness", "run", str(suite), "-o", str(folder / "reports"), "-q"], env
    )
    print(f"harness run, every text metric, one {mb:g} MB reference + 20 cases: exit {code}, {seconds:.1f} s, "
          f"peak RSS {peak:.0f} MB")


_SCORE_ONE = """
import sys
from harness.metrics.engine import CaseScorer
from harness.metrics.plan import build_plan
from harness.suite.loader import load_suite
sys.path.insert(0, {bench!r})
from large_text import words_text
metric, chars = sys.argv[1], int(sys.argv[2])
suite = load_suite({suite!r})
scorer = CaseScorer(build_plan(suite.metrics, None, suite.cases, suite.directory))
output, reference = words_text(chars, 4, lines=True), words_text(chars, 5, lines=True)
score = scorer.score(output, [reference])
assert metric in score.metrics, score.skipped
"""


def bench_limits(folder: Path) -> None:
    from harness.metrics.limits import TEXT_LIMITS

    for metric, limit in TEXT_LIMITS.items():
        suite = folder / f"{metric}.yaml"
        suite.write_text(f"metrics: [{metric}]\ncases:\n  - {{input: q, reference: r}}\n")
        script = _SCORE_ONE.format(bench=str(Path(__file__).parent), suite=str(suite))
        baseline = measure([sys.executable, "-c", script.split("metric, chars")[0]])[2]
        code, seconds, peak = measure([sys.executable, "-c", script, metric, str(limit)])
        print(f"{metric:>11} at its limit ({limit:>10,} characters, output and reference): exit {code}, "
              f"{seconds:5.1f} s, peak RSS {peak:4.0f} MB ({peak - baseline:+.0f} MB over the bare process)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=float, default=50.0, help="size of the huge text (default 50)")
    parser.add_argument("--parts", default="data,run,limits", help="comma-separated: data, run, limits")
    parser.add_argument("--make", nargs=2, metavar=("KIND", "FOLDER"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.make:
        make(args.make[0], Path(args.make[1]), args.mb)
        return
    parts = set(args.parts.split(","))
    with tempfile.TemporaryDirectory(prefix="harness-large-") as tmp:
        folder = Path(tmp)
        if "data" in parts:
            bench_data(folder, args.mb)
        if "run" in parts:
            bench_run(folder, args.mb)
        if "limits" in parts:
            bench_limits(folder)


if __name__ == "__main__":
    main()
