"""Everything done per answered request, moved off the event loop.

A background thread takes answered work items, evaluates their checks, commits successful
responses to the cache and appends records to results.jsonl. It drains whatever has queued
up in one transaction and one write, so the event loop only enqueues. Cache first, then the
results line: a record on disk always has its answer in the cache, which is what makes a
killed run resumable.
"""

from __future__ import annotations

import queue
import threading
from pathlib import Path
from typing import Any

import orjson

from harness.models.base import GenerationResponse
from harness.run.cache import ResponseCache
from harness.run.plan import WorkItem, make_record

_STOP = object()


class ResultSink:
    def __init__(self, results_path: Path, cache_path: Path | None, cache_table: str = "responses") -> None:
        self.results_path = results_path
        self.cache_path = cache_path
        self.cache_table = cache_table
        self.records: list[tuple[tuple[int, int, int], dict[str, Any]]] = []
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._loop, name="harness-sink", daemon=True)
        self._thread.start()

    def put(self, item: WorkItem, response: GenerationResponse) -> None:
        self._queue.put((item, response))

    def _loop(self) -> None:
        cache = ResponseCache(self.cache_path, self.cache_table) if self.cache_path is not None else None
        try:
            with self.results_path.open("ab") as handle:
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
                    if cache is not None:
                        cache.put_many(
                            (item.key, item.request_fingerprint, response)
                            for item, response in batch
                            if item.key is not None
                        )
                    lines = []
                    for item, response in batch:
                        record = make_record(item, response)
                        self.records.append((item.order, record))
                        lines.append(orjson.dumps(record, option=orjson.OPT_NON_STR_KEYS))
                    handle.write(b"\n".join(lines) + b"\n")
                    handle.flush()
        except BaseException as exc:  # surfaced by close()
            self._failure = exc
        finally:
            if cache is not None:
                cache.close()

    def close(self) -> list[dict[str, Any]]:
        """Flush everything queued and return the records sorted by (model, case, repeat)."""
        self._queue.put(_STOP)
        self._thread.join()
        if self._failure is not None:
            raise self._failure
        return [record for _, record in sorted(self.records, key=lambda pair: pair[0])]
