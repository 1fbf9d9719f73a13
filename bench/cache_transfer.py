"""Time of `harness cache` info / export / import / prune on a large cache, and how long a run
writing to the cache at the same time has to wait.

    .venv/bin/python bench/cache_transfer.py                      # 200k answers + 100k judgments, ~1 KB each
    .venv/bin/python bench/cache_transfer.py --answers 20000 --judgments 10000

A writer process stands in for a run: it commits 20 answers every 5 ms (what the result sink
does under load) and records the longest time one commit took while export and import run.
Everything is written under a temporary folder, deleted after.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness.models.base import GenerationResponse
from harness.models.cache import ResponseCache
from harness.run.cache_admin import cache_info, export_cache, file_bytes, import_cache, prune

WRITER = """
import sys, time
from pathlib import Path
from harness.models.base import GenerationResponse
from harness.models.cache import ResponseCache
cache = ResponseCache(Path(sys.argv[1]))
stop = Path(sys.argv[2])
worst, commits, batch = 0.0, 0, 0
while not stop.exists():
    start = time.perf_counter()
    cache.put_many((f"live-{batch}-{i}", "openai:live@x", GenerationResponse("w" * 800)) for i in range(20))
    worst = max(worst, time.perf_counter() - start)
    commits += 1
    batch += 1
    time.sleep(0.005)
cache.close()
print(f"{commits} {worst}", flush=True)
"""


def fill(path: Path, table: str, count: int, fingerprints: int, now: float) -> None:
    cache = ResponseCache(path, table)
    chunk = 10_000
    for start in range(0, count, chunk):
        rows = range(start, min(count, start + chunk))
        cache.put_many((f"{table}-{i}", f"openai:model-{i % fingerprints}@http://x/v1", GenerationResponse("a" * 900))
                       for i in rows)
    cache.close()
    with sqlite3.connect(path) as db:  # ages spread over 60 days
        db.execute(f"UPDATE {table} SET created = ? - (rowid % 60) * 86400.0", (now,))


def timed(label: str, action: object) -> object:
    start = time.perf_counter()
    result = action()  # type: ignore[operator]
    print(f"{label:<44} {time.perf_counter() - start:7.2f} s")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--answers", type=int, default=200_000)
    parser.add_argument("--judgments", type=int, default=100_000)
    args = parser.parse_args()
    now = time.time()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        path = root / "cache" / "cache.sqlite"
        fill(path, "responses", args.answers, 40, now)
        fill(path, "judgments", args.judgments, 2, now)
        print(f"cache: {args.answers:,} answers, {args.judgments:,} judgments, {file_bytes(path) / 1e6:.0f} MB")
        timed("info", lambda: cache_info(path))

        stop = root / "stop"
        writer = subprocess.Popen([sys.executable, "-c", WRITER, str(path), str(stop)], stdout=subprocess.PIPE, text=True)
        time.sleep(0.5)
        export = root / "export.sqlite"
        timed("export (a run writing meanwhile)", lambda: export_cache(path, export))
        print(f"{'  export file':<44} {export.stat().st_size / 1e6:7.0f} MB")
        timed("import into an empty cache", lambda: import_cache(root / "empty" / "cache.sqlite", export))
        timed("import into the same cache (all kept)", lambda: import_cache(path, export))
        stop.touch()
        out, _ = writer.communicate(timeout=60)
        commits, worst = out.split()
        print(f"{'  concurrent writer: commits, slowest commit':<44} {int(commits):7d}   {float(worst) * 1000:.0f} ms")
        result = timed("prune --older-than 30d", lambda: prune(path, older_than=30 * 86400.0, now=now))
        print(f"{'  removed':<44} {sum(result.removed.values()):7,d}")  # type: ignore[attr-defined]
        timed("prune --compact (nothing matches)", lambda: prune(path, older_than=1e9, compact=True))
        print(f"{'  file after compacting':<44} {file_bytes(path) / 1e6:7.0f} MB")
        os.sync()


if __name__ == "__main__":
    main()
