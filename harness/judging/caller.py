"""Asking the judge: cached, batched, bounded-concurrency calls with re-asks on unparseable replies.

Jobs advance in rounds: every job's first request goes out together; jobs whose reply did not
parse get the template's retry prompt (the conversation so far plus the re-ask) in the next
round, up to `max_retries` times. Rounds keep batching simple for local judges whose adapter
takes large batches, and bound the number of calls per job.

The judge cache is its own table in the cache database. A key covers the judge's fingerprint,
the template's content hash and the full request (rendered messages, parameters, logprob
request, attempt number), so a changed template or rubric re-judges while unchanged items
are read back without a call. Whether a cached verdict may be reused follows the judge's
identity, as for answers (`harness.run.reuse`): a verdict of a mutable alias (`gpt-4o`, a name
on a custom endpoint) only within its max age, for its pinned version, or to resume. Each
answer is committed as it arrives (one small SQLite transaction, far cheaper than the call it
saves), so a killed run re-asks at most the requests that were in flight. Failed requests
count against the run's error budget (harness.models.budget) like a model's.
"""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import orjson

from harness.errors import RunError, file_problem
from harness.judging.parsing import Parsed
from harness.models.base import (
    ChatMessage,
    GenerationParams,
    GenerationRequest,
    GenerationResponse,
    ModelAdapter,
)
from harness.models.budget import NOT_ENDPOINT_FAILURES, ErrorBudget
from harness.models.cache import ResponseCache, request_key
from harness.models.calls import ModelCounters, gather_or_cancel

JUDGE_TABLE = "judgments"


@dataclass
class JudgeJob:
    """One judgment to obtain: the first messages, how to re-ask, how to read a reply."""

    label: str
    messages: list[ChatMessage]
    template_sha256: str
    retry_prompt: str
    parse: Callable[[GenerationResponse], Parsed]


@dataclass
class JudgeOutcome:
    """What came of a job: the parsed value, or why it is invalid."""

    prompt_sha256: str
    reply: str | None = None
    value: Any = None
    invalid: str | None = None
    attempts: int = 0
    calls: int = 0  # requests actually sent (not read from the cache)
    problems: list[str] = field(default_factory=list)

    @property
    def cached(self) -> bool:
        return self.attempts > 0 and self.calls == 0


class JudgeTransport(Protocol):
    """How judge requests the cache cannot answer reach the judge, when not through its adapter
    directly (the Batch API: harness/run/batch/engine.py)."""

    async def send(self, requests: Sequence[GenerationRequest], keys: Sequence[str]) -> list[GenerationResponse]:
        """Responses in order; a request's key identifies it (equal keys ask the same thing)."""
        ...

    async def close(self) -> None:
        """Called by its owner once no more requests will come, on the same event loop."""
        ...


class CachePolicy(Protocol):
    """Which cached verdicts of a judge may be reused (harness.run.reuse.ModelReuse): its cache
    fingerprint, and a decision per entry by when it was cached (which it also counts)."""

    fingerprint: str

    def admit(self, created: float, now: float) -> bool:
        ...


def prompt_hash(messages: list[ChatMessage]) -> str:
    return hashlib.sha256(orjson.dumps(messages)).hexdigest()


