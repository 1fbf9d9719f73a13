"""Everything done per answered request, moved off the event loop.

A background thread takes answered work items, evaluates their checks, commits successful
responses to the cache and appends records to results.jsonl. It drains whatever has queued
up in one transaction and one write, so the event loop only enqueues. Cache first, then the
results line: a record on disk always has its answer in the cache, which is what makes a
killed run resumable.

When one of the two stores cannot be written (disk full, read-only, SQLite full) the sink
calls `on_failure` at once, so the run stops sending, and keeps writing what still arrives to
the other store: answers the cache refused go to results.jsonl and to the run's cache backlog
(harness.run.backlog), which the next run moves into the cache. `close()` then raises the
failure as a RunError naming the path and the OS reason.
"""

from __future__ import annotations

import contextlib
import queue
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from harness.errors import HarnessError, RunError, file_problem
from harness.models.base import GenerationResponse
from harness.models.cache import ResponseCache
from harness.run.backlog import BACKLOG_FILE, append_backlog
from harness.run.plan import WorkItem, make_record
from harness.run.store import truncate_torn_line

_STOP = object()
Batch = list[tuple[WorkItem, GenerationResponse]]


class ResultSink:
    def __init__(
        self,
        results_path: Path,
        cache_path: Path | None,
        cache_table: str = "responses",
        on_failure: Callable[[HarnessError], None] | None = None,
    ) -> None:
        self.results_path = results_path
        self.cache_path = cache_path
        self.cache_table = cache_table
        self.on_failure = on_failure
        self.records: list[tuple[tuple[int, int, int], dict[str, Any]]] = []
        self.failure: HarnessError | None = None  # the first store that failed
        self.results_failed = False
        self.cache_failed = False
        self.backlogged = 0  # answers kept in the run's cache backlog
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._unexpected: BaseException | None = None
        self._thread = threading.Thread(target=self._loop, name="harness-sink", daemon=True)
        self._thread.start()

    def put(self, item: WorkItem, response: GenerationResponse) -> None:
        self._queue.put((item, response))

    def _fail(self, error: HarnessError) -> None:
        if self.failure is None:
            self.failure = error
            if self.on_failure is not None:
                self.on_failure(error)

    def _open_cache(self) -> ResponseCache | None:
        if self.cache_path is None:
            return None
        try:
            return ResponseCache(self.cache_path, self.cache_table)
        except (OSError, sqlite3.Error) as exc:
            self.cache_failed = True
            self._fail(RunError(file_problem(exc, self.cache_path, "write the response cache")))
            return None

    def _open_results(self) -> BinaryIO | None:
        try:
            return self.results_path.open("ab")
        except OSError as exc:
            self.results_failed = True
            self._fail(RunError(file_problem(exc, self.results_path, "write")))
            return None

    def _loop(self) -> None:
        cache = self._open_cache()
        handle = self._open_results()
        try:
            stopping = False
            while not stopping:
                batch = [self._queue.get()]
                while len(batch) < 2000:
                    try:
                        batch.append(self._queue.get_nowait())
                    except queue.Empty:
                        break
                if batch[-1] is _STOP:
                    stopping = True
                    batch.pop()
                if not batch:
                    continue
                cache = self._to_cache(cache, batch)
                handle = self._to_results(handle, batch)
        except BaseException as exc:  # surfaced by close()
            self._unexpected = exc
        finally:
            for closing in (cache, handle):
                if closing is not None:
                    with contextlib.suppress(OSError, sqlite3.Error):
                        closing.close()

    def _to_cache(self, cache: ResponseCache | None, batch: Batch) -> ResponseCache | None:
        entries = [(item.key, item.request_fingerprint, response) for item, response in batch if item.key is not None]
        if cache is not None:
            try:
                cache.put_many(entries)
                return cache
            except (OSError, sqlite3.Error) as exc:
                self.cache_failed = True
                self._fail(RunError(file_problem(exc, self.cache_path, "write the response cache")))
                with contextlib.suppress(sqlite3.Error):
                    cache.close()
                cache = None
        if self.cache_failed and not self.results_failed and entries:
            try:
                self.backlogged += append_backlog(self.results_path.parent / BACKLOG_FILE, self.cache_table, entries)
            except OSError as exc:
                self.results_failed = True
                self._fail(RunError(file_problem(exc, self.results_path.parent / BACKLOG_FILE, "write")))
        return cache

    def _to_results(self, handle: BinaryIO | None, batch: Batch) -> BinaryIO | None:
        lines = []
        for item, response in batch:
            record = make_record(item, response)
            self.records.append((item.order, record))
            lines.append(orjson.dumps(record, option=orjson.OPT_NON_STR_KEYS))
        if handle is None:
            return None
        try:
            handle.write(b"\n".join(lines) + b"\n")
            handle.flush()
            return handle
        except OSError as exc:
            self.results_failed = True
            self._fail(RunError(file_problem(exc, self.results_path, "write")))
            with contextlib.suppress(OSError):
                handle.close()
            truncate_torn_line(self.results_path)
            return None

    def close(self) -> list[dict[str, Any]]:
        """Flush everything queued and return the records sorted by (model, case, repeat).

        Raises the first store failure (a RunError naming the path) once everything that could be
        kept is kept."""
        self._queue.put(_STOP)
        self._thread.join()
        if self._unexpected is not None:
            raise self._unexpected
        if self.failure is not None:
            raise self.failure
        return self.sorted_records()

    def sorted_records(self) -> list[dict[str, Any]]:
        return [record for _, record in sorted(self.records, key=lambda pair: pair[0])]
