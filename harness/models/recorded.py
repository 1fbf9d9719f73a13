"""`run:<run-dir>[#model]`: a model whose answers are read from an earlier run directory.

A frozen baseline: the answers a model gave when it was recorded, matched to the current
suite's cases by case id and repeat. Nothing is sent anywhere. A case whose messages changed
since the recording (compared by hash) is *stale*: it comes back as an error, so it is neither
scored as an answer nor judged, unless the run allows stale answers. A recording made from a
suite of another name is refused before anything is sent unless the run allows it: a wrong
run directory is by far the likelier cause, and it would only produce missing or stale cases.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from harness.errors import UsageError
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

RUN_FILE = "run.json"  # the run directory's layout (harness.run.store); read here without importing the run layer
RESULTS_FILE = "results.jsonl"


def messages_sha256(messages: Iterable[Any]) -> str:
    """The hash stale detection compares: each message's role and content, in order, as sent."""
    canonical = [{"role": str(m.get("role", "")), "content": str(m.get("content", ""))} for m in messages]
    return hashlib.sha256(orjson.dumps(canonical)).hexdigest()


@dataclass
class RecordedRun:
    """One run directory read back: its run.json and its result records by (model, case id, repeat)."""

    path: Path
    info: dict[str, Any]
    records: dict[tuple[str, str, int], dict[str, Any]] = field(default_factory=dict)

    @property
    def run_id(self) -> str:
        return str(self.info.get("run_id") or self.path.name)

    @property
    def suite_name(self) -> str | None:
        suite = self.info.get("suite") or {}
        return str(suite["name"]) if suite.get("name") is not None else None

    @property
    def models(self) -> list[dict[str, Any]]:
        return [m for m in self.info.get("models") or [] if isinstance(m, dict) and "name" in m]

    @classmethod
    def load(cls, path: Path, shown: str, model_name: str) -> RecordedRun:
        where = f"model '{model_name}': '{shown}'"
        if not path.is_dir():
            what = "is a file" if path.exists() else "does not exist"
            raise UsageError(f"{where} {what}; run: takes a run directory written by `harness run` (looked at {path})")
        run_file = path / RUN_FILE
        if not run_file.is_file():
            raise UsageError(f"{where} is not a run directory (no {RUN_FILE}); give the folder `harness run` wrote")
        try:
            info = orjson.loads(run_file.read_bytes())
        except orjson.JSONDecodeError as exc:
            raise UsageError(f"{run_file}: invalid JSON ({exc.args[0]}); is this run directory intact?") from None
        if not isinstance(info, dict):
            raise UsageError(f"{run_file}: not a run.json (expected an object)")
        results = path / RESULTS_FILE
        if not results.is_file():
            raise UsageError(f"{where} has no {RESULTS_FILE}: the run recorded no answers")
        run = cls(path, info)
        with results.open("rb") as handle:
            for line_no, raw in enumerate(handle, start=1):
                if not raw.strip():
                    continue
                try:
                    record = orjson.loads(raw)
                except orjson.JSONDecodeError:
                    break  # a run killed mid-write leaves at most one torn last line
                if not isinstance(record, dict) or "model" not in record or "case_id" not in record:
                    raise UsageError(f"{results}:{line_no}: not a result record (needs model and case_id)")
                run.records[(str(record["model"]), str(record["case_id"]), int(record.get("repeat") or 0))] = record
        return run

    def model_entry(self, wanted: str | None, shown: str, model_name: str) -> dict[str, Any]:
        """The run.json entry of the recorded model `#wanted` (a name, or a spec only one model has)."""
        models = self.models
        names = [m["name"] for m in models]
        if wanted is None:
            if len(models) == 1:
                return models[0]
            held = ", ".join(names) or "none"
            example = f" e.g. run:{shown}#{names[0]}" if names else ""
            raise UsageError(f"model '{model_name}': run '{shown}' holds {len(models)} models ({held}): add #<model>,{example}")
        by_name = [m for m in models if m["name"] == wanted]
        by_spec = [m for m in models if m.get("spec") == wanted]
        found = by_name or (by_spec if len(by_spec) == 1 else [])
        if not found:
            raise UsageError(
                f"model '{model_name}': run '{shown}' holds no model '{wanted}' (it holds: {', '.join(names) or 'none'})"
            )
        return found[0]


