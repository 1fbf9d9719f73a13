"""The `hf:` model adapter: batches of requests to one model on a shared base.

A runner batch holds up to `SORT_WINDOW` generation batches. Its prompts are sorted by token
length so each generation batch pads little, decoded in batches of `options.batch_size`, and
the answers are put back in request order. Generation is blocking CPU/GPU work: it runs in a
worker thread, holding the base's lock for the whole runner batch because adapter switching
is state on the shared model.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

import orjson

from harness.errors import RunError
from harness.models.base import (
    Capabilities,
    ErrorInfo,
    GenerationParams,
    GenerationRequest,
    GenerationResponse,
    Usage,
)
from harness.models.hf.batching import SORT_WINDOW, BatchPlan
from harness.models.hf.engine import DecodeSettings, GenerationOutOfMemory, LoadError, SharedBase, first_line
from harness.models.hf.options import HFOptions
from harness.models.hf.prompts import PromptError, PromptFormat, prompt_format
from harness.models.resolve import ResolvedModel


@dataclass
class _Pending:
    index: int
    request: GenerationRequest
    prompt: str
    tokens: int


def _seed(params: GenerationParams, rows: Sequence[_Pending]) -> int:
    """A sampling seed from the suite's seed and the requests in the batch, so repeats differ."""
    payload = orjson.dumps([params.seed or 0, [(row.request.case_id, row.request.repeat) for row in rows]])
    return int.from_bytes(hashlib.sha256(payload).digest()[:8], "little") & 0x7FFF_FFFF_FFFF_FFFF


