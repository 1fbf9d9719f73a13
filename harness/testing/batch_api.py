"""The OpenAI Batch API on the fake server: files, batches, scripted status progression, scriptable time.

Routes (what the official SDK calls): `POST /v1/files` (multipart upload), `GET /v1/files/{id}`,
`GET /v1/files/{id}/content`, `POST /v1/batches`, `GET /v1/batches`, `GET /v1/batches/{id}` and
`POST /v1/batches/{id}/cancel`.

A batch goes validating -> in_progress -> finalizing -> completed, each phase lasting the
seconds its `BatchScript` gives on the API's clock (`BatchClock`, which a test fast-forwards
instead of waiting). A status moves at most one step per `GET /v1/batches/{id}`, so a client
sees every status even when the phases take no time. A script can also end a batch `failed`
(validation errors) or `expired` (the first N requests answered, the rest in the error file).
Input that breaks the API's rules (a line that is not a request, a repeated custom_id, another
endpoint or model, more requests or bytes than the limits) fails validation as it would there.

    with FakeOpenAIServer(responder=...) as server:
        server.batch_api.policy = lambda index, lines: BatchScript(in_progress_s=3600)
        ...
        server.batch_api.clock.advance(3600)       # the batches are done now
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import orjson
from aiohttp import BodyPartReader, web

if TYPE_CHECKING:
    from harness.testing.fake_server import FakeOpenAIServer

Outcome = Literal["completed", "failed", "expired"]
PHASES = ("validating", "in_progress", "finalizing")
TERMINAL = ("completed", "failed", "expired", "cancelled")
MAX_REQUESTS = 50_000
MAX_BYTES = 200 * 1024 * 1024


@dataclass
class BatchScript:
    """How one batch goes. Durations are seconds on the API's clock."""

    outcome: Outcome = "completed"
    validating_s: float = 0.0
    in_progress_s: float = 0.0
    finalizing_s: float = 0.0
    answered: int = 0  # with `expired`: how many requests (the first ones) were answered in time
    errors: list[dict[str, Any]] = field(default_factory=list)  # with `failed`: the validation errors


BatchPolicy = Callable[[int, list[dict[str, Any]]], "BatchScript | None"]


class BatchClock:
    """The API's notion of now: wall time plus whatever a test has fast-forwarded."""

    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@dataclass
class _Batch:
    id: str
    input_file_id: str
    endpoint: str
    metadata: dict[str, str] | None
    lines: list[dict[str, Any]]
    script: BatchScript
    created_at: float
    status: str = "validating"
    changed_at: float = 0.0  # when the current status began
    stamps: dict[str, int] = field(default_factory=dict)
    output_file_id: str | None = None
    error_file_id: str | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)
    completed: int = 0
    failed: int = 0


