"""The OpenAI adapter against a real local HTTP server, with the real openai client."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

from harness.errors import RunError, UsageError
from harness.models.base import GenerationParams, GenerationRequest, GenerationResponse
from harness.models.openai_adapter import OpenAIAdapter
from harness.models.registry import AdapterSettings
from harness.models.resolve import ResolvedModel
from harness.models.spec import parse_spec
from harness.suite.schema import ModelConfig
from harness.testing import FakeOpenAIServer, Fault, Reply
from harness.testing.fake_server import fault_script


def adapter_for(server: FakeOpenAIServer | None, spec: str = "openai:test-model", **config: Any) -> OpenAIAdapter:
    settings = AdapterSettings(concurrency=4, timeout=config.pop("timeout", 5.0), max_retries=config.pop("max_retries", 2))
    if server is not None:
        config.setdefault("base_url", server.base_url)
    model = ResolvedModel("m", parse_spec(spec), ModelConfig(spec=spec, **config), GenerationParams(), Path.cwd())
    return OpenAIAdapter(model, settings)


def ask(adapter: OpenAIAdapter, *requests: GenerationRequest) -> list[GenerationResponse]:
    async def go() -> list[GenerationResponse]:
        try:
            return await adapter.generate(list(requests) or [request()])
        finally:
            await adapter.aclose()

    return asyncio.run(go())


def request(text: str = "hello", **params: Any) -> GenerationRequest:
    return GenerationRequest("c1", 0, [{"role": "user", "content": text}], GenerationParams(**params))


def test_answer_usage_latency_and_request_body(fake_openai: FakeOpenAIServer) -> None:
    fake_openai.responder = lambda body: Reply("four words long here")
    adapter = adapter_for(fake_openai, options={"extra_body": {"top_k": 5}})
    (response,) = ask(adapter, request("two words", temperature=0, max_tokens=20, seed=7, stop=["\n"]))
    assert response.output == "four words long here"
    assert response.error is None and response.finish_reason == "stop"
    assert (response.usage.prompt_tokens, response.usage.completion_tokens) == (2, 4)
    assert response.latency_s is not None and response.latency_s > 0
    body = fake_openai.requests[0]
    assert body["model"] == "test-model"
    assert body["messages"] == [{"role": "user", "content": "two words"}]
    assert (body["temperature"], body["max_tokens"], body["seed"], body["stop"], body["top_k"]) == (0, 20, 7, ["\n"], 5)
    assert "top_p" not in body  # unset parameters are not sent


def test_max_completion_tokens_option(fake_openai: FakeOpenAIServer) -> None:
    adapter = adapter_for(fake_openai, options={"max_tokens_param": "max_completion_tokens"})
    ask(adapter, request(max_tokens=9))
    assert fake_openai.requests[0]["max_completion_tokens"] == 9 and "max_tokens" not in fake_openai.requests[0]


def test_429_with_retry_after_is_retried_after_the_delay(fake_openai: FakeOpenAIServer) -> None:
    fake_openai.faults = fault_script([Fault(status=429, retry_after=0.6)])
    started = time.perf_counter()
    (response,) = ask(adapter_for(fake_openai))
    elapsed = time.perf_counter() - started
    assert response.output == "echo: hello"
    assert fake_openai.request_count == 2
    assert elapsed >= 0.6


def test_persistent_429_ends_as_rate_limit_error_after_the_retries(fake_openai: FakeOpenAIServer) -> None:
    fake_openai.faults = lambda index, body: Fault(status=429, retry_after=0.05)
    (response,) = ask(adapter_for(fake_openai, max_retries=2))
    assert response.error is not None and response.error.kind == "rate_limit" and response.error.status == 429
    assert fake_openai.request_count == 3


def test_500_is_retried_then_succeeds(fake_openai: FakeOpenAIServer) -> None:
    fake_openai.faults = fault_script([Fault(status=500), Fault(status=503)])
    (response,) = ask(adapter_for(fake_openai, max_retries=2))
    assert response.output == "echo: hello" and fake_openai.request_count == 3


def test_dropped_connection_is_retried(fake_openai: FakeOpenAIServer) -> None:
    fake_openai.faults = fault_script([Fault(drop=True)])
    (response,) = ask(adapter_for(fake_openai, max_retries=1))
    assert response.output == "echo: hello" and fake_openai.request_count == 2


def test_dropped_connection_every_time_is_a_connection_error(fake_openai: FakeOpenAIServer) -> None:
    fake_openai.faults = lambda index, body: Fault(drop=True)
    (response,) = ask(adapter_for(fake_openai, max_retries=1))
    assert response.error is not None and response.error.kind == "connection"
    assert fake_openai.request_count == 2


def test_slow_response_times_out_without_hanging(fake_openai: FakeOpenAIServer) -> None:
    fake_openai.faults = lambda index, body: Fault(delay=3.0)
    started = time.perf_counter()
    (response,) = ask(adapter_for(fake_openai, timeout=0.3, max_retries=1))
    assert response.error is not None and response.error.kind == "timeout"
    assert fake_openai.request_count == 2
    assert time.perf_counter() - started < 3.0


def test_malformed_json_is_an_invalid_response_error(fake_openai: FakeOpenAIServer) -> None:
    fake_openai.faults = fault_script([Fault(malformed=True)])
    (response,) = ask(adapter_for(fake_openai))
    assert response.error is not None and response.error.kind == "invalid_response"
    assert response.output is None


@pytest.mark.parametrize(
    ("fault", "kind"),
    [
        (Fault(status=400, error_code="context_length_exceeded", message="This model's maximum context length is 8 tokens"), "context_length"),
        (Fault(status=400, error_code="content_filter", message="filtered"), "content_filter"),
        (Fault(status=422, message="bad temperature"), "bad_request"),
    ],
)
def test_request_errors_are_classified_and_not_retried(fake_openai: FakeOpenAIServer, fault: Fault, kind: str) -> None:
    fake_openai.faults = lambda index, body: fault
    (response,) = ask(adapter_for(fake_openai))
    assert response.error is not None and response.error.kind == kind
    assert fake_openai.request_count == 1


def test_content_filter_finish_reason(fake_openai: FakeOpenAIServer) -> None:
    fake_openai.responder = lambda body: Reply("", finish_reason="content_filter")
    (response,) = ask(adapter_for(fake_openai))
    assert response.error is not None and response.error.kind == "content_filter"


@pytest.mark.parametrize(("status", "text"), [(401, "rejected the API key"), (404, "answered 404 for model 'test-model'")])
def test_auth_and_unknown_model_stop_the_run(fake_openai: FakeOpenAIServer, status: int, text: str) -> None:
    fake_openai.faults = lambda index, body: Fault(status=status)
    with pytest.raises(RunError, match=text):
        ask(adapter_for(fake_openai))


def test_logprobs_are_requested_and_parsed(fake_openai: FakeOpenAIServer) -> None:
    fake_openai.responder = lambda body: Reply("A", logprobs={"A": -0.1, "B": -2.5})
    req = request()
    req.logprobs = 5
    (response,) = ask(adapter_for(fake_openai), req)
    assert fake_openai.requests[0]["logprobs"] is True and fake_openai.requests[0]["top_logprobs"] == 5
    assert response.logprobs == [{"A": -0.1, "B": -2.5}]


def test_missing_api_key_for_openai_itself_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="OPENAI_API_KEY is not set"):
        adapter_for(None, spec="gpt-4o-mini")


def test_missing_named_key_variable_is_a_usage_error(fake_openai: FakeOpenAIServer) -> None:
    with pytest.raises(UsageError, match="MY_KEY"):
        adapter_for(fake_openai, api_key_env="MY_KEY")


def test_local_endpoints_need_no_key_and_env_base_url_is_used(fake_openai: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", fake_openai.base_url)
    adapter = adapter_for(None)
    assert adapter.fingerprint == f"openai:test-model@{fake_openai.base_url}"
    assert ask(adapter)[0].output == "echo: hello"


def test_fingerprint_never_contains_credentials() -> None:
    adapter = adapter_for(None, base_url="https://example.test:8443/v1/?token=abc")
    assert adapter.fingerprint == "openai:test-model@https://example.test:8443/v1"
    with pytest.raises(UsageError, match="embeds credentials"):
        adapter_for(None, base_url="https://user:secret@example.test/v1")
    with pytest.raises(UsageError, match="is not an http"):
        adapter_for(None, base_url="ftp://example.test/v1")


def test_unknown_option_is_a_usage_error(fake_openai: FakeOpenAIServer) -> None:
    with pytest.raises(UsageError, match=r"options\.max_token_param"):
        adapter_for(fake_openai, options={"max_token_param": "x"})
