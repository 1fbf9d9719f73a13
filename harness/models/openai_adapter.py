"""OpenAI and OpenAI-compatible endpoints (vLLM, Ollama, llama.cpp) through the official SDK.

Retries, exponential backoff and `Retry-After` are the SDK's own (`max_retries`). We use the
SDK's aiohttp transport, send the JSON body we built through the client's own `post` (the SDK's
documented call for requests it has no typed method for) and read the raw response body with
orjson, instead of having the SDK transform typed parameters and build pydantic response
objects: on a 2-core machine the per-request CPU cost is what bounds throughput, and this
more than halves it without leaving the SDK's request, retry and error machinery.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Sequence
from typing import Any, Literal
from urllib.parse import quote, urlsplit, urlunsplit

import httpx2
import openai
import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from harness.errors import RunError, UsageError
from harness.models.base import (
    Capabilities,
    ErrorInfo,
    GenerationRequest,
    GenerationResponse,
    ModelAdapter,
    Usage,
)
from harness.models.registry import DEADLINE_TIMEOUTS, AdapterSettings
from harness.models.resolve import ResolvedModel

OPENAI_DEFAULT_BASE_URL = "https://api.openai.com/v1"
# Fields of a model description that change when different weights are served under one name.
# (`created` is left out: vLLM reports the time of the request.)
SERVER_IDENTITY_FIELDS = ("root", "parent", "max_model_len")


class OpenAIOptions(BaseModel):
    """`options:` accepted by OpenAI-compatible models in a suite."""

    model_config = ConfigDict(extra="forbid")

    max_tokens_param: Literal["max_tokens", "max_completion_tokens"] = Field(
        default="max_tokens", description="Name under which max_tokens is sent (o-series models need max_completion_tokens)."
    )
    extra_body: dict[str, Any] = Field(default_factory=dict, description="Extra JSON fields sent verbatim (e.g. vLLM's top_k).")
    headers: dict[str, str] = Field(default_factory=dict, description="Extra HTTP headers (never written to the run directory).")


def redact_url(url: str) -> str:
    """The URL without credentials or query string, safe to write to run.json."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path.rstrip("/"), "", ""))


def _transport_failure(exc: BaseException) -> BaseException | None:
    """The aiohttp connection failure behind an SDK error, if any.

    The SDK's aiohttp transport maps every aiohttp connection error (refused, reset,
    server disconnected) to a connect *timeout*; walk the cause chain to tell them apart,
    since an unreachable endpoint must fail fast rather than look like a slow one.
    """
    import aiohttp

    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, aiohttp.ClientConnectionError) and not isinstance(
            seen, (aiohttp.ServerTimeoutError, aiohttp.SocketTimeoutError)
        ):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def _classify(exc: Exception) -> ErrorInfo:
    message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if isinstance(exc, openai.APIConnectionError):
        failure = _transport_failure(exc)
        if failure is not None:
            return ErrorInfo(kind="connection", message=f"{type(failure).__name__}: {failure}"[:500])
        if isinstance(exc, openai.APITimeoutError):
            return ErrorInfo(kind="timeout", message=message)
        cause = exc.__cause__
        detail = f": {cause}" if cause else ""
        return ErrorInfo(kind="connection", message=f"{message}{detail}"[:500])
    if isinstance(exc, openai.APIStatusError):
        body = exc.body if isinstance(exc.body, dict) else {}
        if isinstance(body.get("message"), str) and body["message"]:
            # The server's own words, not the SDK's "Error code: 500 - {...}" dump of the body.
            message = f"HTTP {exc.status_code}: {' '.join(body['message'].split())}"[:500]
        return classify_status(exc.status_code, str(body.get("code") or ""), message)
    return ErrorInfo(kind="other", message=f"{type(exc).__name__}: {message}")


def classify_status(status: int, code: str, message: str) -> ErrorInfo:
    """The error kind of an HTTP error answer (direct, or one line of a batch's results)."""
    lowered = message.lower()
    if status == 429:
        return ErrorInfo(kind="rate_limit", message=message, status=status)
    if status >= 500:
        return ErrorInfo(kind="server_error", message=message, status=status)
    if code == "context_length_exceeded" or "context length" in lowered or "too many tokens" in lowered:
        return ErrorInfo(kind="context_length", message=message, status=status)
    if "content_filter" in code or "content_policy" in code or "content management policy" in lowered:
        return ErrorInfo(kind="content_filter", message=message, status=status)
    if status in (401, 403):
        return ErrorInfo(kind="auth", message=message, status=status)
    if status == 404:
        return ErrorInfo(kind="not_found", message=message, status=status)
    return ErrorInfo(kind="bad_request", message=message, status=status)


