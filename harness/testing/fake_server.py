"""A scriptable OpenAI-compatible chat completions server on 127.0.0.1, for tests and benchmarks.

It speaks enough of `/v1/chat/completions` for the real `openai` client: usage, finish
reasons, logprobs. Answers come from a responder function; faults (HTTP errors with
Retry-After, slow replies, malformed JSON, dropped connections) from a fault function, so
tests exercise the client's real retry and timeout paths over real sockets.

    with FakeOpenAIServer(responder=lambda body: "Paris") as server:
        os.environ["OPENAI_BASE_URL"] = server.base_url

It also serves the Batch API (`harness.testing.batch_api`; `batch_api=None` for a server
without it). Run standalone for benchmarks: `python -m harness.testing --latency 0.1`.
"""

from __future__ import annotations

import argparse
import asyncio
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web

from harness.testing.batch_api import BatchAPI


@dataclass
class Reply:
    """A scripted answer. `logprobs` maps the first generated token's alternatives to log-probabilities."""

    content: str
    finish_reason: str = "stop"
    logprobs: dict[str, float] | None = None


@dataclass
class Fault:
    """What to do instead of (or before) answering one request."""

    status: int | None = None  # answer with this HTTP status and an error body
    retry_after: float | None = None  # Retry-After header (seconds) with the status
    delay: float = 0.0  # sleep before answering (longer than the client timeout: a timeout)
    malformed: bool = False  # 200 with a body that is not JSON
    drop: bool = False  # close the connection without answering
    error_code: str | None = None  # `code` in the error body, e.g. context_length_exceeded
    message: str = "injected fault"


Responder = Callable[[dict[str, Any]], "str | Reply"]
FaultPolicy = Callable[[int, dict[str, Any]], "Fault | None"]


def echo_responder(body: dict[str, Any]) -> str:
    messages = body.get("messages") or []
    last = messages[-1]["content"] if messages else ""
    return f"echo: {last}"


def fault_script(faults: list[Fault | None]) -> FaultPolicy:
    """Apply `faults[i]` to the i-th request received; later requests are answered normally."""

    def policy(index: int, body: dict[str, Any]) -> Fault | None:
        return faults[index] if index < len(faults) else None

    return policy


