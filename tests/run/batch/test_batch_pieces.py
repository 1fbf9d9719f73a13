"""Batch files and the batch store on their own, and the moments between upload, create and record."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from harness.errors import UsageError
from harness.run.batch import files
from harness.run.batch.client import BatchClient, Polling
from harness.run.batch_store import BatchStore, Endpoint
from harness.testing import FakeOpenAIServer
from tests.run.batch.conftest import by_model, run


def request(i: int, size: int = 10) -> files.BatchRequest:
    return files.BatchRequest(f"key{i}", f"m/c{i}#0", {"model": "m", "messages": [{"role": "user", "content": "x" * size}]})


def test_split_respects_both_limits_and_keeps_order() -> None:
    requests = [request(i) for i in range(7)]
    size = len(requests[0].line())
    chunks, too_big = files.split(requests, files.BatchLimits(max_requests=3, max_bytes=10**6))
    assert [len(c.requests) for c in chunks] == [3, 3, 1] and not too_big
    chunks, _ = files.split(requests, files.BatchLimits(max_requests=100, max_bytes=2 * size))
    assert [len(c.requests) for c in chunks] == [2, 2, 2, 1]
    assert all(len(c.data) <= 2 * size for c in chunks)
    assert [r.key for c in chunks for r in c.requests] == [r.key for r in requests]
    lines = [orjson.loads(line) for line in chunks[0].data.splitlines()]
    assert lines[0] == {"custom_id": "key0", "method": "POST", "url": "/v1/chat/completions", "body": requests[0].body}
    big = request(99, size=500)
    chunks, too_big = files.split([requests[0], big, requests[1]], files.BatchLimits(100, 2 * size))
    assert too_big == [big] and [len(c.requests) for c in chunks] == [2]


def test_results_map_back_to_custom_ids_with_their_errors() -> None:
    output = orjson.dumps({"custom_id": "a", "response": {"status_code": 200, "body": {
        "choices": [{"message": {"content": "hi"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 1}}}, "error": None}) + b"\n"
    errors = b"".join(orjson.dumps(entry) + b"\n" for entry in [
        {"custom_id": "b", "response": {"status_code": 429, "body": {"error": {"message": "slow down"}}}, "error": None},
        {"custom_id": "c", "response": None, "error": {"code": "batch_expired", "message": "too late."}},
        {"custom_id": "d", "response": {"status_code": 400, "body": {"error": {"message": "long",
                                                                              "code": "context_length_exceeded"}}}},
    ]) + b"not json\n"
    results = dict(files.read_results([output, errors], "batch_1", "expired"))
    assert results["a"].output == "hi" and results["a"].batch_id == "batch_1" and results["a"].usage.prompt_tokens == 3
    assert results["b"].error is not None and results["b"].error.kind == "rate_limit"
    assert results["c"].error is not None and results["c"].error.kind == "batch_expired"
    assert results["c"].error.message.startswith("batch batch_1 expired: too late; run again to send it again")
    assert results["d"].error is not None and results["d"].error.kind == "context_length"
    assert set(results) == {"a", "b", "c", "d"}


def test_store_finds_uncollected_batches_by_key(tmp_path: Path) -> None:
    store = BatchStore(tmp_path / "cache.sqlite")
    endpoint = Endpoint("m", "openai:m@x", "http://x/v1", "OPENAI_API_KEY")
    first = store.begin("generate", endpoint, "file-1", [("k1", "a"), ("k2", "b")], "/runs/one")
    assert store.reusable(["k1", "k2", "k3"], "openai:m@x") == {"k1": first, "k2": first}  # not created yet: still found
    assert store.reusable(["k1"], "other-fingerprint") == {}
    store.submitted(first, "batch_1", "validating")
    second = store.begin("generate", endpoint, "file-2", [("k2", "b"), ("k3", "c")], "/runs/two")
    assert store.reusable(["k2"], "openai:m@x") == {"k2": second}  # the newest first
    store.collected(second, [("k2", "ok"), ("k3", "error")])
    assert store.reusable(["k2", "k3"], "openai:m@x") == {"k2": first}  # collected: the cache has it now
    store.status(first, "failed", "rejected")
    assert store.reusable(["k1"], "openai:m@x") == {}
    store.attach(first, "/runs/three")
    assert [job.id for job in store.jobs("/runs/three")] == [first]
    assert store.runs(first) == ["/runs/one", "/runs/three"]
    assert [job.id for job in store.jobs(in_flight_only=True)] == [first]  # not collected yet
    assert store.by_batch_id("batch_1") is not None and store.requests(second)[1] == ("k3", "c", "error")
    store.close()


def test_polling_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Polling.from_env() == Polling(5.0, 60.0)
    monkeypatch.setenv("HARNESS_BATCH_POLL", "2")
    assert Polling.from_env() == Polling(2.0, 60.0)
    monkeypatch.setenv("HARNESS_BATCH_POLL", "0.1,0.5")
    assert Polling.from_env() == Polling(0.1, 0.5)
    monkeypatch.setenv("HARNESS_BATCH_POLL", "fast")
    with pytest.raises(UsageError, match="HARNESS_BATCH_POLL='fast'"):
        Polling.from_env()


class Stop(KeyboardInterrupt):
    """A kill at an exact moment."""


def test_killed_after_create_before_recording_the_id(suite: Path, server: FakeOpenAIServer,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    original = BatchStore.submitted

    def killed(self: BatchStore, *args: Any) -> None:
        raise Stop

    monkeypatch.setattr(BatchStore, "submitted", killed)
    with pytest.raises(KeyboardInterrupt):
        run(suite, batch=True, baseline=None, judge=None)
    assert server.batch_api is not None
    created, uploads = list(server.batch_api.batches), len(server.batch_api.files)
    assert len(created) == 1
    monkeypatch.setattr(BatchStore, "submitted", original)
    outcome = run(suite, batch=True, baseline=None, judge=None)
    assert outcome.status == "complete" and all(r["error"] is None for r in outcome.records)
    assert list(server.batch_api.batches) == created  # found by its input file, not created again
    assert len(server.batch_api.files) == uploads + 1  # only its output file
    assert len(by_model(server)["cand"]) == 6


def test_killed_after_upload_before_create(suite: Path, server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch) -> None:
    original = BatchClient.create

    async def killed(self: BatchClient, *args: Any) -> Any:
        raise Stop

    monkeypatch.setattr(BatchClient, "create", killed)
    with pytest.raises(KeyboardInterrupt):
        run(suite, batch=True, baseline=None, judge=None)
    assert server.batch_api is not None
    assert not server.batch_api.batches and len(server.batch_api.files) == 1
    monkeypatch.setattr(BatchClient, "create", original)
    outcome = run(suite, batch=True, baseline=None, judge=None)
    assert outcome.status == "complete" and all(r["error"] is None for r in outcome.records)
    batch = next(iter(server.batch_api.batches.values()))
    assert len(server.batch_api.batches) == 1 and batch.input_file_id == "file-000001"  # the file uploaded before
