"""Runner throughput vs a bare AsyncOpenAI loop on the same local endpoint.

    python bench/runner_throughput.py [--cases 2000] [--concurrency 64] [--latency 0 0.1] [--rounds 3]

The endpoint is `harness.testing.fake_server` in a separate process (so it does not share
the client's GIL). For each latency it times, best of --rounds:
  - bare:    AsyncOpenAI with the SDK's aiohttp transport, a semaphore and gather
  - harness: `run_suite` end to end (suite load, requests, checks, results files), no cache
  - harness+cache: the same with the SQLite response cache written (cold)
and prints requests/s and the ratio to the bare loop (target: <= 1.2), both for the whole
`run_suite` and for its request phase alone (the runner proper; suite loading and reports are
fixed costs that the bare loop does not pay).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import openai

from harness.api import RunOptions, run_suite


def start_server(latency: float) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "harness.testing", "--latency", str(latency), "--answer", "The answer is 42."],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    url = process.stdout.readline().strip()
    return process, url


async def bare_loop(url: str, prompts: list[str], concurrency: int) -> None:
    semaphore = asyncio.Semaphore(concurrency)
    async with openai.AsyncOpenAI(
        base_url=url, api_key="x", max_retries=0, http_client=openai.DefaultAioHttpClient()
    ) as client:

        async def one(prompt: str) -> str | None:
            async with semaphore:
                response = await client.chat.completions.create(
                    model="m", messages=[{"role": "user", "content": prompt}], temperature=0
                )
                return response.choices[0].message.content

        await asyncio.gather(*(one(p) for p in prompts))


def write_suite(folder: Path, cases: int) -> Path:
    suite = folder / "suite.yaml"
    lines = ["name: bench", "generation: {temperature: 0}", "cases:"]
    lines += [f"  - {{id: c{i}, input: 'question number {i}', required_patterns: ['42']}}" for i in range(cases)]
    suite.write_text("\n".join(lines) + "\n")
    return suite


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--latency", type=float, nargs="+", default=[0.0, 0.1])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        suite = write_suite(folder, args.cases)
        prompts = [f"question number {i}" for i in range(args.cases)]
        print(f"{args.cases} cases, concurrency {args.concurrency}, best of {args.rounds} interleaved rounds, "
              f"{os.cpu_count()} cores")
        print("end to end = run_suite() whole (suite load, requests, checks, results, reports, history);")
        print("requests = its request phase alone (run.json timings.generate_s)")
        print(f"{'latency':>8} {'runner':>14} {'seconds':>8} {'req/s':>8} {'vs bare':>8}")
        for latency in args.latency:
            server, url = start_server(latency)
            try:
                os.environ["OPENAI_BASE_URL"] = url

                def harness_run(cache: bool) -> tuple[float, float]:
                    os.environ["HARNESS_CACHE_DIR"] = tempfile.mkdtemp(dir=folder)
                    options = RunOptions(
                        models=["openai:m"], output_dir=folder / "reports", concurrency=args.concurrency,
                        use_cache=cache, progress=False, max_retries=0,
                    )
                    started = time.perf_counter()
                    outcome = run_suite(suite, options)
                    total = time.perf_counter() - started
                    assert outcome.summary["models"]["openai:m"]["passed"] == args.cases
                    return total, outcome.timings["generate_s"]

                def bare_run(url: str = url) -> float:
                    started = time.perf_counter()
                    asyncio.run(bare_loop(url, prompts, args.concurrency))
                    return time.perf_counter() - started

                best: dict[str, float] = {}

                def keep(name: str, seconds: float, best: dict[str, float] = best) -> None:
                    best[name] = min(seconds, best.get(name, seconds))

                # Interleaved so that a change in machine load hits every runner alike.
                for _ in range(args.rounds):
                    keep("bare SDK", bare_run())
                    total, requests = harness_run(False)
                    keep("harness e2e", total)
                    keep("harness requests", requests)
                    total, requests = harness_run(True)
                    keep("+cache e2e", total)
                    keep("+cache requests", requests)
                bare = best["bare SDK"]
                for name, seconds in best.items():
                    print(f"{latency:>8.3f} {name:>16} {seconds:>8.2f} {args.cases / seconds:>8.0f} {seconds / bare:>8.2f}")
            finally:
                server.terminate()
                server.wait()


if __name__ == "__main__":
    main()