class BatchAPI:
    """In-memory files and batches for one `FakeOpenAIServer`."""

    def __init__(self, policy: BatchPolicy | None = None, max_requests: int = MAX_REQUESTS, max_bytes: int = MAX_BYTES) -> None:
        self.policy = policy
        self.max_requests = max_requests
        self.max_bytes = max_bytes
        self.clock = BatchClock()
        self.files: dict[str, tuple[dict[str, Any], bytes]] = {}
        self.batches: dict[str, _Batch] = {}
        self.answered: list[dict[str, Any]] = []  # request bodies answered through batches, in answer order
        self.cancelled: list[str] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._server: FakeOpenAIServer | None = None

    # -- wiring ---------------------------------------------------------------------------
    def register(self, app: web.Application, server: FakeOpenAIServer) -> None:
        self._server = server
        app.router.add_post("/v1/files", self._upload)
        app.router.add_get("/v1/files/{id}", self._file)
        app.router.add_get("/v1/files/{id}/content", self._content)
        app.router.add_post("/v1/batches", self._create)
        app.router.add_get("/v1/batches", self._list)
        app.router.add_get("/v1/batches/{id}", self._retrieve)
        app.router.add_post("/v1/batches/{id}/cancel", self._cancel)

    @property
    def created(self) -> list[str]:
        """Ids of every batch created, oldest first."""
        return list(self.batches)

    def _id(self, prefix: str) -> str:
        return f"{prefix}-{next(self._ids):06d}"

    # -- files ----------------------------------------------------------------------------
    def _store_file(self, data: bytes, filename: str, purpose: str) -> dict[str, Any]:
        file_id = self._id("file")
        meta = {"id": file_id, "object": "file", "bytes": len(data), "created_at": int(self.clock.now()),
                "filename": filename, "purpose": purpose, "status": "processed"}
        self.files[file_id] = (meta, data)
        return meta

    async def _upload(self, request: web.Request) -> web.Response:
        purpose, filename, data = None, "upload.jsonl", b""
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader):
                continue
            if part.name == "purpose":
                purpose = (await part.read()).decode()
            elif part.name == "file":
                filename = part.filename or filename
                data = bytes(await part.read())
        if purpose is None:
            return _error(400, "missing purpose")
        with self._lock:
            meta = self._store_file(data, filename, purpose)
        return web.json_response(meta)

    async def _file(self, request: web.Request) -> web.Response:
        found = self.files.get(request.match_info["id"])
        return web.json_response(found[0]) if found else _error(404, "No such File object")

    async def _content(self, request: web.Request) -> web.Response:
        found = self.files.get(request.match_info["id"])
        if found is None:
            return _error(404, "No such File object")
        return web.Response(body=found[1], content_type="application/octet-stream")

    # -- batches --------------------------------------------------------------------------
    async def _create(self, request: web.Request) -> web.Response:
        body = orjson.loads(await request.read())
        file_id = body.get("input_file_id")
        if file_id not in self.files:
            return _error(400, f"input file {file_id} not found")
        if body.get("completion_window") != "24h":
            return _error(400, "completion_window must be 24h")
        data = self.files[file_id][1]
        lines, problems = self._validate(data, str(body.get("endpoint")))
        with self._lock:
            index = len(self.batches)
            script = (self.policy(index, lines) if self.policy else None) or BatchScript()
            if problems:
                script = BatchScript(outcome="failed", errors=problems)
            now = self.clock.now()
            batch = _Batch(self._id("batch"), file_id, str(body.get("endpoint")), body.get("metadata"), lines, script,
                           now, changed_at=now, stamps={"created_at": int(now)})
            self.batches[batch.id] = batch
        return web.json_response(self._describe(batch))

    def _validate(self, data: bytes, endpoint: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        problems: list[dict[str, Any]] = []
        if len(data) > self.max_bytes:
            return [], [{"code": "file_too_large", "message": f"the file has {len(data)} bytes, over {self.max_bytes}",
                         "line": None}]
        lines: list[dict[str, Any]] = []
        seen: set[str] = set()
        models: set[str] = set()
        for number, raw in enumerate(data.splitlines(), start=1):
            if not raw.strip():
                continue
            try:
                line = orjson.loads(raw)
                custom_id = line["custom_id"]
                models.add(str(line["body"]["model"]))
            except (orjson.JSONDecodeError, KeyError, TypeError):
                problems.append({"code": "invalid_json_line", "message": "not a request line", "line": number})
                continue
            if line.get("method") != "POST" or line.get("url") != endpoint:
                problems.append({"code": "invalid_url", "message": f"url must be {endpoint} with POST", "line": number})
            if custom_id in seen:
                problems.append({"code": "duplicate_custom_id", "message": f"custom_id {custom_id} repeated", "line": number})
            seen.add(custom_id)
            lines.append(line)
        if len(lines) > self.max_requests:
            problems.append({"code": "too_many_requests", "message": f"{len(lines)} requests, over {self.max_requests}",
                             "line": None})
        if len(models) > 1:
            problems.append({"code": "mixed_models", "message": "a batch may use only one model", "line": None})
        if not lines and not problems:
            problems.append({"code": "empty_file", "message": "the input file has no requests", "line": None})
        return lines, problems

    async def _list(self, request: web.Request) -> web.Response:
        limit = int(request.query.get("limit", "20"))
        after = request.query.get("after")
        ordered = sorted(self.batches.values(), key=lambda b: (b.created_at, b.id), reverse=True)
        if after is not None:
            ids = [b.id for b in ordered]
            ordered = ordered[ids.index(after) + 1 :] if after in ids else []
        page = ordered[:limit]
        return web.json_response({
            "object": "list",
            "data": [self._describe(b) for b in page],
            "first_id": page[0].id if page else None,
            "last_id": page[-1].id if page else None,
            "has_more": len(ordered) > limit,
        })

    async def _retrieve(self, request: web.Request) -> web.Response:
        batch = self.batches.get(request.match_info["id"])
        if batch is None:
            return _error(404, "No such Batch object")
        with self._lock:
            self._advance(batch)
        return web.json_response(self._describe(batch))

    async def _cancel(self, request: web.Request) -> web.Response:
        batch = self.batches.get(request.match_info["id"])
        if batch is None:
            return _error(404, "No such Batch object")
        with self._lock:
            if batch.status in TERMINAL or batch.status == "cancelling":
                return _error(409, f"cannot cancel a batch that is {batch.status}")
            self.cancelled.append(batch.id)
            self._set(batch, "cancelling", self.clock.now())
        return web.json_response(self._describe(batch))

    # -- progression ----------------------------------------------------------------------
    def _set(self, batch: _Batch, status: str, now: float) -> None:
        batch.status = status
        batch.changed_at = now
        batch.stamps[f"{status}_at"] = int(now)

    def _advance(self, batch: _Batch) -> None:
        """At most one status step per look, once the current phase's time has passed."""
        now = self.clock.now()
        script = batch.script
        status = batch.status
        if status == "cancelling":
            self._finish(batch, "cancelled", self._done_by(batch, now))
        elif status == "validating" and now - batch.changed_at >= script.validating_s:
            if script.outcome == "failed":
                batch.errors = script.errors or [{"code": "invalid_request", "message": "rejected", "line": None}]
                self._set(batch, "failed", now)
            else:
                self._set(batch, "in_progress", now)
        elif status == "in_progress" and now - batch.changed_at >= script.in_progress_s:
            if script.outcome == "expired":
                self._finish(batch, "expired", script.answered)
            else:
                self._set(batch, "finalizing", now)
        elif status == "finalizing" and now - batch.changed_at >= script.finalizing_s:
            self._finish(batch, "completed", len(batch.lines))

    def _done_by(self, batch: _Batch, now: float) -> int:
        if batch.status != "in_progress" and not (batch.status == "cancelling" and "in_progress_at" in batch.stamps):
            return 0
        duration = batch.script.in_progress_s
        started = batch.stamps.get("in_progress_at", int(now))
        return len(batch.lines) if duration <= 0 else min(len(batch.lines), int(len(batch.lines) * (now - started) / duration))

    def _finish(self, batch: _Batch, status: str, answered: int) -> None:
        """Answer the first `answered` requests; the rest go to the error file with the status's reason."""
        assert self._server is not None
        output: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        reason = {"expired": ("batch_expired", "This request could not be executed before the completion window expired."),
                  "cancelled": ("batch_cancelled", "This request was not executed because the batch was cancelled.")}
        for position, line in enumerate(batch.lines):
            request_id = self._id("batch_req")
            if position >= answered:
                code, message = reason.get(status, ("batch_failed", "not executed"))
                errors.append({"id": request_id, "custom_id": line["custom_id"], "response": None,
                               "error": {"code": code, "message": message}})
                continue
            status_code, body = self._server.answer_batch_line(line["body"])
            self.answered.append(line["body"])
            entry = {"id": request_id, "custom_id": line["custom_id"],
                     "response": {"status_code": status_code, "request_id": request_id, "body": body}, "error": None}
            (output if status_code == 200 else errors).append(entry)
        batch.completed = len(output)
        batch.failed = len(errors)
        if output:
            batch.output_file_id = self._store_file(_jsonl(output), f"{batch.id}_output.jsonl", "batch_output")["id"]
        if errors:
            batch.error_file_id = self._store_file(_jsonl(errors), f"{batch.id}_error.jsonl", "batch_output")["id"]
        self._set(batch, status, self.clock.now())

    def _describe(self, batch: _Batch) -> dict[str, Any]:
        total = len(batch.lines)
        completed, failed = batch.completed, batch.failed
        if batch.status == "in_progress":
            completed = self._done_by(batch, self.clock.now())
        elif batch.status == "finalizing":
            completed = total
        stamps = {key: batch.stamps.get(key) for key in (
            "in_progress_at", "finalizing_at", "completed_at", "failed_at", "expired_at", "cancelling_at", "cancelled_at")}
        return {
            "id": batch.id,
            "object": "batch",
            "endpoint": batch.endpoint,
            "errors": {"object": "list", "data": batch.errors} if batch.errors else None,
            "input_file_id": batch.input_file_id,
            "completion_window": "24h",
            "status": batch.status,
            "output_file_id": batch.output_file_id,
            "error_file_id": batch.error_file_id,
            "created_at": batch.stamps["created_at"],
            "expires_at": int(batch.created_at + 86400),
            **stamps,
            "request_counts": {"total": total, "completed": completed, "failed": failed},
            "metadata": batch.metadata,
        }


def _jsonl(entries: list[dict[str, Any]]) -> bytes:
    return b"".join(orjson.dumps(entry) + b"\n" for entry in entries)


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": {"message": message, "type": "invalid_request_error", "code": None}}, status=status)
