"""The fake server's Batch API, driven by the official SDK: status progression, scripted time, outcomes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import openai
import orjson
import pytest

from harness.testing import BatchScript, FakeOpenAIServer, Fault


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer(responder=lambda body: f"answer to {body['messages'][-1]['content']}") as running:
        yield running


@pytest.fixture
def client(server: FakeOpenAIServer) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=server.base_url, api_key="x", max_retries=0) as sdk:
        yield sdk


def lines(count: int, model: str = "m", start: int = 0) -> bytes:
    return b"".join(
        orjson.dumps({"custom_id": f"r{i}", "method": "POST", "url": "/v1/chat/completions",
                      "body": {"model": model, "messages": [{"role": "user", "content": f"q{i}"}]}}) + b"\n"
        for i in range(start, start + count)
    )


def submit(client: openai.OpenAI, data: bytes) -> Any:
    uploaded = client.files.create(file=("in.jsonl", data, "application/jsonl"), purpose="batch")
    return client.batches.create(input_file_id=uploaded.id, endpoint="/v1/chat/completions", completion_window="24h")


def results(client: openai.OpenAI, file_id: str | None) -> list[dict[str, Any]]:
    if file_id is None:
        return []
    return [orjson.loads(line) for line in client.files.content(file_id).content.splitlines()]


def test_every_status_is_seen_once_per_look(client: openai.OpenAI, server: FakeOpenAIServer) -> None:
    batch = submit(client, lines(3))
    seen = [batch.status] + [client.batches.retrieve(batch.id).status for _ in range(4)]
    assert seen == ["validating", "in_progress", "finalizing", "completed", "completed"]
    done = client.batches.retrieve(batch.id)
    assert done.request_counts is not None
    assert (done.request_counts.total, done.request_counts.completed, done.request_counts.failed) == (3, 3, 0)
    output = results(client, done.output_file_id)
    assert [line["custom_id"] for line in output] == ["r0", "r1", "r2"]
    assert output[1]["response"]["status_code"] == 200
    assert output[1]["response"]["body"]["choices"][0]["message"]["content"] == "answer to q1"
    assert done.error_file_id is None
    assert len(server.batch_api.answered) == 3


def test_time_is_scripted_and_request_counts_grow(client: openai.OpenAI, server: FakeOpenAIServer) -> None:
    server.batch_api.policy = lambda index, requests: BatchScript(in_progress_s=100)
    batch = submit(client, lines(10))
    assert client.batches.retrieve(batch.id).status == "in_progress"
    for _ in range(3):
        assert client.batches.retrieve(batch.id).status == "in_progress"  # no time has passed
    server.batch_api.clock.advance(50)
    halfway = client.batches.retrieve(batch.id)
    assert halfway.status == "in_progress" and halfway.request_counts is not None
    assert 4 <= halfway.request_counts.completed <= 6
    server.batch_api.clock.advance(50)
    assert client.batches.retrieve(batch.id).status == "finalizing"
    assert client.batches.retrieve(batch.id).status == "completed"


def test_expired_keeps_the_answered_part_and_files_the_rest_as_errors(client: openai.OpenAI, server: FakeOpenAIServer) -> None:
    server.batch_api.policy = lambda index, requests: BatchScript(outcome="expired", answered=2)
    batch = submit(client, lines(5))
    for _ in range(2):
        batch = client.batches.retrieve(batch.id)
    assert batch.status == "expired"
    assert [line["custom_id"] for line in results(client, batch.output_file_id)] == ["r0", "r1"]
    errors = results(client, batch.error_file_id)
    assert [line["custom_id"] for line in errors] == ["r2", "r3", "r4"]
    assert all(line["error"]["code"] == "batch_expired" and line["response"] is None for line in errors)


def test_failed_validation_reports_the_api_error_lines(client: openai.OpenAI, server: FakeOpenAIServer) -> None:
    server.batch_api.policy = lambda index, requests: BatchScript(
        outcome="failed", errors=[{"code": "model_not_found", "message": "no model m", "line": 1}])
    batch = submit(client, lines(2))
    batch = client.batches.retrieve(batch.id)
    assert batch.status == "failed" and batch.errors is not None and batch.errors.data
    assert (batch.errors.data[0].code, batch.errors.data[0].line) == ("model_not_found", 1)
    assert batch.output_file_id is None and server.batch_api.answered == []


def test_input_breaking_the_rules_fails_validation(client: openai.OpenAI, server: FakeOpenAIServer) -> None:
    server.batch_api.max_requests = 3
    too_many = client.batches.retrieve(submit(client, lines(4)).id)
    assert too_many.status == "failed" and too_many.errors is not None
    assert [e.code for e in too_many.errors.data or []] == ["too_many_requests"]
    repeated = client.batches.retrieve(submit(client, lines(2) + lines(1)).id)
    assert [e.code for e in repeated.errors.data or []] == ["duplicate_custom_id"]  # type: ignore[union-attr]
    mixed = client.batches.retrieve(submit(client, lines(1) + lines(1, model="other", start=1)).id)
    assert [e.code for e in mixed.errors.data or []] == ["mixed_models"]  # type: ignore[union-attr]
    server.batch_api.max_bytes = 100
    too_big = client.batches.retrieve(submit(client, lines(1)).id)
    assert [e.code for e in too_big.errors.data or []] == ["file_too_large"]  # type: ignore[union-attr]


def test_a_faulty_line_goes_to_the_error_file(client: openai.OpenAI, server: FakeOpenAIServer) -> None:
    server.faults = lambda index, body: Fault(status=400, message="bad one") if body["messages"][0]["content"] == "q1" else None
    batch = submit(client, lines(3))
    for _ in range(3):
        batch = client.batches.retrieve(batch.id)
    assert batch.status == "completed" and batch.request_counts is not None
    assert (batch.request_counts.completed, batch.request_counts.failed) == (2, 1)
    [error] = results(client, batch.error_file_id)
    assert error["custom_id"] == "r1" and error["response"]["status_code"] == 400
    assert error["response"]["body"]["error"]["message"] == "bad one"


def test_cancel_keeps_what_was_answered(client: openai.OpenAI, server: FakeOpenAIServer) -> None:
    server.batch_api.policy = lambda index, requests: BatchScript(in_progress_s=100)
    batch = submit(client, lines(4))
    client.batches.retrieve(batch.id)  # in_progress
    server.batch_api.clock.advance(50)
    assert client.batches.cancel(batch.id).status == "cancelling"
    batch = client.batches.retrieve(batch.id)
    assert batch.status == "cancelled" and server.batch_api.cancelled == [batch.id]
    assert [line["custom_id"] for line in results(client, batch.output_file_id)] == ["r0", "r1"]
    assert {line["error"]["code"] for line in results(client, batch.error_file_id)} == {"batch_cancelled"}
    with pytest.raises(openai.ConflictError):
        client.batches.cancel(batch.id)


def test_list_pages_newest_first(client: openai.OpenAI) -> None:
    ids = [submit(client, lines(1, start=i)).id for i in range(3)]
    assert [batch.id for batch in client.batches.list(limit=2)] == list(reversed(ids))  # the SDK follows the pages


def test_a_server_without_the_batch_api_answers_404() -> None:
    with (
        FakeOpenAIServer(batch_api=None) as bare,
        openai.OpenAI(base_url=bare.base_url, api_key="x", max_retries=0) as sdk,
        pytest.raises(openai.NotFoundError),
    ):
        sdk.batches.list(limit=1)
