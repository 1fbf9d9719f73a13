"""`predictions:<file.jsonl>`: score outputs produced elsewhere, matched to cases by id."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson

from harness.errors import Diagnostic, SuiteError, UsageError
from harness.models.base import (
    Capabilities,
    ErrorInfo,
    GenerationRequest,
    GenerationResponse,
    ModelAdapter,
    Usage,
)
from harness.models.registry import AdapterSettings
from harness.models.resolve import ResolvedModel


def _read(path: Path, shown: str) -> dict[str, dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    problems: list[Diagnostic] = []
    with path.open("rb") as handle:
        for line_no, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                row = orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                problems.append(Diagnostic(shown, f"invalid JSON: {exc.args[0]}", line_no))
                continue
            if not isinstance(row, dict) or "id" not in row:
                problems.append(Diagnostic(shown, 'each line needs {"id": ..., "output": ...}', line_no))
                continue
            output = row.get("output")
            if output is not None and not isinstance(output, str):
                problems.append(Diagnostic(shown, "`output` must be a string or null", line_no))
                continue
            case_id = str(row["id"])
            if case_id in rows:
                problems.append(Diagnostic(shown, f"duplicate id '{case_id}'", line_no))
                continue
            rows[case_id] = row
            if len(problems) >= 20:
                break
    if problems:
        raise SuiteError(problems)
    return rows


class PredictionsAdapter:
    def __init__(self, model: ResolvedModel) -> None:
        path = model.resolve_path(model.spec.target)
        if not path.is_file():
            raise UsageError(f"model '{model.name}': predictions file '{model.spec.target}' not found (looked at {path})")
        self.path = path
        data = path.read_bytes()
        self._digest = hashlib.sha256(data).hexdigest()[:16]
        self.rows = _read(path, model.spec.target)

    @property
    def fingerprint(self) -> str:
        return f"predictions:{self.path.resolve()}#{self._digest}"

    @property
    def capabilities(self) -> Capabilities:
        return Capabilities(max_batch_size=10_000, max_concurrency=1, cacheable=False)

    def missing(self, case_ids: Sequence[str]) -> list[str]:
        return [case_id for case_id in case_ids if case_id not in self.rows]

    async def generate(self, requests: Sequence[GenerationRequest]) -> list[GenerationResponse]:
        responses = []
        for request in requests:
            row = self.rows.get(request.case_id)
            if row is None:
                error = ErrorInfo(kind="missing_prediction", message=f"no line with id '{request.case_id}' in {self.path.name}")
                responses.append(GenerationResponse(None, error))
                continue
            if row.get("output") is None:
                message = str(row.get("error") or "prediction has no output")
                responses.append(GenerationResponse(None, ErrorInfo(kind="generation", message=message)))
                continue
            usage = row.get("usage") or {}
            responses.append(
                GenerationResponse(
                    row["output"],
                    usage=Usage(usage.get("prompt_tokens"), usage.get("completion_tokens")),
                    latency_s=row.get("latency_s"),
                )
            )
        return responses

    async def aclose(self) -> None:
        return None


def build_adapters(models: Sequence[ResolvedModel], settings: AdapterSettings) -> list[ModelAdapter]:
    return [PredictionsAdapter(model) for model in models]
