"""A large `--batch` run (generation and judge) against the fake server's Batch API on fast-forwarded time.

    python bench/batch_run.py [--cases 20000] [--rounds 1]

Two models answer every case and a judge reads both orders of every item, all through the
Batch API of `harness.testing` running in a separate process (so the server's work does not
share this process's GIL or memory). Batch statuses advance one step per status check, so the
figures are the harness's own cost: building and splitting the request files, uploading,
polling, downloading and reading the results, caching, writing the run directory. Prints the
wall time, the phase timings, the peak RSS of this process and the number of batches.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def respond(body: dict[str, Any]) -> str:
    """The candidate is right on even cases, the baseline on the others; the judge picks the GOOD answer."""
    model = body["model"]
    if model in ("cand", "base"):
        number = int(re.findall(r"\d+", body["messages"][-1]["content"])[-1])
        good = (number % 2 == 0) == (model == "cand")
        return f"{'GOOD' if good else 'poor'} answer to question {number}"
    prompt = next(m["content"] for m in body["messages"] if m["role"] == "user")
    a, b = re.findall(r"<<<\n(.*?)\n>>>", prompt, re.DOTALL)[-2:]
    return "Answer A is better. [[A]]" if "GOOD" in a and "GOOD" not in b else "Answer B is better. [[B]]"


def serve() -> None:
    from harness.testing import FakeOpenAIServer

    server = FakeOpenAIServer(responder=respond, record=False)
    server.start()
    print(server.base_url, flush=True)
    sys.stdin.read()  # until the benchmark closes our stdin
    server.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve()
        return

    from rich.console import Console

    from harness.api import RunOptions, run_suite

    server = subprocess.Popen([sys.executable, __file__, "--serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True)
    assert server.stdout is not None
    os.environ["OPENAI_BASE_URL"] = server.stdout.readline().strip()
    os.environ["HARNESS_BATCH_POLL"] = "0.02,0.1"
    try:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            suite = folder / "suite.yaml"
            suite.write_text("name: batch-bench\ncases:\n" + "".join(
                f"  - {{id: c{i}, input: 'Answer question number {i} in one sentence.'}}\n" for i in range(args.cases)))
            print(f"{args.cases:,} cases x 2 models, pairwise judge (both orders), --batch, {os.cpu_count()} cores, "
                  f"load average {os.getloadavg()[0]:.1f} at start")
            for round_ in range(args.rounds):
                os.environ["HARNESS_CACHE_DIR"] = tempfile.mkdtemp(dir=folder)
                options = RunOptions(models=["openai:cand"], baseline="openai:base", judge="openai:judge", batch=True,
                                     output_dir=folder / "reports", progress=False, history=False)
                started = time.perf_counter()
                outcome = run_suite(suite, options, Console(file=io.StringIO()))
                wall = time.perf_counter() - started
                pairwise = outcome.summary["pairwise"]["openai:cand"]
                assert outcome.status == "complete" and pairwise["invalid"] == 0, pairwise
                assert pairwise["wins"] + pairwise["losses"] == args.cases
                batches = json.loads((outcome.run_dir / "run.json").read_text())["batches"]
                sizes = [b["requests"] for b in batches["list"]]
                phases = ", ".join(f"{k[:-2]} {v:.1f}s" for k, v in outcome.timings.items())
                peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
                print(f"round {round_ + 1}: {wall:.1f} s wall ({phases}); peak RSS {peak:,.0f} MB; "
                      f"{batches['created']} batches ({', '.join(f'{s:,}' for s in sizes)} requests); "
                      f"{args.cases * 2:,} answers + {args.cases * 2:,} judge requests")
    finally:
        assert server.stdin is not None
        server.stdin.close()
        server.wait(30)


if __name__ == "__main__":
    main()
