"""The adapter protocol and the request/response types that cross it.

Every model kind (OpenAI-compatible endpoint, local Hugging Face model, saved predictions,
answers recorded in an earlier run)
implements `ModelAdapter`. The runner hands an adapter batches of at most
`capabilities.max_batch_size` requests and keeps at most `capabilities.max_concurrency`
batches in flight, so an HTTP adapter (batch 1, many in flight) and a local model
(large batches, one at a time) share one scheduling loop.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field
from typing_extensions import TypedDict


class ChatMessage(TypedDict):
    role: str
    content: str


class GenerationParams(BaseModel):
    """Sampling parameters; `None` means "the endpoint's default"."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    temperature: float | None = Field(default=None, ge=0, le=2, description="Sampling temperature; 0 is greedy.")
    max_tokens: int | None = Field(default=None, gt=0, description="Upper bound on generated tokens.")
    top_p: float | None = Field(default=None, gt=0, le=1, description="Nucleus sampling mass.")
    seed: int | None = Field(default=None, description="Sampling seed, where the backend honours one.")
    stop: list[str] | None = Field(default=None, description="Stop sequences; the output is cut before them.")

    def merged(self, override: GenerationParams | None) -> GenerationParams:
        """These parameters with every field that `override` sets replacing ours."""
        if override is None:
            return self
        values = self.model_dump()
        values.update(override.model_dump(exclude_unset=True))
        return GenerationParams(**values)

    def request_dict(self) -> dict[str, Any]:
        """Only the parameters that are set, as sent to a backend and hashed into cache keys."""
        return {k: v for k, v in self.model_dump().items() if v is not None}


@dataclass(slots=True)
class GenerationRequest:
    """One prompt to send. `key` identifies it within a run (case id, repeat index)."""

    case_id: str
    repeat: int
    messages: list[ChatMessage]
    params: GenerationParams
    logprobs: int | None = None  # ask for top-k logprobs of generated tokens (judges use it)


ErrorKind = Literal[
    "connection",
    "timeout",
    "rate_limit",
    "server_error",
    "bad_request",
    "context_length",
    "content_filter",
    "auth",
    "not_found",
    "invalid_response",
    "missing_prediction",
    "stale",
    "generation",
    "batch_expired",  # the Batch API's 24 h window ended before the request ran
    "batch_cancelled",  # its batch was cancelled before the request ran
    "batch_failed",  # its batch was rejected (validation) or the request could not go into one
    "other",
]


class ErrorInfo(BaseModel):
    """Why a request produced no output. Errors are counted apart from failed checks."""

    model_config = ConfigDict(frozen=True)

    kind: ErrorKind = Field(description="Category used for counting and for abort rules.")
    message: str = Field(description="One line, as reported by the backend.")
    status: int | None = Field(default=None, description="HTTP status, when there was one.")


@dataclass(slots=True)
class Usage:
    prompt_tokens: int | None = None
    completion_tokens: int | None = None


@dataclass(slots=True)
class GenerationResponse:
    """The outcome of one request: an output or an error, never both."""

    output: str | None
    error: ErrorInfo | None = None
    usage: Usage = field(default_factory=Usage)
    latency_s: float | None = None
    finish_reason: str | None = None
    cached: bool = False
    # Top logprobs of the generated tokens, when requested and returned:
    # a list per token of {token: logprob} for the top-k alternatives.
    logprobs: list[dict[str, float]] | None = None
    batch_id: str | None = None  # the Batch API batch that answered it (priced at the batch rate)

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True, slots=True)
class Capabilities:
    max_batch_size: int = 1
    max_concurrency: int = 16
    cacheable: bool = True  # False for adapters whose answers cost nothing to reproduce
    logprobs: bool = False


@runtime_checkable
class ModelAdapter(Protocol):
    """What the runner needs from a model."""

    @property
    def fingerprint(self) -> str:
        """Identifies the model exactly (name, endpoint, weights hash...); part of every cache key."""
        ...

    @property
    def capabilities(self) -> Capabilities: ...

    async def generate(self, requests: Sequence[GenerationRequest]) -> list[GenerationResponse]:
        """Answer a batch, in order. Per-request failures are returned as `ErrorInfo`, not raised;
        raise `RunError` only for failures that make the whole run pointless (bad credentials)."""
        ...

    async def aclose(self) -> None:
        """Release connections and memory. Called once, before the event loop ends."""
        ...


@runtime_checkable
class RecordedSource(Protocol):
    """Optional, for adapters that answer from answers recorded elsewhere (`run:` models): what
    run.json records about the source, and what the run should say about the answers it used."""

    def describe(self) -> dict[str, Any]:
        """The `recorded` entry of the model in run.json."""
        ...

    def warnings(self) -> list[str]:
        """Lines printed after the run (for example, stale answers used anyway)."""
        ...
