"""The batches of one run: where they are recorded, how they are polled and split, what still runs.

One session serves the generate stage and the judge, across their event loops; brokers (which
hold the event loop's client) are made per loop. When a run stops while batches still run at
the endpoint (Ctrl-C, an abort), the session says how to resume and how to cancel them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console

from harness.run.batch import files
from harness.run.batch.client import Polling
from harness.run.batch_store import BatchJob, BatchStore
from harness.run.runner import ModelCounters


class BatchSession:
    def __init__(self, store_path: Path, run_dir: Path, console: Console, progress: bool,
                 run_info: dict[str, Any] | None = None, polling: Polling | None = None) -> None:
        self.store_path = store_path
        self.run_dir = str(run_dir.resolve())
        self.run_id = run_dir.name
        self.console = console
        self.progress = progress
        self.polling = polling or Polling.from_env()
        self.limits = files.LIMITS
        self.run_info = run_info  # run.json, which lists the run's batches
        self.counters: dict[str, ModelCounters] = {}  # the progress display's counters, when one is shown
        self.followed: set[int] = set()
        self.created = 0
        self.reattached = 0
        self._store: BatchStore | None = None
        self._told = False

    @property
    def store(self) -> BatchStore:
        if self._store is None:
            self._store = BatchStore(self.store_path)
        return self._store

    def close(self) -> None:
        """Write the run's batches into run.json's dict and release the database (reopened when needed)."""
        if self._store is not None:
            if self.run_info is not None:
                self.run_info["batches"] = self.describe()
            self._store.close()
            self._store = None

    def say(self, line: str) -> None:
        if self.progress:
            self.console.print(line, markup=False, highlight=False, soft_wrap=True)

    def in_flight(self) -> list[BatchJob]:
        jobs = [self.store.job(job) for job in sorted(self.followed)]
        return [job for job in jobs if job is not None and job.collected is None]

    def describe(self) -> dict[str, Any]:
        jobs = [job for job in (self.store.job(j) for j in sorted(self.followed)) if job is not None]
        return {
            "created": self.created,
            "reattached": self.reattached,
            "list": [{"id": job.batch_id, "kind": job.kind, "model": job.model, "requests": job.requests,
                      "status": job.status, "collected": job.collected is not None} for job in jobs],
        }

    def tell_resume(self) -> None:
        """Once per run, when batches still run at the endpoint: how to resume and how to cancel."""
        if self._told:
            return
        running = self.in_flight()
        if not running:
            return
        self._told = True
        count = f"{len(running)} batch{'es' if len(running) > 1 else ''}"
        self.console.print(
            f"{count} still running at the endpoint ({', '.join(job.batch_id or '?' for job in running[:5])}"
            f"{', ...' if len(running) > 5 else ''}); nothing is lost.\n"
            "  resume: run the same command again; it re-attaches to them and sends nothing twice\n"
            f"  cancel: harness batch cancel {self.run_dir}",
            markup=False, highlight=False, soft_wrap=True,
        )
