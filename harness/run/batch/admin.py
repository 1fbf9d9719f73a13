"""`harness batch`: list a run's batches with their state at the API, and cancel them.

Batches are found in the cache database's batch tables (harness/run/batch_store.py); the API is
reached at the endpoint each batch was sent to, with the key from the environment variable the
run used (the key itself is never stored).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import openai

from harness.errors import RunError, UsageError
from harness.run.batch.client import api_message
from harness.run.batch_store import TERMINAL, BatchJob, BatchStore


@dataclass
class BatchView:
    """A recorded batch and, when asked, what the API says of it now."""

    job: BatchJob
    runs: list[str]
    status: str
    completed: int | None = None
    failed: int | None = None
    problem: str | None = None  # why the API could not be asked


def _client(job: BatchJob, clients: dict[tuple[str, str], openai.OpenAI]) -> openai.OpenAI:
    key = (job.base_url, job.api_key_env)
    if key not in clients:
        api_key = os.environ.get(job.api_key_env)
        if not api_key:
            if urlsplit(job.base_url).hostname == "api.openai.com":
                raise UsageError(f"batch {job.batch_id} is at api.openai.com: set {job.api_key_env} to reach it")
            api_key = "not-needed"
        clients[key] = openai.OpenAI(api_key=api_key, base_url=job.base_url, max_retries=2, timeout=60)
    return clients[key]


def _store(store_path: Path) -> BatchStore:
    if not store_path.exists():
        raise UsageError(f"no cache database at {store_path}: no batch was ever sent from it (see --cache-dir)")
    return BatchStore(store_path)


def _run_key(run_dir: Path | None) -> str | None:
    if run_dir is None:
        return None
    if not (run_dir / "run.json").is_file():
        raise UsageError(f"'{run_dir}' is not a run directory (no run.json)")
    return str(run_dir.resolve())


def list_batches(store_path: Path, run_dir: Path | None = None, everything: bool = False, refresh: bool = True) -> list[BatchView]:
    """The run's batches (or all batches still in flight, or with `everything` all of them), refreshed from the API."""
    store = _store(store_path)
    clients: dict[tuple[str, str], openai.OpenAI] = {}
    try:
        jobs = store.jobs(_run_key(run_dir), in_flight_only=run_dir is None and not everything)
        views = []
        for job in jobs:
            view = BatchView(job, store.runs(job.id), job.status)
            if refresh and job.batch_id is not None and (job.status not in TERMINAL or job.collected is None):
                try:
                    batch = _client(job, clients).batches.retrieve(job.batch_id)
                except openai.APIError as exc:
                    view.problem = api_message(exc)
                else:
                    view.status = batch.status
                    if batch.request_counts is not None:
                        view.completed, view.failed = batch.request_counts.completed, batch.request_counts.failed
                    if batch.status != job.status:
                        store.status(job.id, batch.status)
            views.append(view)
        return views
    finally:
        store.close()
        for client in clients.values():
            client.close()


def cancel_batches(store_path: Path, run_dir: Path | None = None, batch_ids: tuple[str, ...] = ()) -> list[tuple[BatchJob, str]]:
    """Cancel the run's batches still running (or the given ones); (batch, what happened) for each."""
    if run_dir is None and not batch_ids:
        raise UsageError("say which batches to cancel: a run directory, or --batch ID")
    store = _store(store_path)
    clients: dict[tuple[str, str], openai.OpenAI] = {}
    try:
        if batch_ids:
            jobs = []
            for batch_id in batch_ids:
                job = store.by_batch_id(batch_id)
                if job is None:
                    raise UsageError(f"batch {batch_id} is not in {store_path} (harness batch list --all shows those that are)")
                jobs.append(job)
        else:
            jobs = store.jobs(_run_key(run_dir), in_flight_only=True)
        done = []
        for job in jobs:
            client = _client(job, clients)
            found = job.batch_id or _find(client, job)
            if found is None:
                done.append((job, "never created at the API: nothing to cancel"))
                continue
            batch_id = found
            try:
                batch = client.batches.cancel(batch_id)
            except openai.APIStatusError as exc:
                if exc.status_code in (400, 409):  # finished already
                    current = client.batches.retrieve(batch_id)
                    store.status(job.id, current.status)
                    done.append((job, f"already {current.status}"))
                    continue
                raise RunError(f"cannot cancel batch {batch_id} at {job.base_url}: {api_message(exc)}") from None
            except openai.APIConnectionError as exc:
                raise RunError(f"cannot reach {job.base_url} to cancel batch {batch_id}: {api_message(exc)}") from None
            if job.batch_id is None:
                store.submitted(job.id, batch_id, batch.status)
            store.status(job.id, batch.status)
            done.append((job, batch.status))
        return done
    finally:
        store.close()
        for client in clients.values():
            client.close()


def _find(client: openai.OpenAI, job: BatchJob) -> str | None:
    for batch in client.batches.list(limit=100):
        if batch.input_file_id == job.input_file_id:
            return batch.id
        if batch.created_at < job.created - 3600:
            break
    return None
