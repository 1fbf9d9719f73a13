"""Answers the cache could not take (disk full, read-only, SQLite full), kept in the run directory.

When the response cache stops accepting writes mid-run, the answers received after that point
are paid for but would be asked again by the next run. They go to `cache-backlog.jsonl` in the
run directory (the store that still works) instead, and the next run with the same output folder
moves them into the cache before it reads it, then deletes the file.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from pathlib import Path

import orjson

from harness.models.base import GenerationResponse
from harness.models.cache import ResponseCache, decode_response, encode_response

BACKLOG_FILE = "cache-backlog.jsonl"


def append_backlog(path: Path, table: str, items: Iterable[tuple[str, str, GenerationResponse]]) -> int:
    """Append (key, fingerprint, response) triples for `table`; returns how many were written."""
    lines = [
        orjson.dumps({"table": table, "key": key, "fingerprint": fingerprint,
                      "payload": base64.b64encode(encode_response(response)).decode()})
        for key, fingerprint, response in items
        if response.ok and not response.cached
    ]
    if lines:
        with path.open("ab") as handle:
            handle.write(b"\n".join(lines) + b"\n")
    return len(lines)


def import_backlogs(output_dir: Path, cache_path: Path) -> int:
    """Move every run's backlog under `output_dir` into the cache; returns the answers moved.

    Raises OSError / sqlite3.Error when the cache still cannot take them (the files stay)."""
    moved = 0
    for backlog in sorted(output_dir.glob(f"*/{BACKLOG_FILE}")):
        by_table: dict[str, list[tuple[str, str, GenerationResponse]]] = {}
        with backlog.open("rb") as handle:
            for raw in handle:
                try:
                    row = orjson.loads(raw)
                except orjson.JSONDecodeError:
                    continue  # a torn last line: the disk filled while it was written
                response = decode_response(base64.b64decode(row["payload"]), cached=False)
                by_table.setdefault(row["table"], []).append((row["key"], row["fingerprint"], response))
        for table, items in by_table.items():
            cache = ResponseCache(cache_path, table)
            try:
                cache.put_many(items)
            finally:
                cache.close()
            moved += len(items)
        backlog.unlink()
    return moved