class JudgeCaller:
    """Calls one judge adapter for many jobs."""

    def __init__(
        self,
        name: str,
        adapter: ModelAdapter,
        params: GenerationParams,
        logprobs: int,
        max_retries: int,
        cache_path: Path | None,
        counters: ModelCounters,
        transport: JudgeTransport | None = None,
        limiter: asyncio.Semaphore | None = None,
        policy: CachePolicy | None = None,
        budget: ErrorBudget | None = None,
    ) -> None:
        """`transport` replaces direct calls of the adapter; `limiter` bounds the requests in flight
        across several `run` calls at once (pipelined judging); `policy` decides which cached
        verdicts are reused and gives the cache fingerprint (with a pinned version and the server's
        description); without one every cached verdict under the adapter's fingerprint is reused;
        `budget` is `--max-errors` for this judge's requests (default: the default error budget)."""
        self.name = name
        self.adapter = adapter
        self.policy = policy
        self.fingerprint = policy.fingerprint if policy is not None else adapter.fingerprint
        self.params = params
        self.logprobs = logprobs if logprobs > 0 and adapter.capabilities.logprobs else None
        self.max_retries = max_retries
        self.cache_path = cache_path
        self.counters = counters
        self.budget = budget or ErrorBudget()
        self._cache: ResponseCache | None = None
        self._live_requests = 0  # requests to the endpoint itself; cache hits prove nothing about it
        self.transport = transport
        self.limiter = limiter
        self._runs = 0

    def open(self) -> None:
        """Keep the judge cache open across `run` calls (pipelined judging calls `run` per item)."""
        if self.cache_path is not None and self._cache is None:
            self._cache = ResponseCache(self.cache_path, JUDGE_TABLE)

    def close(self) -> None:
        if self._cache is not None:
            self._cache.close()
            self._cache = None

    def _key(self, job: JudgeJob, request: GenerationRequest) -> str:
        return request_key(f"{self.fingerprint}|template:{job.template_sha256}", request)

    async def run(self, jobs: Sequence[JudgeJob]) -> list[JudgeOutcome]:
        outcomes = [JudgeOutcome(prompt_hash(job.messages)) for job in jobs]
        conversations = [list(job.messages) for job in jobs]
        active = list(range(len(jobs)))
        if self._runs:
            self.counters.total += len(jobs)
        else:
            self.counters.total = len(jobs)
        self._runs += 1
        owned = self._cache is None
        if owned:
            self.open()
        try:
            for attempt in range(self.max_retries + 1):
                if not active:
                    break
                if attempt:
                    self.counters.total += len(active)
                requests = [
                    GenerationRequest(jobs[i].label, attempt, conversations[i], self.params, self.logprobs) for i in active
                ]
                keys = [self._key(jobs[i], request) for i, request in zip(active, requests, strict=True)]
                responses = await self._answer(requests, keys)
                retry = []
                for i, (response, from_cache) in zip(active, responses, strict=True):
                    outcome = outcomes[i]
                    outcome.attempts += 1
                    outcome.calls += 0 if from_cache else 1
                    if response.error is not None:
                        outcome.invalid = f"judge request failed ({response.error.kind}): {response.error.message}"
                        continue
                    outcome.reply = response.output or ""
                    parsed = jobs[i].parse(response)
                    if parsed.ok:
                        outcome.value = parsed.value
                        continue
                    outcome.problems.append(parsed.problem or "unparseable reply")
                    conversations[i] = [
                        *conversations[i],
                        {"role": "assistant", "content": outcome.reply},
                        {"role": "user", "content": jobs[i].retry_prompt},
                    ]
                    retry.append(i)
                active = retry
            for i in active:
                outcome = outcomes[i]
                outcome.invalid = f"no usable reply after {outcome.attempts} attempts: {outcome.problems[-1]}"
        finally:
            if owned:
                self.close()
        return outcomes

    async def _answer(self, requests: list[GenerationRequest], keys: list[str]) -> list[tuple[GenerationResponse, bool]]:
        """Responses in order, each with whether it came from the cache."""
        results: list[tuple[GenerationResponse, bool] | None] = [None] * len(requests)
        if self._cache is not None:
            hits = self._cache.get_many(keys)
            if hits and self.policy is not None:
                now = time.time()
                created = self._cache.created_many(list(hits))
                hits = {key: hit for key, hit in hits.items() if self.policy.admit(created.get(key, now), now)}
            for index, key in enumerate(keys):
                if key in hits:
                    results[index] = (hits[key], True)
                    self.counters.done += 1
                    self.counters.successes += 1
        missing = [index for index, result in enumerate(results) if result is None]
        self._live_requests += len(missing)
        if self.transport is not None and missing:
            sent = await self.transport.send([requests[i] for i in missing], [keys[i] for i in missing])
            for index, response in zip(missing, sent, strict=True):
                results[index] = (response, False)
            self._keep([(keys[index], response) for index, response in zip(missing, sent, strict=True)])
            self._count(sent)
            return [result for result in results if result is not None]
        batch_size = max(1, self.adapter.capabilities.max_batch_size)
        batches: Iterator[list[int]] = iter(
            [missing[start : start + batch_size] for start in range(0, len(missing), batch_size)]
        )

        async def worker() -> None:
            for batch in batches:
                if self.limiter is not None:
                    async with self.limiter:
                        responses = await self.adapter.generate([requests[index] for index in batch])
                else:
                    responses = await self.adapter.generate([requests[index] for index in batch])
                for index, response in zip(batch, responses, strict=True):
                    results[index] = (response, False)
                self._keep([(keys[index], response) for index, response in zip(batch, responses, strict=True)])
                self._count(responses)

        workers = min(max(1, self.adapter.capabilities.max_concurrency), -(-len(missing) // batch_size))
        if workers > 0:
            await gather_or_cancel([worker() for _ in range(workers)])
        return [result for result in results if result is not None]

    def _keep(self, answered: list[tuple[str, GenerationResponse]]) -> None:
        """Commit answers to the judge cache as they arrive (errors are not cached)."""
        if self._cache is not None:
            try:
                self._cache.put_many([(key, self.fingerprint, response) for key, response in answered])
            except (OSError, sqlite3.Error) as exc:  # a full disk or database: stop judging, name the file
                raise RunError(file_problem(exc, self.cache_path, "write the judge cache")) from None

    def _count(self, responses: list[GenerationResponse]) -> None:
        counters = self.counters
        for response in responses:
            counters.done += 1
            counters.tally.add(response.error)
            if response.error is None:
                counters.successes += 1
            else:
                counters.errors += 1
                if response.error.kind not in NOT_ENDPOINT_FAILURES:
                    self.budget.errors += 1
        # A judge whose requests keep failing (refused connections, timeouts, a server that
        # rejects the logprobs request...) would only produce a column of invalid judgments.
        reason = self.budget.verdict(f"judge '{self.name}'", counters.tally, self._live_requests)
        if reason is not None:
            hint = "" if "unreachable" in reason else (
                "; is the judge's endpoint up and right (OPENAI_BASE_URL / base_url), and does it accept the request?"
            )
            raise RunError(reason + hint)
