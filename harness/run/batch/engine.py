"""The Batch API as a generation engine, and as the way judge requests reach the judge.

`BatchEngine` implements `GenerationEngine`: the models marked for batches go through the
Batch API, the others are sent directly by the async runner, all side by side. Answers reach
the result sink like direct ones (cache, results.jsonl), counted against the error budget.

`BatchJudgeTransport` implements `harness.judging.caller.JudgeTransport`: the judge caller's
requests are gathered for a moment (so the judge requests that one generation batch makes
ready go out as one batch) and sent through a broker, with the same crash safety.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console

from harness.errors import RunError
from harness.judging.caller import JUDGE_TABLE
from harness.models.base import GenerationRequest, GenerationResponse, ModelAdapter
from harness.models.cache import ResponseCache, request_key
from harness.models.openai_adapter import OpenAIAdapter, redact_url
from harness.run.batch.broker import Broker, Deliver
from harness.run.batch.client import BatchClient
from harness.run.batch.files import BatchRequest
from harness.run.batch.session import BatchSession
from harness.run.batch_store import Endpoint
from harness.run.plan import WorkItem
from harness.run.runner import RunState, check_budget, count_result, gather_or_cancel, run_requests
from harness.run.stages.generate import OnResult


def _openai(adapter: ModelAdapter, who: str) -> OpenAIAdapter:
    if not isinstance(adapter, OpenAIAdapter):  # planning refuses this before anything is sent
        raise RunError(f"{who} cannot use the Batch API: only OpenAI-compatible endpoints have one")
    return adapter


def broker_for(session: BatchSession, kind: str, name: str, who: str, adapter: OpenAIAdapter, deliver: Deliver,
               cache: tuple[Path, str] | None) -> Broker:
    """A broker for one model; its answers are written to `cache` (database, table) before its batches
    are marked collected."""
    where = redact_url(adapter.base_url)
    endpoint = Endpoint(name, adapter.fingerprint, where, adapter.api_key_env)
    keep = None
    if cache is not None:
        path, table = cache

        def keep(answers: list[tuple[str, GenerationResponse]]) -> None:
            store = ResponseCache(path, table)
            try:
                store.put_many((key, adapter.fingerprint, response) for key, response in answers)
            finally:
                store.close()

    return Broker(session, kind, endpoint, BatchClient(adapter.client(), who, where), deliver, keep)


class BatchEngine:
    """Batched models through the Batch API, the others directly, side by side."""

    def __init__(self, session: BatchSession, batched: set[str], cache_path: Path | None) -> None:
        self.session = session
        self.batched = batched
        self.cache_path = cache_path

    async def generate(
        self,
        adapters: dict[str, ModelAdapter],
        pending: dict[str, list[WorkItem]],
        state: RunState,
        on_result: OnResult,
        console: Console,
        progress: bool,
    ) -> None:
        self.session.counters = state.counters
        direct = {name: items for name, items in pending.items() if items and name not in self.batched}
        jobs = [self._model(name, adapters[name], items, state, on_result)
                for name, items in pending.items() if items and name in self.batched]
        try:
            await gather_or_cancel([run_requests(adapters, direct, state, on_result), *jobs])
        except BaseException:  # Ctrl-C or an abort: say how to resume and cancel what still runs
            self.session.tell_resume()
            raise
        finally:
            self.session.close()

    async def _model(
        self, name: str, adapter: ModelAdapter, items: Sequence[WorkItem], state: RunState, on_result: OnResult
    ) -> None:
        who = f"model '{name}'"
        openai_adapter = _openai(adapter, who)
        by_key: dict[str, list[WorkItem]] = {}
        requests: list[BatchRequest] = []
        for item in items:
            key = item.key or request_key(adapter.fingerprint, item.request)
            if key not in by_key:
                label = f"{name}/{item.case.id}#{item.request.repeat}"
                requests.append(BatchRequest(key, label, openai_adapter.request_body(item.request)))
            by_key.setdefault(key, []).append(item)
        counters = state.counters[name]

        def deliver(key: str, response: GenerationResponse) -> None:
            for item in by_key.pop(key, []):
                count_result(counters, state.budget, response)
                on_result(item, response)

        cache = (self.cache_path, "responses") if self.cache_path is not None else None
        broker = broker_for(self.session, "generate", name, who, openai_adapter, deliver, cache)
        try:
            await broker.submit(requests)
            while broker.busy:
                await broker.changed.wait()
                broker.changed.clear()
                if broker.fatal is not None:
                    raise broker.fatal
                if state.halted is not None:  # a store failed: stop; the batch resumes on the next run
                    raise state.halted
                check_budget(name, counters, state.budget)
            if broker.fatal is not None:
                raise broker.fatal
            check_budget(name, counters, state.budget)
        finally:
            await broker.stop()


class BatchJudgeTransport:
    """Judge requests through the Batch API, gathered `gather_s` seconds into batches."""

    def __init__(self, session: BatchSession, judge: str, adapter: ModelAdapter, cache_path: Path | None,
                 gather_s: float = 1.0) -> None:
        self.session = session
        self.cache = (cache_path, JUDGE_TABLE) if cache_path is not None else None
        self.judge = judge
        self.adapter = _openai(adapter, f"judge '{judge}'")
        self.gather_s = gather_s
        self._loop: asyncio.AbstractEventLoop | None = None
        self._broker: Broker | None = None
        self._futures: dict[str, asyncio.Future[GenerationResponse]] = {}
        self._queue: list[BatchRequest] = []
        self._flusher: asyncio.Task[None] | None = None

    def _ensure_broker(self) -> Broker:
        loop = asyncio.get_running_loop()
        if self._broker is None or self._loop is not loop:  # the staged judge runs in an event loop of its own
            self._loop = loop
            self._futures = {}
            self._queue = []
            self._flusher = None
            self._broker = broker_for(self.session, "judge", self.judge, f"judge '{self.judge}'", self.adapter,
                                      self._deliver, self.cache)
        return self._broker

    def _deliver(self, key: str, response: GenerationResponse) -> None:
        future = self._futures.get(key)
        if future is not None and not future.done():
            future.set_result(response)

    async def send(self, requests: Sequence[GenerationRequest], keys: Sequence[str]) -> list[GenerationResponse]:
        """Answers to these judge requests, in order, once their batch has ended."""
        broker = self._ensure_broker()
        waiting = []
        for request, key in zip(requests, keys, strict=True):
            future = self._futures.get(key)
            if future is None:
                future = self._futures[key] = asyncio.get_running_loop().create_future()
                self._queue.append(BatchRequest(key, request.case_id, self.adapter.request_body(request)))
            waiting.append(future)
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.ensure_future(self._flush(broker))
        try:
            responses = list(await asyncio.gather(*waiting))
        except BaseException:
            self.session.tell_resume()
            raise
        if broker.fatal is not None:
            raise broker.fatal
        return responses

    async def _flush(self, broker: Broker) -> None:
        while self._queue:
            await asyncio.sleep(self.gather_s)  # the rest of a burst of ready items joins this batch
            queued, self._queue = self._queue, []
            try:
                await broker.submit(queued)
            except RunError as exc:
                for request in queued:
                    future = self._futures.get(request.key)
                    if future is not None and not future.done():
                        future.set_exception(exc)

    async def close(self) -> None:
        """Stop following (batches still running keep running at the API) and release the store."""
        if self._broker is not None:
            await self._broker.stop()
        if self._flusher is not None:
            self._flusher.cancel()
        self.session.tell_resume()  # says something only when batches still run (Ctrl-C, an abort)
        self.session.close()