class RecordedRunAdapter:
    """Answers from one model of a recorded run."""

    def __init__(self, model: ResolvedModel, run: RecordedRun, entry: dict[str, Any], allow_stale: bool) -> None:
        self.model = model
        self.run = run
        self.entry = entry
        self.recorded_name = str(entry["name"])
        self.allow_stale = allow_stale
        self.stale_used: list[str] = []  # case ids answered from a stale recording (--allow-stale)

    @property
    def fingerprint(self) -> str:
        """The recorded run's id and the fingerprint the model had when it was recorded."""
        return f"run:{self.run.run_id}#{self.recorded_name}|{self.entry.get('fingerprint') or self.entry.get('spec')}"

    @property
    def capabilities(self) -> Capabilities:
        return Capabilities(max_batch_size=10_000, max_concurrency=1, cacheable=False)

    def describe(self) -> dict[str, Any]:
        """What run.json records about the recording this model reads."""
        return {
            "run_id": self.run.run_id,
            "path": str(self.run.path),
            "model": self.recorded_name,
            "spec": self.entry.get("spec"),
            "base_model": self.entry.get("base_model"),
            "fingerprint": self.entry.get("fingerprint"),
            "suite": self.run.suite_name,
        }

    def _answer(self, request: GenerationRequest) -> GenerationResponse:
        key = (self.recorded_name, request.case_id, request.repeat)
        record = self.run.records.get(key)
        if record is None:
            held = sorted(r for (m, c, r) in self.run.records if m == self.recorded_name and c == request.case_id)
            what = f"repeat {request.repeat} of case '{request.case_id}'" if held else f"case '{request.case_id}'"
            return GenerationResponse(None, ErrorInfo(kind="missing_prediction", message=f"{what} is not in recorded run {self.run.run_id}"))
        recorded_messages = record.get("messages")
        if isinstance(recorded_messages, list) and messages_sha256(recorded_messages) != messages_sha256(request.messages):
            if not self.allow_stale:
                message = f"case '{request.case_id}' changed since run {self.run.run_id} recorded it (--allow-stale uses the old answer)"
                return GenerationResponse(None, ErrorInfo(kind="stale", message=message))
            self.stale_used.append(request.case_id)
        error = record.get("error")
        if error is not None or record.get("output") is None:
            detail = f"{error.get('kind')}: {error.get('message')}" if isinstance(error, dict) else "no output"
            message = f"run {self.run.run_id} recorded no answer ({detail})"
            return GenerationResponse(None, ErrorInfo(kind="generation", message=message[:500]))
        usage = record.get("usage") or {}
        return GenerationResponse(
            str(record["output"]),
            usage=Usage(usage.get("prompt_tokens"), usage.get("completion_tokens")),
            latency_s=record.get("latency_s"),
            finish_reason=record.get("finish_reason"),
            cached=True,  # answered without a request, like a cache hit
        )

    async def generate(self, requests: Sequence[GenerationRequest]) -> list[GenerationResponse]:
        return [self._answer(request) for request in requests]

    def warnings(self) -> list[str]:
        """What the run should say about this model's answers after it has used them."""
        if not self.stale_used:
            return []
        ids = sorted(set(self.stale_used))
        shown = ", ".join(ids[:5]) + (", ..." if len(ids) > 5 else "")
        return [f"model '{self.model.name}': {len(ids)} cases changed since run {self.run.run_id} recorded them "
                f"and were answered from the recording anyway (--allow-stale): {shown}"]

    async def aclose(self) -> None:
        return None


def build_adapters(models: Sequence[ResolvedModel], settings: AdapterSettings) -> list[ModelAdapter]:
    """One adapter per model; a run directory several models read is loaded once."""
    loaded: dict[Path, RecordedRun] = {}
    adapters: list[ModelAdapter] = []
    for model in models:
        path = model.resolve_path(model.spec.target).resolve()
        if path not in loaded:
            loaded[path] = RecordedRun.load(path, model.spec.target, model.name)
        run = loaded[path]
        entry = run.model_entry(model.spec.recorded_model, model.spec.target, model.name)
        recorded_suite = run.suite_name
        other = settings.suite_name is not None and recorded_suite is not None and recorded_suite != settings.suite_name
        if other and not settings.allow_other_suite:
            raise UsageError(
                f"model '{model.name}': run '{model.spec.target}' was recorded from suite '{recorded_suite}', "
                f"not '{settings.suite_name}'; pick the right run directory, or pass --allow-other-suite"
            )
        adapters.append(RecordedRunAdapter(model, run, entry, settings.allow_stale))
    return adapters