def _parse_logprobs(choice: dict[str, Any]) -> list[dict[str, float]] | None:
    content = (choice.get("logprobs") or {}).get("content")
    if not content:
        return None
    tokens: list[dict[str, float]] = []
    for item in content:
        top = {alt["token"]: float(alt["logprob"]) for alt in item.get("top_logprobs") or []}
        top.setdefault(item["token"], float(item["logprob"]))
        tokens.append(top)
    return tokens


def parse_completion(body: bytes) -> GenerationResponse:
    """A chat completion body as a response; malformed bodies become `invalid_response` errors."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        snippet = body[:120].decode("utf-8", "replace")
        return GenerationResponse(None, ErrorInfo(kind="invalid_response", message=f"malformed response ({exc!r}): {snippet}"))
    return completion_response(data, body)


def completion_response(data: Any, body: bytes | None = None) -> GenerationResponse:
    """A decoded chat completion as a response (a batch's output lines arrive decoded)."""
    try:
        choice = data["choices"][0]
        message = choice.get("message") or {}
        content = message.get("content")
        if content is None:
            content = message.get("refusal") or ""
        usage = data.get("usage") or {}
        finish = choice.get("finish_reason")
        logprobs = _parse_logprobs(choice)
    except (KeyError, IndexError, TypeError, AttributeError) as exc:
        snippet = (body if body is not None else orjson.dumps(data))[:120].decode("utf-8", "replace")
        return GenerationResponse(None, ErrorInfo(kind="invalid_response", message=f"malformed response ({exc!r}): {snippet}"))
    if finish == "content_filter" and not content:
        return GenerationResponse(None, ErrorInfo(kind="content_filter", message="the endpoint filtered the output"))
    if not isinstance(content, str):
        return GenerationResponse(None, ErrorInfo(kind="invalid_response", message="message content is not text"))
    return GenerationResponse(
        content,
        usage=Usage(usage.get("prompt_tokens"), usage.get("completion_tokens")),
        finish_reason=finish,
        logprobs=logprobs,
    )


class OpenAIAdapter:
    """One model on one OpenAI-compatible endpoint."""

    def __init__(self, model: ResolvedModel, settings: AdapterSettings) -> None:
        try:
            self.options = OpenAIOptions.model_validate(model.config.options)
        except ValidationError as exc:
            first = exc.errors()[0]
            raise UsageError(
                f"model '{model.name}': options.{'.'.join(map(str, first['loc']))}: {first['msg']}"
            ) from None
        self.model = model
        self.model_id = model.spec.target
        env_base = os.environ.get("OPENAI_BASE_URL") or None
        self.base_url = (model.config.base_url or env_base or OPENAI_DEFAULT_BASE_URL).rstrip("/")
        parts = urlsplit(self.base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UsageError(f"model '{model.name}': base URL '{redact_url(self.base_url)}' is not an http(s) URL")
        if parts.username or parts.password:
            raise UsageError(
                f"model '{model.name}': the base URL embeds credentials; pass the key through api_key_env "
                "(or options.headers) so it never lands in a file"
            )
        key_env = model.config.api_key_env or "OPENAI_API_KEY"
        api_key = os.environ.get(key_env)
        if not api_key:
            if model.config.api_key_env:
                raise UsageError(f"model '{model.name}': environment variable {key_env} (api_key_env) is not set")
            if urlsplit(self.base_url).hostname == "api.openai.com":
                raise UsageError(
                    f"model '{model.name}' calls api.openai.com but OPENAI_API_KEY is not set "
                    "(export it, or point OPENAI_BASE_URL / base_url at a compatible server)"
                )
            api_key = "not-needed"  # local servers (vLLM, Ollama) accept any key
        self._api_key = api_key
        self.timeout = model.config.timeout or settings.timeout
        self.max_retries = model.config.max_retries if model.config.max_retries is not None else settings.max_retries
        self.deadline = settings.max_request_time or DEADLINE_TIMEOUTS * self.timeout
        self._capabilities = Capabilities(
            max_batch_size=1,
            max_concurrency=model.config.concurrency or settings.concurrency,
            cacheable=True,
            logprobs=True,
        )
        self._client: openai.AsyncOpenAI | None = None
        self._fingerprint: str | None = None

    @property
    def fingerprint(self) -> str:
        if self._fingerprint is None:  # asked once per request by the judge's cache keys: parse the URL once
            self._fingerprint = f"openai:{self.model_id}@{redact_url(self.base_url)}"
        return self._fingerprint

    @property
    def capabilities(self) -> Capabilities:
        return self._capabilities

    def server_description(self, timeout: float = 3.0) -> dict[str, Any] | None:
        """What the server says it serves under this name (`GET /models/{id}`), reduced to the fields
        that identify weights: vLLM's `root` (the base path) and `parent` (the LoRA adapter), and
        `max_model_len`. None when the server does not answer (many do not implement it)."""
        # One small synchronous GET before the run starts; the standard library suffices.
        import urllib.error
        import urllib.request

        url = f"{self.base_url}/models/{quote(self.model_id, safe='')}"
        headers = {"Authorization": f"Bearer {self._api_key}", **self.options.headers}
        try:
            with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout) as response:
                data = orjson.loads(response.read())
        except (urllib.error.URLError, OSError, ValueError, orjson.JSONDecodeError):
            return None  # 404, no such route, unreachable: the run itself will say what is wrong
        if not isinstance(data, dict):
            return None
        described = {key: data[key] for key in SERVER_IDENTITY_FIELDS if data.get(key) is not None}
        return described or None

    @property
    def api_key_env(self) -> str:
        """The environment variable the API key is read from (what a later `harness batch` call needs)."""
        return self.model.config.api_key_env or "OPENAI_API_KEY"

    def client(self) -> openai.AsyncOpenAI:
        """The SDK client of the running event loop (the Batch API's calls go through it too)."""
        return self._get_client()

    def sync_client(self, timeout: float | None = None) -> openai.OpenAI:
        """A blocking SDK client with the same endpoint, key and headers (checks before a run starts)."""
        return openai.OpenAI(api_key=self._api_key, base_url=self.base_url, max_retries=self.max_retries,
                             timeout=timeout or self.timeout, default_headers=self.options.headers or None)

    def request_body(self, request: GenerationRequest) -> dict[str, Any]:
        """The chat completions body of a request, extra_body included, as a batch line carries it."""
        body = self._body(request)
        body.update(self.options.extra_body)
        return body

    def _get_client(self) -> openai.AsyncOpenAI:
        # Created lazily so it binds to the running event loop.
        if self._client is None:
            self._client = openai.AsyncOpenAI(
                api_key=self._api_key,
                base_url=self.base_url,
                max_retries=self.max_retries,
                timeout=self.timeout,
                default_headers=self.options.headers or None,
                http_client=openai.DefaultAioHttpClient(timeout=self.timeout),
            )
        return self._client

    def _body(self, request: GenerationRequest) -> dict[str, Any]:
        params = request.params.request_dict()
        if "max_tokens" in params and self.options.max_tokens_param != "max_tokens":
            params[self.options.max_tokens_param] = params.pop("max_tokens")
        body: dict[str, Any] = {"model": self.model_id, "messages": request.messages, **params}
        if request.logprobs:
            body["logprobs"] = True
            body["top_logprobs"] = request.logprobs
        return body

    async def _one(self, request: GenerationRequest) -> GenerationResponse:
        client = self._get_client()
        body = self.request_body(request)
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self.deadline):
                raw = await client.post("/chat/completions", cast_to=httpx2.Response, body=body)
                payload = raw.content
        except openai.APIError as exc:
            error = _classify(exc)
            if error.kind in ("auth", "not_found"):
                raise RunError(self._fatal_message(error)) from None
            return GenerationResponse(None, error, latency_s=time.perf_counter() - started)
        except TimeoutError:
            message = f"no answer within {self.deadline:g} s, retries included (--max-request-time)"
            return GenerationResponse(None, ErrorInfo(kind="timeout", message=message), latency_s=time.perf_counter() - started)
        response = parse_completion(payload)
        response.latency_s = time.perf_counter() - started
        return response

    def _fatal_message(self, error: ErrorInfo) -> str:
        where = redact_url(self.base_url)
        if error.kind == "auth":
            return (
                f"model '{self.model.name}': {where} rejected the API key (HTTP {error.status}); "
                f"check {self.model.config.api_key_env or 'OPENAI_API_KEY'}"
            )
        return (
            f"model '{self.model.name}': {where} answered 404 for model '{self.model_id}' "
            f"(wrong model name or base URL?): {error.message}"
        )

    async def generate(self, requests: Sequence[GenerationRequest]) -> list[GenerationResponse]:
        return [await self._one(request) for request in requests]

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None


def build_adapters(models: Sequence[ResolvedModel], settings: AdapterSettings) -> list[ModelAdapter]:
    return [OpenAIAdapter(model, settings) for model in models]
