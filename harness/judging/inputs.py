"""What a judge sees of a case and its answers: template variables and an index of result records."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from harness.suite.case import Case


def case_variables(case: Case) -> dict[str, Any]:
    """Template variables from a case: the question (last user turn), the turns before it, the
    system prompt, references and rubric."""
    messages = case.messages
    system = "\n\n".join(m["content"] for m in messages if m["role"] == "system")
    turns = [m for m in messages if m["role"] != "system"]
    last_user = max((i for i, m in enumerate(turns) if m["role"] == "user"), default=len(turns))
    return {
        "question": case.input_text,
        "conversation": [{"role": m["role"], "content": m["content"]} for m in turns[:last_user]],
        "system": system,
        "reference": case.reference or "",
        "references": list(case.references),
        "rubric": case.rubric or "",
    }


class AnswerIndex:
    """Result records by (model, case id, repeat)."""

    def __init__(self, records: Iterable[dict[str, Any]]) -> None:
        self._records: dict[tuple[str, str, int], dict[str, Any]] = {}
        self._repeats: dict[tuple[str, str], list[int]] = {}
        for record in records:
            key = (record["model"], record["case_id"], int(record.get("repeat", 0)))
            self._records[key] = record
            self._repeats.setdefault(key[:2], []).append(key[2])

    def repeats(self, model: str, case_id: str) -> list[int]:
        return sorted(self._repeats.get((model, case_id), []))

    def get(self, model: str, case_id: str, repeat: int) -> dict[str, Any] | None:
        return self._records.get((model, case_id, repeat))

    @staticmethod
    def output(record: dict[str, Any] | None) -> str | None:
        if record is None or record.get("error") is not None:
            return None
        return str(record.get("output") or "")

    @staticmethod
    def why_missing(record: dict[str, Any] | None, model: str) -> str | None:
        """None when the record holds an answer; otherwise why there is nothing to judge."""
        if record is None:
            return f"model '{model}' has no result for this case"
        error = record.get("error")
        if error is not None:
            return f"model '{model}' failed to answer ({error.get('kind')}: {error.get('message')})"
        return None
