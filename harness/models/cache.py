"""The response cache: SQLite, keyed by the adapter fingerprint and the full normalized request.

A key covers everything that can change an answer (model fingerprint, messages, sampling
parameters, seed, repeat index, logprob request), so two models or two parameter sets never
share an entry. Only successful responses are stored. WAL mode lets a second process read
while a run writes, and makes each commit survive `kill -9` of the writer.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import orjson

from harness.models.base import GenerationRequest, GenerationResponse, Usage

SCHEMA_VERSION = 1


def default_cache_dir() -> Path:
    override = os.environ.get("HARNESS_CACHE_DIR")
    if override:
        return Path(override).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "harness"


def request_key(fingerprint: str, request: GenerationRequest) -> str:
    payload = {
        "v": SCHEMA_VERSION,
        "fingerprint": fingerprint,
        "messages": request.messages,
        "params": request.params.request_dict(),
        "repeat": request.repeat,
        "logprobs": request.logprobs,
    }
    return hashlib.sha256(orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)).hexdigest()


def encode_response(response: GenerationResponse) -> bytes:
    return orjson.dumps(
        {
            "output": response.output,
            "prompt_tokens": response.usage.prompt_tokens,
            "completion_tokens": response.usage.completion_tokens,
            "latency_s": response.latency_s,
            "finish_reason": response.finish_reason,
            "logprobs": response.logprobs,
            "batch": response.batch_id,
        }
    )


def decode_response(blob: bytes, cached: bool = True) -> GenerationResponse:
    data: dict[str, Any] = orjson.loads(blob)
    return GenerationResponse(
        data["output"],
        usage=Usage(data.get("prompt_tokens"), data.get("completion_tokens")),
        latency_s=data.get("latency_s"),
        finish_reason=data.get("finish_reason"),
        cached=cached,
        logprobs=data.get("logprobs"),
        batch_id=data.get("batch"),
    )


class ResponseCache:
    """A table of responses in one SQLite file. Open one instance per thread that uses it."""

    def __init__(self, path: Path, table: str = "responses") -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.table = table
        self._db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            f"CREATE TABLE IF NOT EXISTS {table} (key TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, "
            "created REAL NOT NULL, payload BLOB NOT NULL)"
        )

    def get_many(self, keys: Sequence[str]) -> dict[str, GenerationResponse]:
        found: dict[str, GenerationResponse] = {}
        chunk = 900  # below SQLite's default limit on bound parameters
        for start in range(0, len(keys), chunk):
            part = keys[start : start + chunk]
            marks = ",".join("?" * len(part))
            rows = self._db.execute(f"SELECT key, payload FROM {self.table} WHERE key IN ({marks})", part)
            for key, payload in rows:
                found[key] = decode_response(payload)
        return found

    def created_many(self, keys: Sequence[str]) -> dict[str, float]:
        """When each stored key was written (epoch seconds): what reuse of mutable models is judged by."""
        found: dict[str, float] = {}
        chunk = 900
        for start in range(0, len(keys), chunk):
            part = keys[start : start + chunk]
            marks = ",".join("?" * len(part))
            for key, created in self._db.execute(f"SELECT key, created FROM {self.table} WHERE key IN ({marks})", part):
                found[key] = float(created)
        return found

    def put_many(self, items: Iterable[tuple[str, str, GenerationResponse]]) -> None:
        """Store (key, fingerprint, response) triples in one transaction; errors are skipped."""
        now = time.time()
        rows = [(key, fp, now, encode_response(resp)) for key, fp, resp in items if resp.ok and not resp.cached]
        if not rows:
            return
        self._db.execute("BEGIN")
        try:
            self._db.executemany(f"INSERT OR REPLACE INTO {self.table} VALUES (?, ?, ?, ?)", rows)
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def check_writable(self) -> None:
        """Raise sqlite3.Error now if the cache could not take a write (read-only file or folder)."""
        self._db.execute("BEGIN IMMEDIATE")
        self._db.execute("ROLLBACK")

    def count(self) -> int:
        return int(self._db.execute(f"SELECT COUNT(*) FROM {self.table}").fetchone()[0])

    def close(self) -> None:
        self._db.close()
