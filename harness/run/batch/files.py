"""Batch input and output files: request lines, splitting by the API's limits, reading results back.

A request's `custom_id` is its cache key, which is unique for what it asks (model fingerprint,
messages, parameters, repeat), so a result line maps back to every work item that asked it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import orjson

from harness.models.base import ErrorInfo, GenerationResponse
from harness.models.openai_adapter import classify_status, completion_response

ENDPOINT: Literal["/v1/chat/completions"] = "/v1/chat/completions"


@dataclass(frozen=True)
class BatchLimits:
    """The API's limits on one batch input file."""

    max_requests: int = 50_000
    max_bytes: int = 200_000_000  # 200 MB


LIMITS = BatchLimits()


@dataclass(frozen=True)
class BatchRequest:
    """One request line: its key (also its custom_id), a label for people, the chat completions body."""

    key: str
    label: str
    body: dict[str, Any]

    def line(self) -> bytes:
        return orjson.dumps({"custom_id": self.key, "method": "POST", "url": ENDPOINT, "body": self.body}) + b"\n"


@dataclass
class Chunk:
    """The requests of one input file and the file's bytes."""

    requests: list[BatchRequest]
    data: bytes


def split(requests: Sequence[BatchRequest], limits: BatchLimits) -> tuple[list[Chunk], list[BatchRequest]]:
    """Input files within the limits, in request order, and the requests too big for any file."""
    chunks: list[Chunk] = []
    too_big: list[BatchRequest] = []
    current: list[BatchRequest] = []
    lines: list[bytes] = []
    size = 0
    for request in requests:
        line = request.line()
        if len(line) > limits.max_bytes:
            too_big.append(request)
            continue
        if current and (len(current) >= limits.max_requests or size + len(line) > limits.max_bytes):
            chunks.append(Chunk(current, b"".join(lines)))
            current, lines, size = [], [], 0
        current.append(request)
        lines.append(line)
        size += len(line)
    if current:
        chunks.append(Chunk(current, b"".join(lines)))
    return chunks, too_big


RESEND = "run again to send it again (in a new batch, or directly without --batch)"
_REASONS = {"batch_expired": "batch_expired", "batch_cancelled": "batch_cancelled"}


def _line_response(entry: dict[str, Any], batch_id: str, status: str) -> GenerationResponse:
    response = entry.get("response")
    if response:
        code = int(response.get("status_code") or 0)
        body = response.get("body")
        if code == 200:
            answer = completion_response(body)
            answer.batch_id = batch_id
            return answer
        error = (body or {}).get("error") if isinstance(body, dict) else None
        error = error if isinstance(error, dict) else {}
        message = str(error.get("message") or f"HTTP {code}").splitlines()[0]
        return GenerationResponse(None, classify_status(code, str(error.get("code") or ""), message))
    failure = entry.get("error") or {}
    reason = str(failure.get("code") or "")
    kind = _REASONS.get(reason) or _REASONS.get(f"batch_{status}") or "batch_failed"
    message = str(failure.get("message") or f"not answered: the batch ended {status}").rstrip(".")
    return GenerationResponse(None, ErrorInfo(kind=kind, message=f"batch {batch_id} {status}: {message}; {RESEND}"))  # type: ignore[arg-type]


def read_results(files: Sequence[bytes], batch_id: str, status: str) -> Iterator[tuple[str, GenerationResponse]]:
    """(custom_id, response) of every line of a batch's output and error files."""
    for data in files:
        for raw in data.splitlines():
            if not raw.strip():
                continue
            try:
                entry = orjson.loads(raw)
                custom_id = str(entry["custom_id"])
            except (orjson.JSONDecodeError, KeyError, TypeError):
                continue  # a line we cannot attribute: its request stays unanswered and is reported so
            yield custom_id, _line_response(entry, batch_id, status)


def unanswered(batch_id: str, status: str, reason: str) -> GenerationResponse:
    """The error of a request its batch never answered (failed validation, expired, cancelled)."""
    kind = {"expired": "batch_expired", "cancelled": "batch_cancelled"}.get(status, "batch_failed")
    return GenerationResponse(None, ErrorInfo(kind=kind, message=f"batch {batch_id} {status}: {reason}"))  # type: ignore[arg-type]