class HFModelAdapter:
    """One `hf:` model: a base, plus the adapters (if any) switched on for its batches."""

    def __init__(
        self, model: ResolvedModel, options: HFOptions, shared: SharedBase, adapter_names: tuple[str, ...], fingerprint: str
    ) -> None:
        self.model = model
        self.options = options
        self.shared = shared
        self.adapter_names = adapter_names
        self._fingerprint = fingerprint
        self._format: PromptFormat | None = None
        self._cancelled = threading.Event()
        self._closed = False
        shared.users += 1

    @property
    def fingerprint(self) -> str:
        return self._fingerprint

    @property
    def capabilities(self) -> Capabilities:
        return Capabilities(max_batch_size=self.options.batch_size * SORT_WINDOW, max_concurrency=1, cacheable=True)

    async def generate(self, requests: Sequence[GenerationRequest]) -> list[GenerationResponse]:
        try:
            return await asyncio.to_thread(self._generate_blocking, list(requests))
        except asyncio.CancelledError:
            self._cancelled.set()  # the thread cannot be interrupted: make its decoding loop stop early
            raise

    def generate_sync(self, requests: Sequence[GenerationRequest]) -> list[GenerationResponse]:
        """`generate` in the calling thread (a Ray actor answers its batches with it)."""
        return self._generate_blocking(list(requests))

    def plan(self, requests: Sequence[GenerationRequest]) -> BatchPlan:
        """The generation batches `generate` decodes for this runner batch, without decoding them.

        Each batch answered on its own by `generate_sync` is decoded exactly as inside the
        runner batch (same rows, order and padding), which is what lets Ray actors share the
        batches of one runner batch and still give the single-process answers."""
        responses: list[GenerationResponse | None] = [None] * len(requests)
        with self.shared.lock:
            prompt = self._load()
            groups = self._groups(self._pending(list(requests), prompt, responses), prompt, responses)
        size = self.options.batch_size
        batches = [[row.index for row in rows[start : start + size]] for _, rows in groups for start in range(0, len(rows), size)]
        return BatchPlan(batches, {index: response for index, response in enumerate(responses) if response is not None})

    def load(self) -> None:
        """Load the base and its adapters now instead of on the first batch. Raises RunError."""
        with self.shared.lock:
            self._load()

    def _load(self) -> PromptFormat:
        """Load the base (first call) and resolve the prompt format. Call with the base's lock held."""
        try:
            self.shared.ensure_loaded()
            return self._prompt_format()
        except (LoadError, ValueError) as exc:
            raise RunError(f"model '{self.model.name}': {exc}") from None

    def _pending(
        self, requests: list[GenerationRequest], prompt: PromptFormat, responses: list[GenerationResponse | None]
    ) -> list[_Pending]:
        """Rendered prompts with their token counts; a conversation the template refuses is answered with an error."""
        pending: list[_Pending] = []
        for index, request in enumerate(requests):
            try:
                pending.append(_Pending(index, request, prompt.render(request.messages, self.shared.tokenizer), 0))
            except PromptError as exc:
                responses[index] = GenerationResponse(None, ErrorInfo(kind="bad_request", message=str(exc)))
        counts = self.shared.token_counts([p.prompt for p in pending], prompt.add_special_tokens) if pending else []
        for row, count in zip(pending, counts, strict=True):
            row.tokens = count
        return pending

    def _generate_blocking(self, requests: list[GenerationRequest]) -> list[GenerationResponse]:
        responses: list[GenerationResponse | None] = [None] * len(requests)
        with self.shared.lock:
            prompt = self._load()
            for settings, rows in self._groups(self._pending(requests, prompt, responses), prompt, responses):
                for start in range(0, len(rows), self.options.batch_size):
                    if self._cancelled.is_set():
                        break
                    self._run_batch(rows[start : start + self.options.batch_size], settings, prompt, responses)
        cancelled = GenerationResponse(None, ErrorInfo(kind="other", message="not generated: the run was cancelled or the model closed"))
        return [response or cancelled for response in responses]

    def _prompt_format(self) -> PromptFormat:
        if self._format is None:
            has_template = bool(getattr(self.shared.tokenizer, "chat_template", None))
            self._format = prompt_format(self.options, has_template)
        return self._format

    def _groups(
        self, pending: list[_Pending], prompt: PromptFormat, responses: list[GenerationResponse | None]
    ) -> list[tuple[DecodeSettings, list[_Pending]]]:
        """Rows sharing decode settings, each group sorted by prompt length; too-long prompts answered with an error."""
        limit = self.shared.max_positions
        groups: dict[DecodeSettings, list[_Pending]] = {}
        for row in pending:
            params = row.request.params
            max_new = params.max_tokens or self.options.max_new_tokens
            if limit is not None:
                if row.tokens >= limit:
                    message = f"the prompt has {row.tokens} tokens; the model's context is {limit}"
                    responses[row.index] = GenerationResponse(None, ErrorInfo(kind="context_length", message=message))
                    continue
                max_new = min(max_new, limit - row.tokens)
            settings = DecodeSettings(
                max_new_tokens=max_new,
                temperature=params.temperature,
                top_p=params.top_p,
                seed=params.seed or 0,
                stop=tuple(params.stop or ()) + prompt.implicit_stops,
            )
            groups.setdefault(settings, []).append(row)
        return [(settings, sorted(rows, key=lambda r: r.tokens)) for settings, rows in groups.items()]

    def _run_batch(
        self, rows: list[_Pending], settings: DecodeSettings, prompt: PromptFormat, responses: list[GenerationResponse | None]
    ) -> None:
        if settings.sampling:
            settings = DecodeSettings(
                settings.max_new_tokens, settings.temperature, settings.top_p, _seed(rows[0].request.params, rows), settings.stop
            )
        started = time.perf_counter()
        try:
            outputs = self.shared.generate(
                self.adapter_names,
                [r.prompt for r in rows],
                prompt.add_special_tokens,
                settings,
                self._cancelled.is_set,
                self.options.threads,
            )
        except GenerationOutOfMemory as exc:
            message = (
                f"out of memory generating {len(rows)} prompts on {self.shared.device}; "
                f"lower options.batch_size (now {self.options.batch_size}): {exc}"
            )
            for row in rows:
                responses[row.index] = GenerationResponse(None, ErrorInfo(kind="generation", message=message[:500]))
            return
        except Exception as exc:  # a per-batch failure must not take the other models down
            message = f"{type(exc).__name__}: {first_line(exc)}"[:500]
            for row in rows:
                responses[row.index] = GenerationResponse(None, ErrorInfo(kind="generation", message=message))
            return
        # Every answer of a batch arrives together: its latency is the batch's.
        latency = time.perf_counter() - started
        for row, output in zip(rows, outputs, strict=True):
            responses[row.index] = GenerationResponse(
                output.text,
                usage=Usage(output.prompt_tokens, output.completion_tokens),
                latency_s=latency,
                finish_reason=output.finish_reason,
            )

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._cancelled.set()
        await asyncio.to_thread(self._release)

    def _release(self) -> None:
        with self.shared.lock:
            self.shared.release()
