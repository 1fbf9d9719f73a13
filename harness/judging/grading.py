"""Single-answer gradings: rubric scores (numeric scale or pass/fail) and closed-QA consistency.

Every model's answer is graded: rubric for cases that have a `rubric:`, closed_qa for cases
that have a reference. An unusable reply is re-asked, then recorded as invalid and excluded.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from harness.judging.caller import JudgeJob, JudgeOutcome
from harness.judging.inputs import AnswerIndex, case_variables
from harness.judging.parsing import Grade, Parsed, parse_closed_qa, parse_rubric
from harness.judging.templates import JudgeTemplate, Scale
from harness.models.base import GenerationResponse
from harness.suite.case import Case


@dataclass
class GradeItem:
    kind: str  # rubric | closed_qa
    model: str
    case: Case
    repeat: int
    skipped: str | None
    job: JudgeJob | None


def applies(kind: str, case: Case) -> bool:
    return bool(case.rubric) if kind == "rubric" else bool(case.references)


def _parser(template: JudgeTemplate) -> Callable[[GenerationResponse], Parsed]:
    if template.kind == "rubric":
        scale = template.scale

        def parse_grade(response: GenerationResponse) -> Parsed:
            return parse_rubric(response.output or "", scale)

        return parse_grade

    def parse_consistency(response: GenerationResponse) -> Parsed:
        return parse_closed_qa(response.output or "")

    return parse_consistency


def plan_grades(models: Sequence[str], cases: Sequence[Case], answers: AnswerIndex, template: JudgeTemplate) -> list[GradeItem]:
    kind = template.kind
    parse = _parser(template)
    items: list[GradeItem] = []
    for model in models:
        for case in cases:
            if not applies(kind, case):
                continue
            for repeat in answers.repeats(model, case.id):
                record = answers.get(model, case.id, repeat)
                skipped = answers.why_missing(record, model)
                job = None
                if skipped is None:
                    values = {**case_variables(case), "answer": answers.output(record)}
                    job = JudgeJob(
                        label=f"{kind}:{model}:{case.id}:{repeat}",
                        messages=template.messages(values),
                        template_sha256=template.sha256,
                        retry_prompt=template.retry_message(values),
                        parse=parse,
                    )
                items.append(GradeItem(kind, model, case, repeat, skipped, job))
    return items


def scale_description(template: JudgeTemplate) -> dict[str, int] | str | None:
    if template.kind != "rubric":
        return None
    scale = template.scale
    return {"min": scale.min, "max": scale.max} if isinstance(scale, Scale) else scale


def grade_line(item: GradeItem, outcome: JudgeOutcome | None, judge: str, template: JudgeTemplate) -> dict[str, Any]:
    """The judgments.jsonl line of one grading."""
    grade: Grade | None = outcome.value if outcome is not None and outcome.invalid is None else None
    if item.skipped is not None:
        status = "skipped"
    elif grade is None:
        status = "invalid"
    else:
        status = "graded"
    return {
        "kind": item.kind,
        "model": item.model,
        "case_id": item.case.id,
        "repeat": item.repeat,
        "tags": item.case.tags,
        "judge": judge,
        "template": template.name,
        "template_sha256": template.sha256,
        "scale": scale_description(template),
        "outcome": status,
        "score": grade.score if grade is not None else None,
        "label": grade.label if grade is not None else None,
        "reason": grade.reason if grade is not None else None,
        "invalid": outcome.invalid if outcome is not None else None,
        "skipped": item.skipped,
        "prompt_sha256": outcome.prompt_sha256 if outcome is not None else None,
        "reply": outcome.reply if outcome is not None else None,
        "attempts": outcome.attempts if outcome is not None else 0,
        "cached": outcome.cached if outcome is not None else False,
    }
