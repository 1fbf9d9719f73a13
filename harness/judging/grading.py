"""Single-answer gradings: rubric scores (numeric scale or pass/fail), closed-QA consistency and labels.

Every model's answer is graded: rubric for cases that have a `rubric:`, closed_qa for cases
that have a reference, label (when a label judge is configured) for every case. An unusable
reply is re-asked, then recorded as invalid and excluded. With a panel, each judge's grade is
kept under `judges` and the line's grade is the panel's (panel.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from harness.judging.caller import JudgeJob, JudgeOutcome
from harness.judging.inputs import AnswerIndex, case_variables
from harness.judging.panel import PanelRule, combine_grades
from harness.judging.parsing import Grade, Parsed, parse_closed_qa, parse_label, parse_rubric
from harness.judging.templates import JudgeTemplate, Scale
from harness.models.base import GenerationResponse
from harness.suite.case import Case
from harness.suite.schema import LabelJudgeConfig


@dataclass
class GradeItem:
    kind: str  # rubric | closed_qa | label
    model: str
    case: Case
    repeat: int
    skipped: str | None
    job: JudgeJob | None


def applies(kind: str, case: Case) -> bool:
    if kind == "label":
        return True
    return bool(case.rubric) if kind == "rubric" else bool(case.references)


def _parser(template: JudgeTemplate, label: LabelJudgeConfig | None) -> Callable[[GenerationResponse], Parsed]:
    if template.kind == "label":
        if label is None:
            raise ValueError("a label template needs the label judge's labels")
        labels, passing = list(label.labels), list(label.passing)

        def parse_choice(response: GenerationResponse) -> Parsed:
            return parse_label(response.output or "", labels, passing)

        return parse_choice
    if template.kind == "rubric":
        scale = template.scale

        def parse_grade(response: GenerationResponse) -> Parsed:
            return parse_rubric(response.output or "", scale)

        return parse_grade

    def parse_consistency(response: GenerationResponse) -> Parsed:
        return parse_closed_qa(response.output or "")

    return parse_consistency


def plan_grades(
    models: Sequence[str], cases: Sequence[Case], answers: AnswerIndex, template: JudgeTemplate,
    label: LabelJudgeConfig | None = None,
) -> list[GradeItem]:
    kind = template.kind
    parse = _parser(template, label)
    extra = {"labels": list(label.labels)} if label is not None and kind == "label" else {}
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
                    values = {**case_variables(case), "answer": answers.output(record), **extra}
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


def _binary(template: JudgeTemplate) -> bool:
    return template.kind == "closed_qa" or (template.kind == "rubric" and template.scale == "pass_fail")


def _judge_grade(outcome: JudgeOutcome | None) -> dict[str, Any]:
    grade: Grade | None = outcome.value if outcome is not None and outcome.invalid is None else None
    return {
        "score": grade.score if grade is not None else None,
        "label": grade.label if grade is not None else None,
        "reason": grade.reason if grade is not None else None,
        "invalid": outcome.invalid if outcome is not None else None,
        "prompt_sha256": outcome.prompt_sha256 if outcome is not None else None,
        "reply": outcome.reply if outcome is not None else None,
        "attempts": outcome.attempts if outcome is not None else 0,
        "cached": outcome.cached if outcome is not None else False,
    }


def grade_line(
    item: GradeItem, outcomes: Mapping[str, JudgeOutcome | None], template: JudgeTemplate,
    panel: PanelRule | None = None, label: LabelJudgeConfig | None = None,
) -> dict[str, Any]:
    """The judgments.jsonl line of one grading; `outcomes` maps each judge to its outcome (None when skipped)."""
    grades = {judge: _judge_grade(outcome) for judge, outcome in outcomes.items()}
    if panel is None:
        judge, mine = next(iter(grades.items()))
        top = dict(mine)
    else:
        judge = "panel"
        valid = {name: (g["score"], g["label"]) if g["score"] is not None else None for name, g in grades.items()}
        combined = combine_grades(valid, template.kind, _binary(template), panel)
        top = {"score": combined.score, "label": combined.label, "reason": None, "invalid": combined.invalid,
               "prompt_sha256": None, "reply": None, "attempts": sum(g["attempts"] for g in grades.values()),
               "cached": all(g["cached"] for g in grades.values())}
        if item.skipped is None and combined.invalid is None and combined.score is None:
            top["invalid"] = "no valid grade"
    if item.skipped is not None:
        status = "skipped"
    elif top["score"] is None:
        status = "invalid"
    else:
        status = "graded"
    line: dict[str, Any] = {
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
        "score": top["score"],
        "label": top["label"],
        "reason": top["reason"],
        "invalid": top["invalid"] if status == "invalid" else None,
        "skipped": item.skipped,
        "prompt_sha256": top["prompt_sha256"],
        "reply": top["reply"],
        "attempts": top["attempts"],
        "cached": top["cached"],
    }
    if template.kind == "label" and label is not None:
        line.update(labels=list(label.labels), passing=list(label.passing), passed=None if status != "graded" else top["score"] == 1.0,
                    reference=item.case.reference)
    if panel is not None:
        line.update(judges=grades, panel=panel.describe(sum(1 for g in grades.values() if g["score"] is not None)))
    return line
