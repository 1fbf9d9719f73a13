"""Batches in flight, in the cache database: what was submitted, so a killed run finds it again.

Three tables beside the response cache. `batch_jobs` has one row per batch: written with the
uploaded input file's id *before* `batches.create` is called, and given the API's batch id
as soon as it answers, so a kill at any moment leaves a row that leads back to the batch (a
row without a batch id is matched to the API's batches by its input file). `batch_requests`
holds the cache key of every request a batch carries (the key is also the request's
`custom_id`), so a run started again finds, for each request it still lacks, the batch that
is already answering it, and sends nothing twice. Each request's outcome is recorded once the
batch's results are read and its answers written to the cache: `ok` requests are then the
response cache's (its keeping rules apply); `error` ones (expired, cancelled, rejected) are
sent again by the next run.

`batch_runs` lists the run directories that submitted or re-attached to each batch, for
`harness batch list RUN` and `harness batch cancel RUN`.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

TERMINAL = ("completed", "failed", "expired", "cancelled")
SUBMITTING = "submitting"  # input file uploaded, batches.create not answered yet

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS batch_jobs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        batch_id TEXT UNIQUE,
        input_file_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        model TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        base_url TEXT NOT NULL,
        api_key_env TEXT NOT NULL,
        status TEXT NOT NULL,
        requests INTEGER NOT NULL,
        created REAL NOT NULL,
        updated REAL NOT NULL,
        collected REAL,
        error TEXT)""",
    """CREATE TABLE IF NOT EXISTS batch_requests (
        job INTEGER NOT NULL,
        key TEXT NOT NULL,
        label TEXT NOT NULL,
        outcome TEXT,
        PRIMARY KEY (job, key))""",
    "CREATE INDEX IF NOT EXISTS batch_requests_key ON batch_requests (key)",
    """CREATE TABLE IF NOT EXISTS batch_runs (
        job INTEGER NOT NULL,
        run_dir TEXT NOT NULL,
        PRIMARY KEY (job, run_dir))""",
)
_COLUMNS = ("id, batch_id, input_file_id, kind, model, fingerprint, base_url, api_key_env, status, requests, "
            "created, updated, collected, error")


@dataclass(frozen=True)
class Endpoint:
    """Where a batch lives and how to reach it again (never the key itself, only its variable)."""

    model: str  # the run's name for the model (or the judge)
    fingerprint: str
    base_url: str  # without credentials or query string
    api_key_env: str


@dataclass
class BatchJob:
    """One row of `batch_jobs`."""

    id: int
    batch_id: str | None
    input_file_id: str
    kind: str  # generate | judge
    model: str
    fingerprint: str
    base_url: str
    api_key_env: str
    status: str
    requests: int
    created: float
    updated: float
    collected: float | None
    error: str | None

    @property
    def in_flight(self) -> bool:
        """Submitted, and its results not read yet (running at the API, or finished while nobody watched)."""
        return self.collected is None

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL


