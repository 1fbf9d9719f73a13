"""Batches of one model on one endpoint: submit, re-attach, poll, collect.

`submit` first looks in the batch store for batches that already carry the requests (a run
killed earlier, or a request another part of this run asked for) and follows those; only the
rest are written to input files within the API's limits, uploaded and created. A batch's row
is written before `batches.create` is called and completed with the batch id as soon as it
answers, so no batch is ever created that a later run could not find. Each followed batch is
polled with backoff until it ends; its output and error files are then read and every request
it carries is delivered (answers, or errors with the batch's reason), and the store records
which requests were answered.

A batch that failed validation, or an endpoint that stops answering status checks, is a fatal
problem: its requests are delivered as errors, `fatal` is set, and the caller stops the run.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import openai
from openai.types import Batch

from harness.errors import RunError
from harness.models.base import ErrorInfo, GenerationResponse
from harness.run.batch.client import BatchClient, BatchRejected, api_message, error_lines
from harness.run.batch.files import RESEND, BatchRequest, read_results, split, unanswered
from harness.run.batch_store import TERMINAL, BatchJob, Endpoint
from harness.run.runner import ModelCounters

if TYPE_CHECKING:
    from harness.run.batch.session import BatchSession

Deliver = Callable[[str, GenerationResponse], None]
POLL_FAILURES = 6  # consecutive failed status checks (each after the SDK's own retries) before giving up
_REASONS = {
    "expired": f"the 24 h completion window ended before this request ran; {RESEND}",
    "cancelled": f"the batch was cancelled before this request ran; {RESEND}",
    "completed": f"the batch's results have no line for this request; {RESEND}",
}
Keep = Callable[[list[tuple[str, GenerationResponse]]], None]


class Broker:
    """The batches one model (or judge) uses in this run, on the running event loop."""

    def __init__(self, session: BatchSession, kind: str, endpoint: Endpoint, client: BatchClient, deliver: Deliver,
                 keep: Keep | None = None) -> None:
        """`deliver` hands one result to the run; `keep` makes a batch's answers durable (writes them to
        the cache) before the batch is marked collected, so a kill in between loses nothing."""
        self.session = session
        self.keep = keep
        self.kind = kind
        self.endpoint = endpoint
        self.client = client
        self.deliver = deliver
        self.fatal: RunError | None = None
        self.changed = asyncio.Event()  # set whenever a batch was collected or a fatal problem found
        self._wanted: set[str] = set()  # keys this run asked for and has not received yet
        self._following: dict[str, int] = {}  # key -> the followed batch carrying it
        self._results: dict[str, GenerationResponse] = {}  # every result read in this run, by key
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def busy(self) -> bool:
        return any(not task.done() for task in self._tasks)

    # -- submitting -----------------------------------------------------------------------
    async def submit(self, requests: Sequence[BatchRequest]) -> None:
        """Ask for these requests: re-attach to batches that carry them, send the rest in new batches."""
        fresh: list[BatchRequest] = []
        for request in requests:
            key = request.key
            if key in self._wanted:
                continue  # asked already: one answer serves every item that asks it
            if key in self._results:
                self.deliver(key, self._results[key])
                continue
            self._wanted.add(key)
            if key not in self._following:
                fresh.append(request)
        if not fresh:
            return
        reusable = self.session.store.reusable([r.key for r in fresh], self.endpoint.fingerprint)
        for job in sorted(set(reusable.values())):
            self._follow(job)
        chunks, too_big = split([r for r in fresh if r.key not in reusable], self.session.limits)
        for request in too_big:
            self._wanted.discard(request.key)
            self.deliver(request.key, GenerationResponse(None, ErrorInfo(
                kind="batch_failed", message=f"the request is larger than a batch file may be "
                f"({self.session.limits.max_bytes:,} bytes); send it without --batch")))
        for number, chunk in enumerate(chunks, start=1):
            file_id = await self.client.upload(chunk.data, f"harness-{self.session.run_id}-{self.kind}-{number}.jsonl")
            job = self.session.store.begin(self.kind, self.endpoint, file_id, [(r.key, r.label) for r in chunk.requests],
                                           self.session.run_dir)
            for request in chunk.requests:
                self._following[request.key] = job
            try:
                batch = await self.client.create(file_id, self._metadata())
            except BatchRejected as exc:  # the API answered no: nothing was created, nothing to find later
                self.session.store.status(job, "failed", exc.message)
                self.session.store.collected(job, [(r.key, "error") for r in chunk.requests])
                raise
            self.session.store.submitted(job, batch.id, batch.status)
            self.session.created += 1
            self._start(job, batch)

    def _metadata(self) -> dict[str, str]:
        return {"harness_run": self.session.run_id[:500], "harness_model": self.endpoint.model[:500],
                "harness_kind": self.kind}

    def _follow(self, job_id: int) -> None:
        if job_id in self.session.followed:
            return
        for key, _label, _outcome in self.session.store.requests(job_id):
            self._following.setdefault(key, job_id)
        self.session.store.attach(job_id, self.session.run_dir)
        self.session.reattached += 1
        self._start(job_id, None)

    def _start(self, job_id: int, batch: Batch | None) -> None:
        self.session.followed.add(job_id)
        task = asyncio.ensure_future(self._run(job_id, batch))
        self._tasks.add(task)

    # -- following ------------------------------------------------------------------------
    async def _run(self, job_id: int, batch: Batch | None) -> None:
        job = self.session.store.job(job_id)
        assert job is not None
        try:
            if batch is None:
                batch = await self._batch_of(job)
            batch = await self._poll(job, batch)
            await self._collect(job, batch)
        except RunError as exc:
            self._give_up(job, exc)
        finally:
            self.changed.set()

    async def _batch_of(self, job: BatchJob) -> Batch:
        """The API's batch for a recorded row; a row left without a batch id is found by its input file."""
        if job.batch_id is not None:
            return await self._retrieve(job, job.batch_id)
        found = await self.client.find_by_input_file(job.input_file_id, since=job.created - 3600)
        if found is None:  # the earlier run stopped before batches.create reached the API
            try:
                found = await self.client.create(job.input_file_id, self._metadata())
            except BatchRejected as exc:
                self.session.store.status(job.id, "failed", exc.message)
                self.session.store.collected(job.id, [(key, "error") for key, _, _ in self.session.store.requests(job.id)])
                raise
            self.session.created += 1
        self.session.store.submitted(job.id, found.id, found.status)
        job.batch_id = found.id
        return found

    async def _retrieve(self, job: BatchJob, batch_id: str) -> Batch:
        failures = 0
        delay = self.session.polling.first
        while True:
            try:
                return await self.client.retrieve(batch_id)
            except openai.APIError as exc:
                failures += 1
                if isinstance(exc, openai.NotFoundError) or failures >= POLL_FAILURES:
                    raise RunError(
                        f"{self.client.who}: lost track of batch {batch_id} at {self.client.where} "
                        f"({api_message(exc)}); it keeps running there: run the same command again to collect it"
                    ) from None
            await asyncio.sleep(delay)
            delay = min(delay * self.session.polling.factor, self.session.polling.longest)

    async def _poll(self, job: BatchJob, batch: Batch) -> Batch:
        delay = self.session.polling.first
        status = ""  # so the first status seen is said too
        while True:
            self._show(job, batch)
            if batch.status != status:
                status = batch.status
                if status != job.status:
                    self.session.store.status(job.id, status)
                self.session.say(f"{self.client.who}: batch {batch.id} ({job.requests:,} requests) {status}")
            if batch.status in TERMINAL:
                return batch
            await asyncio.sleep(delay)
            delay = min(delay * self.session.polling.factor, self.session.polling.longest)
            batch = await self._retrieve(job, batch.id)

    def _show(self, job: BatchJob, batch: Batch) -> None:
        counts = batch.request_counts
        name = f"batch {batch.id}"
        counters = self.session.counters.get(name)
        if counters is None:
            counters = self.session.counters[name] = ModelCounters(total=job.requests)
        counters.label = f"{self.endpoint.model} {name} ({batch.status})"
        if counts is not None:
            counters.total = counts.total or job.requests
            counters.done = counts.completed + counts.failed
            counters.errors = counts.failed

    async def _collect(self, job: BatchJob, batch: Batch) -> None:
        files = [await self.client.content(file_id) for file_id in (batch.output_file_id, batch.error_file_id) if file_id]
        results = dict(read_results(files, batch.id, batch.status))
        reason = "; ".join(error_lines(batch)) if batch.status == "failed" else _REASONS.get(batch.status, batch.status)
        answers = [(key, results.get(key) or unanswered(batch.id, batch.status, reason))
                   for key, _label, _outcome in self.session.store.requests(job.id)]
        if self.keep is not None:
            self.keep([(key, response) for key, response in answers if response.ok])
        self.session.store.collected(job.id, [(key, "ok" if response.ok else "error") for key, response in answers])
        for key, response in answers:
            self._hand_over(key, response)
        if batch.status == "failed":
            lines = error_lines(batch)
            self._set_fatal(RunError(
                f"{self.client.who}: batch {batch.id} failed validation: " + " | ".join(lines)
            ))

    def _hand_over(self, key: str, response: GenerationResponse) -> None:
        self._following.pop(key, None)
        self._results[key] = response
        if key in self._wanted:
            self._wanted.discard(key)
            self.deliver(key, response)

    def _give_up(self, job: BatchJob, error: RunError) -> None:
        """The batch cannot be followed: its requests this run waits for become errors (the batch is
        left as it is, so the next run re-attaches to it)."""
        for key, job_id in list(self._following.items()):
            if job_id == job.id:
                del self._following[key]
                if key in self._wanted:
                    self._wanted.discard(key)
                    self.deliver(key, GenerationResponse(None, ErrorInfo(kind="connection", message=error.message)))
        self._set_fatal(error)

    def _set_fatal(self, error: RunError) -> None:
        if self.fatal is None:
            self.fatal = error

    async def wait(self) -> None:
        """Until every followed batch is collected; raises the first fatal problem."""
        while self.busy:
            await self.changed.wait()
            self.changed.clear()
            if self.fatal is not None:
                raise self.fatal
        if self.fatal is not None:
            raise self.fatal

    async def stop(self) -> None:
        """Stop following (the batches keep running at the API)."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
