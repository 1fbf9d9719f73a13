"""The SDK's Batch API calls for one endpoint, with failures as one-line errors naming the model.

Everything goes through the official client: `files.create(purpose="batch")`,
`batches.create(endpoint="/v1/chat/completions", completion_window="24h")`, `batches.retrieve`
(polled with backoff by the broker), `files.content`, `batches.cancel` and `batches.list`.
The SDK retries rate limits, 5xx and dropped connections itself (`max_retries`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import openai
from openai.types import Batch

from harness.errors import RunError, UsageError
from harness.run.batch.files import ENDPOINT

TRANSFER_TIMEOUT_S = 600.0  # uploads and downloads of files up to 200 MB
POLL_ENV = "HARNESS_BATCH_POLL"


@dataclass(frozen=True)
class Polling:
    """Seconds between status checks: `first`, growing by `factor` up to `longest`."""

    first: float = 5.0
    longest: float = 60.0
    factor: float = 1.5

    @staticmethod
    def from_env() -> Polling:
        """$HARNESS_BATCH_POLL=FIRST[,LONGEST] overrides the defaults (seconds)."""
        text = os.environ.get(POLL_ENV, "").strip()
        if not text:
            return Polling()
        try:
            parts = [float(part) for part in text.split(",")]
        except ValueError:
            raise UsageError(f"{POLL_ENV}={text!r}: give seconds as FIRST or FIRST,LONGEST (e.g. 5,60)") from None
        first = parts[0]
        longest = parts[1] if len(parts) > 1 else max(first, Polling.longest)
        if first <= 0 or longest < first or len(parts) > 2:
            raise UsageError(f"{POLL_ENV}={text!r}: FIRST must be above 0 and LONGEST at least FIRST")
        return Polling(first, longest)


def api_message(exc: openai.APIError) -> str:
    """The first line of what the API said."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:300]


def error_lines(batch: Batch, limit: int = 5) -> list[str]:
    """The API's validation errors of a failed batch, one line each."""
    data = (batch.errors.data if batch.errors is not None else None) or []
    lines = []
    for error in data[:limit]:
        where = f"line {error.line}: " if error.line is not None else ""
        lines.append(f"{where}{error.code or 'error'}: {error.message or ''}".strip())
    if len(data) > limit:
        lines.append(f"... and {len(data) - limit} more")
    return lines or ["no reason given"]


class BatchRejected(RunError):
    """The API refused to create a batch (so none exists)."""


class BatchClient:
    """Batch API calls on one model's endpoint; `who` names the model in every error."""

    def __init__(self, client: openai.AsyncOpenAI, who: str, where: str) -> None:
        self.client = client
        self.who = who
        self.where = where

    def _failure(self, action: str, exc: openai.APIError) -> RunError:
        if isinstance(exc, openai.NotFoundError | openai.UnprocessableEntityError) and action in ("upload", "create"):
            return RunError(f"{self.who}: {self.where} has no Batch API ({action} answered "
                            f"{getattr(exc, 'status_code', '?')}); run it without --batch / batch: true")
        if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
            return RunError(f"{self.who}: {self.where} rejected the API key while trying to {action} a batch")
        return RunError(f"{self.who}: cannot {action} a batch at {self.where}: {api_message(exc)}")

    async def upload(self, data: bytes, name: str) -> str:
        try:
            created = await self.client.files.create(
                file=(name, data, "application/jsonl"), purpose="batch", timeout=TRANSFER_TIMEOUT_S
            )
        except openai.APIError as exc:
            raise self._failure("upload", exc) from None
        return created.id

    async def create(self, input_file_id: str, metadata: dict[str, str]) -> Batch:
        try:
            return await self.client.batches.create(
                input_file_id=input_file_id, endpoint=ENDPOINT, completion_window="24h", metadata=metadata
            )
        except openai.APIStatusError as exc:
            raise BatchRejected(self._failure("create", exc).message) from None
        except openai.APIError as exc:
            raise self._failure("create", exc) from None

    async def retrieve(self, batch_id: str) -> Batch:
        """One status check; raises the SDK's error once its own retries are spent."""
        return await self.client.batches.retrieve(batch_id)

    async def content(self, file_id: str) -> bytes:
        try:
            response = await self.client.files.content(file_id, timeout=TRANSFER_TIMEOUT_S)
        except openai.APIError as exc:
            raise self._failure("download the results of", exc) from None
        return response.content

    async def cancel(self, batch_id: str) -> Batch:
        try:
            return await self.client.batches.cancel(batch_id)
        except openai.APIError as exc:
            raise self._failure("cancel", exc) from None

    async def find_by_input_file(self, input_file_id: str, since: float) -> Batch | None:
        """The batch created from this input file, among those created after `since` (newest first)."""
        try:
            async for batch in self.client.batches.list(limit=100):
                if batch.input_file_id == input_file_id:
                    return batch
                if batch.created_at < since:
                    return None
        except openai.APIError as exc:
            raise self._failure("list", exc) from None
        return None