@dataclass
class FakeOpenAIServer:
    responder: Responder = echo_responder
    faults: FaultPolicy | None = None
    latency: float = 0.0
    host: str = "127.0.0.1"
    port: int = 0
    requests: list[dict[str, Any]] = field(default_factory=list)
    record: bool = True
    # `GET /v1/models/{id}` answers: model name -> extra fields (vLLM: root, parent, max_model_len)
    descriptions: dict[str, dict[str, Any]] = field(default_factory=dict)
    model_lookups: int = 0
    batch_api: BatchAPI | None = field(default_factory=BatchAPI)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._count = 0
        self._batch_lines = 0
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._ready = threading.Event()
        self._startup_error: BaseException | None = None

    # -- HTTP ----------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    @property
    def request_count(self) -> int:
        with self._lock:
            return self._count

    def reset(self) -> None:
        with self._lock:
            self._count = 0
            self.requests.clear()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return web.json_response({"error": {"message": "request body is not JSON"}}, status=400)
        with self._lock:
            index = self._count
            self._count += 1
            if self.record:
                self.requests.append(body)
        fault = self.faults(index, body) if self.faults else None
        if self.latency:
            await asyncio.sleep(self.latency)
        if fault is not None:
            if fault.delay:
                await asyncio.sleep(fault.delay)
            if fault.drop:
                if request.transport is not None:
                    request.transport.abort()
                raise asyncio.CancelledError  # aiohttp drops the half-open request
            if fault.malformed:
                return web.Response(body=b'{"id": "x", "choices": [', content_type="application/json")
            if fault.status is not None:
                headers = {"x-should-retry": "false"} if fault.status < 500 and fault.status not in (408, 409, 429) else {}
                if fault.retry_after is not None:
                    headers["retry-after"] = str(fault.retry_after)
                error = {"message": fault.message, "type": "injected", "code": fault.error_code}
                return web.json_response({"error": error}, status=fault.status, headers=headers)
        answer = self.responder(body)
        reply = answer if isinstance(answer, Reply) else Reply(answer)
        return web.Response(body=orjson.dumps(self._completion(body, reply)), content_type="application/json")

    def answer_batch_line(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """(HTTP status, body) of one Batch API request: the responder's answer, or the fault
        policy's status (indexed over batch lines apart from direct requests)."""
        with self._lock:
            index = self._batch_lines
            self._batch_lines += 1
        fault = self.faults(index, body) if self.faults else None
        if fault is not None and fault.status is not None:
            return fault.status, {"error": {"message": fault.message, "type": "injected", "code": fault.error_code}}
        answer = self.responder(body)
        return 200, self._completion(body, answer if isinstance(answer, Reply) else Reply(answer))

    @staticmethod
    def _completion(body: dict[str, Any], reply: Reply) -> dict[str, Any]:
        prompt_words = sum(len(str(m.get("content", "")).split()) for m in body.get("messages", []))
        choice: dict[str, Any] = {
            "index": 0,
            "message": {"role": "assistant", "content": reply.content},
            "finish_reason": reply.finish_reason,
        }
        if body.get("logprobs"):
            top = reply.logprobs or {reply.content[:1] or " ": 0.0}
            first = max(top, key=lambda token: top[token])
            choice["logprobs"] = {
                "content": [
                    {
                        "token": first,
                        "logprob": top[first],
                        "top_logprobs": [{"token": t, "logprob": lp} for t, lp in top.items()],
                    }
                ]
            }
        return {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", "fake"),
            "choices": [choice],
            "usage": {
                "prompt_tokens": prompt_words,
                "completion_tokens": len(reply.content.split()),
                "total_tokens": prompt_words + len(reply.content.split()),
            },
        }

    async def _models(self, request: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [{"id": "fake", "object": "model"}]})

    async def _model(self, request: web.Request) -> web.Response:
        """`GET /v1/models/{id}` as vLLM answers it, from `descriptions`; 404 for other names."""
        name = request.match_info["name"]
        with self._lock:
            self.model_lookups += 1
        described = self.descriptions.get(name)
        if described is None:
            return web.json_response({"error": {"message": f"model '{name}' not found", "code": 404}}, status=404)
        return web.json_response(
            {"id": name, "object": "model", "created": int(time.time()), "owned_by": "vllm", **described}
        )

    # -- lifecycle -----------------------------------------------------------------------
    async def _start(self) -> None:
        app = web.Application(client_max_size=256 * 1024 * 1024)
        app.router.add_post("/v1/chat/completions", self._handle)
        app.router.add_get("/v1/models", self._models)
        app.router.add_get("/v1/models/{name:.+}", self._model)
        if self.batch_api is not None:
            self.batch_api.register(app, self)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, backlog=1024)
        await site.start()
        server = site._server
        if self.port == 0 and server is not None:
            self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]

    def _serve(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._start())
        except BaseException as exc:
            self._startup_error = exc
            self._ready.set()
            return
        self._ready.set()
        loop.run_forever()
        if self._runner is not None:
            loop.run_until_complete(self._runner.cleanup())
        loop.close()

    def start(self) -> FakeOpenAIServer:
        self._thread = threading.Thread(target=self._serve, name="fake-openai", daemon=True)
        self._thread.start()
        self._ready.wait(10)
        if self._startup_error is not None:
            raise self._startup_error
        return self

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            self._loop = None

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve a fake OpenAI-compatible endpoint on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every reply")
    parser.add_argument("--answer", default=None, help="fixed answer (default: echo the last message)")
    args = parser.parse_args()
    fixed = args.answer
    responder: Responder = (lambda body: fixed) if fixed is not None else echo_responder
    server = FakeOpenAIServer(responder=responder, latency=args.latency, port=args.port, record=False)
    server.start()
    print(server.base_url, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
