"""What a run will do: the selected cases, the models, and one work item per case x model x repeat."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import Any

from harness.checks import Check, compile_case_checks
from harness.models.base import GenerationRequest
from harness.models.resolve import ResolvedModel
from harness.suite.case import Case


@dataclass(slots=True)
class WorkItem:
    """One request of the run, and where its record sorts in the results."""

    model: str
    case: Case
    checks: list[Check]
    request: GenerationRequest
    order: tuple[int, int, int]  # (model index, case index, repeat)
    key: str | None = None  # cache key, when the model's answers are cacheable
    request_fingerprint: str = ""  # the adapter fingerprint the key was made with


def select_cases(cases: list[Case], filters: list[str], limit: int | None) -> list[Case]:
    """Cases whose id or any tag matches any filter glob, then the first `limit` of them."""
    selected = cases
    if filters:
        selected = [
            case
            for case in cases
            if any(fnmatch.fnmatchcase(case.id, f) or any(fnmatch.fnmatchcase(t, f) for t in case.tags) for f in filters)
        ]
    if limit is not None:
        selected = selected[:limit]
    return selected


def build_work(cases: list[Case], models: list[ResolvedModel], repeat: int) -> list[WorkItem]:
    compiled = [
        compile_case_checks(case.required_patterns, case.forbidden_patterns, case.checks) for case in cases
    ]
    work = []
    for model_index, model in enumerate(models):
        for case_index, case in enumerate(cases):
            for r in range(repeat):
                request = GenerationRequest(case.id, r, case.messages, model.generation)
                work.append(WorkItem(model.name, case, compiled[case_index], request, (model_index, case_index, r)))
    return work


def make_record(item: WorkItem, response: Any) -> dict[str, Any]:
    """The results.jsonl record of one answered (or failed) request."""
    error = response.error
    checks: list[dict[str, Any]] = []
    passed: bool | None = None
    if error is None:
        output = response.output or ""
        results = [check(output) for check in item.checks]
        checks = [r.as_dict() for r in results]
        passed = all(r.passed for r in results)
    case = item.case
    return {
        "case_id": case.id,
        "model": item.model,
        "repeat": item.request.repeat,
        "input": case.input_text,
        "messages": case.messages,
        "references": case.references,
        "tags": case.tags,
        "output": response.output,
        "error": error.model_dump() if error is not None else None,
        "finish_reason": response.finish_reason,
        "usage": {"prompt_tokens": response.usage.prompt_tokens, "completion_tokens": response.usage.completion_tokens},
        "latency_s": response.latency_s,
        "cached": response.cached,
        "batch": response.batch_id,
        "checks": checks,
        "passed": passed,
        "metadata": case.metadata,
    }
