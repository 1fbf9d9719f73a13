"""Staged vs pipelined judging: wall time of a judged run when the judge starts only after generation, and
when each item is judged as soon as both its answers exist.

    python bench/pipelined_judging.py [--cases 1000] [--latency 0.5] [--concurrency 32] [--judge-concurrency N] [--rounds 2]

Two models answer every case and a judge reads both orders of every item, directly, against
`harness.testing`'s server in a separate process with a fixed latency per request. Rounds are
interleaved (staged, pipelined, staged, ...) so a change in machine load hits both alike; the
best of each is printed with the share of the staged judge phase that pipelining hid. Only the
part of judging that fits beside generation can be hidden: with the judge reading both orders
of every item at the models' concurrency, judging takes about twice as long as generating, so
`--judge-concurrency` (the suite's `judge: {concurrency: N}`) shows the balanced case too.
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent


def serve(latency: float) -> None:
    sys.path.insert(0, str(BENCH))
    from batch_run import respond

    from harness.testing import FakeOpenAIServer

    server = FakeOpenAIServer(responder=respond, latency=latency, record=False)
    server.start()
    print(server.base_url, flush=True)
    sys.stdin.read()
    server.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.5)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--judge-concurrency", type=int, default=None, help="judge requests in flight (default: --concurrency)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--serve", type=float, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve is not None:
        serve(args.serve)
        return

    from rich.console import Console

    from harness.api import RunOptions, run_suite

    server = subprocess.Popen([sys.executable, __file__, "--serve", str(args.latency)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None
    os.environ["OPENAI_BASE_URL"] = server.stdout.readline().strip()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            suite = folder / "suite.yaml"
            judge_concurrency = args.judge_concurrency or args.concurrency
            suite.write_text(f"name: pipeline-bench\njudge: {{concurrency: {judge_concurrency}}}\ncases:\n" + "".join(
                f"  - {{id: c{i}, input: 'Answer question number {i} in one sentence.'}}\n" for i in range(args.cases)))
            print(f"{args.cases:,} cases x 2 models + judge (both orders: {2 * args.cases:,} judge requests), "
                  f"latency {args.latency * 1000:.0f} ms, concurrency {args.concurrency} per model and {judge_concurrency} "
                  "for the judge, "
                  f"no cache, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start")
            best: dict[str, tuple[float, dict[str, float]]] = {}
            for round_ in range(args.rounds):
                for pipeline in (False, True):
                    name = "pipelined" if pipeline else "staged"
                    options = RunOptions(models=["openai:cand"], baseline="openai:base", judge="openai:judge",
                                         concurrency=args.concurrency, use_cache=False, pipeline=pipeline,
                                         output_dir=folder / "reports", progress=False, history=False, max_retries=0)
                    started = time.perf_counter()
                    outcome = run_suite(suite, options, Console(file=io.StringIO()))
                    wall = time.perf_counter() - started
                    assert outcome.summary["pairwise"]["openai:cand"]["invalid"] == 0
                    timings = outcome.timings
                    print(f"  round {round_ + 1} {name:>9}: {wall:6.1f} s  (generate {timings['generate_s']:.1f} s, "
                          f"judge {timings['judge_s']:.1f} s)  load {os.getloadavg()[0]:.1f}")
                    if name not in best or wall < best[name][0]:
                        best[name] = (wall, timings)
            staged, staged_timings = best["staged"]
            pipelined, _ = best["pipelined"]
            judge_phase = staged_timings["judge_s"]
            hidden = (staged - pipelined) / judge_phase if judge_phase else 0.0
            print(f"best of {args.rounds}: staged {staged:.1f} s (of which judging {judge_phase:.1f} s), "
                  f"pipelined {pipelined:.1f} s: {hidden:.0%} of the judging phase hidden behind generation")
    finally:
        assert server.stdin is not None
        server.stdin.close()
        server.wait(30)


if __name__ == "__main__":
    main()