class BatchStore:
    """The batch tables of one cache database. Open one per thread; every write is its own commit."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        for statement in _SCHEMA:
            self._db.execute(statement)

    def close(self) -> None:
        self._db.close()

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)

    # -- writing --------------------------------------------------------------------------
    def begin(self, kind: str, endpoint: Endpoint, input_file_id: str, requests: Sequence[tuple[str, str]],
              run_dir: str) -> int:
        """Record a batch about to be created from an uploaded file, with its (key, label) requests."""
        now = time.time()
        with self._transaction():
            cursor = self._db.execute(
                "INSERT INTO batch_jobs (batch_id, input_file_id, kind, model, fingerprint, base_url, api_key_env, "
                "status, requests, created, updated) VALUES (NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (input_file_id, kind, endpoint.model, endpoint.fingerprint, endpoint.base_url, endpoint.api_key_env,
                 SUBMITTING, len(requests), now, now),
            )
            job = int(cursor.lastrowid or 0)
            self._db.executemany(
                "INSERT OR IGNORE INTO batch_requests (job, key, label) VALUES (?, ?, ?)",
                ((job, key, label) for key, label in requests),
            )
            self._db.execute("INSERT OR IGNORE INTO batch_runs VALUES (?, ?)", (job, run_dir))
        return job

    def submitted(self, job: int, batch_id: str, status: str) -> None:
        self._db.execute("UPDATE batch_jobs SET batch_id = ?, status = ?, updated = ? WHERE id = ?",
                         (batch_id, status, time.time(), job))

    def status(self, job: int, status: str, error: str | None = None) -> None:
        self._db.execute("UPDATE batch_jobs SET status = ?, error = COALESCE(?, error), updated = ? WHERE id = ?",
                         (status, error, time.time(), job))

    def attach(self, job: int, run_dir: str) -> None:
        self._db.execute("INSERT OR IGNORE INTO batch_runs VALUES (?, ?)", (job, run_dir))

    def collected(self, job: int, outcomes: Iterable[tuple[str, str]]) -> None:
        """The batch's results were read: each (key, ok|error), and the batch is done."""
        now = time.time()
        with self._transaction():
            self._db.executemany("UPDATE batch_requests SET outcome = ? WHERE job = ? AND key = ?",
                                 ((outcome, job, key) for key, outcome in outcomes))
            self._db.execute("UPDATE batch_jobs SET collected = ?, updated = ? WHERE id = ?", (now, now, job))

    # -- reading --------------------------------------------------------------------------
    def _jobs(self, where: str, params: Sequence[object]) -> list[BatchJob]:
        rows = self._db.execute(f"SELECT {_COLUMNS} FROM batch_jobs WHERE {where} ORDER BY id", params)
        return [BatchJob(*row) for row in rows]

    def job(self, job: int) -> BatchJob | None:
        found = self._jobs("id = ?", (job,))
        return found[0] if found else None

    def reusable(self, keys: Sequence[str], fingerprint: str) -> dict[str, int]:
        """For each key, a batch of this model that carries it and whose results were not read yet
        (read results went to the response cache, whose keeping rules then apply)."""
        found: dict[str, int] = {}
        chunk = 900  # below SQLite's limit on bound parameters
        for start in range(0, len(keys), chunk):
            part = list(keys[start : start + chunk])
            marks = ",".join("?" * len(part))
            rows = self._db.execute(
                f"SELECT r.key, j.id FROM batch_requests r JOIN batch_jobs j ON j.id = r.job "
                f"WHERE r.key IN ({marks}) AND j.fingerprint = ? AND j.collected IS NULL AND j.status != 'failed' "
                f"ORDER BY j.id DESC",
                [*part, fingerprint],
            )
            for key, job in rows:
                found.setdefault(key, int(job))  # the newest
        return found

    def requests(self, job: int) -> list[tuple[str, str, str | None]]:
        """(key, label, outcome) of every request a batch carries."""
        rows = self._db.execute("SELECT key, label, outcome FROM batch_requests WHERE job = ? ORDER BY rowid", (job,))
        return [(key, label, outcome) for key, label, outcome in rows]

    def jobs(self, run_dir: str | None = None, in_flight_only: bool = False) -> list[BatchJob]:
        """Batches of one run directory (or all), oldest first."""
        where, params = "1 = 1", []
        if run_dir is not None:
            where = "id IN (SELECT job FROM batch_runs WHERE run_dir = ?)"
            params = [run_dir]
        jobs = self._jobs(where, params)
        return [job for job in jobs if job.in_flight] if in_flight_only else jobs

    def by_batch_id(self, batch_id: str) -> BatchJob | None:
        found = self._jobs("batch_id = ?", (batch_id,))
        return found[0] if found else None

    def runs(self, job: int) -> list[str]:
        return [row[0] for row in self._db.execute("SELECT run_dir FROM batch_runs WHERE job = ? ORDER BY rowid", (job,))]


class _Transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN")

    def __exit__(self, kind: type[BaseException] | None, *rest: object) -> None:
        self._db.execute("ROLLBACK" if kind is not None else "COMMIT")
