"""What every report shows, computed once from a run directory's files.

`RunView` holds the run's facts (suite, models, baseline, judge), the gate outcomes, headline
figures per model, and one `CaseRow` per case x repeat with every model's answer, checks,
metrics and judge verdicts. The HTML, Markdown and JUnit writers only format it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from harness.gates.evaluate import GateOutcome
from harness.gates.figures import FIGURES, RunFigures
from harness.run.store import RunData

STATUS_ORDER = {"error": 0, "regression": 1, "fail": 2, "improved": 3, "pass": 4}


@dataclass
class CaseRow:
    """One case (and repeat) across every model of the run."""

    case_id: str
    repeat: int
    tags: list[str]
    input: str
    messages: list[dict[str, Any]]
    references: list[str]
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)
    pairwise: dict[str, dict[str, Any]] = field(default_factory=dict)  # candidate -> judgment line vs the baseline
    battles: list[dict[str, Any]] = field(default_factory=list)  # round-robin lines between two candidates

    def status(self, baseline: str | None, candidates: Sequence[str]) -> str:
        """error > regression > fail > improved > pass.

        With a baseline: regression = a candidate fails where the baseline passes, or the judge
        prefers the baseline; fail = a candidate fails; improved = the candidates pass and the
        baseline does not. Without one, every model counts alike.
        """
        answers = self.answers.values()
        if any(a.get("error") for a in answers):
            return "error"
        if baseline is None or baseline not in self.answers:
            return "fail" if any(a.get("passed") is False for a in answers) else "pass"
        base_passed = bool(self.answers[baseline].get("passed"))
        mine = [self.answers[name] for name in candidates if name in self.answers and name != baseline]
        lost = any((self.pairwise.get(name) or {}).get("outcome") == "loss" for name in candidates)
        if lost or (base_passed and any(a.get("passed") is False for a in mine)):
            return "regression"
        if any(a.get("passed") is False for a in mine):
            return "fail"
        return "pass" if base_passed else "improved"


@dataclass
class RunView:
    data: RunData
    figures: RunFigures
    gates: list[GateOutcome]
    rows: list[CaseRow]
    judgments: list[dict[str, Any]]

    @property
    def run(self) -> dict[str, Any]:
        return self.data.run

    @property
    def summary(self) -> dict[str, Any]:
        return self.data.summary or {}

    @property
    def suite_name(self) -> str:
        return str((self.run.get("suite") or {}).get("name") or self.data.path.name)

    @property
    def run_id(self) -> str:
        return str(self.run.get("run_id") or self.data.path.name)

    @property
    def models(self) -> list[str]:
        return self.figures.model_names

    @property
    def baseline(self) -> str | None:
        return self.figures.baseline

    @property
    def candidates(self) -> list[str]:
        return self.figures.candidates

    @property
    def judge(self) -> dict[str, Any] | None:
        judge: dict[str, Any] | None = self.run.get("judge")
        return judge

    @property
    def gates_passed(self) -> bool | None:
        return None if not self.gates else all(g.passed for g in self.gates)

    def status_of(self, row: CaseRow) -> str:
        return row.status(self.baseline, self.candidates)

    def sorted_rows(self) -> list[CaseRow]:
        """Failures first (errors, regressions, fails), then passes; the suite's order within each."""
        return sorted(self.rows, key=lambda row: STATUS_ORDER[self.status_of(row)])

    def headline(self, model: str) -> dict[str, Any]:
        """Headline figures of one model: figure name -> (value, kind)."""
        figures: dict[str, Any] = {}
        for name, figure in FIGURES.items():
            if not figure.headline:
                continue
            if figure.per_candidate and model not in (self.summary.get("pairwise") or {}):
                continue
            reading = self.figures.read(figure, model)
            if reading.point is not None:
                figures[name] = {"value": reading.point, "kind": figure.kind, "lower": reading.lower,
                                 "upper": reading.upper, "higher_is_better": figure.higher_is_better}
        for name in self.figures.metric_names():
            metric = self.figures.figure(name)
            if metric is not None:
                reading = self.figures.read(metric, model)
                if reading.point is not None:
                    figures[name] = {"value": reading.point, "kind": "score", "lower": reading.lower,
                                     "upper": reading.upper, "higher_is_better": True}
        return figures


def _answer(record: dict[str, Any]) -> dict[str, Any]:
    error = record.get("error")
    usage = record.get("usage") or {}
    return {
        "output": record.get("output"),
        "passed": record.get("passed"),
        "error": f"{error.get('kind')}: {error.get('message')}" if error else None,
        "checks": [[c.get("name"), bool(c.get("passed")), c.get("reason")] for c in record.get("checks") or []],
        "metrics": record.get("metrics") or {},
        "latency_s": record.get("latency_s"),
        "tokens": [usage.get("prompt_tokens"), usage.get("completion_tokens")],
        "finish_reason": record.get("finish_reason"),
    }


def _grade(line: dict[str, Any]) -> dict[str, Any]:
    return {
        "kind": line.get("kind"),
        "outcome": line.get("outcome"),
        "score": line.get("score"),
        "label": line.get("label"),
        "reason": line.get("reason") or line.get("invalid") or line.get("skipped"),
        "scale": line.get("scale"),
    }


def build_rows(results: Sequence[dict[str, Any]], judgments: Sequence[dict[str, Any]]) -> list[CaseRow]:
    rows: dict[tuple[str, int], CaseRow] = {}
    for record in results:
        key = (str(record["case_id"]), int(record.get("repeat") or 0))
        row = rows.get(key)
        if row is None:
            messages = list(record.get("messages") or [])
            row = CaseRow(
                case_id=key[0], repeat=key[1], tags=list(record.get("tags") or []), input=str(record.get("input") or ""),
                messages=messages if len([m for m in messages if m.get("role") != "system"]) > 1 else [],
                references=list(record.get("references") or []),
            )
            rows[key] = row
        row.answers[str(record["model"])] = _answer(record)
    for line in judgments:
        row = rows.get((str(line.get("case_id")), int(line.get("repeat") or 0)))
        if row is None:
            continue
        if line.get("kind") == "pairwise":
            if line.get("versus_baseline", True):
                row.pairwise[str(line["candidate"])] = line
            else:
                row.battles.append(line)
        else:
            answer = row.answers.get(str(line.get("model")))
            if answer is not None:
                answer.setdefault("grades", []).append(_grade(line))
    return list(rows.values())


def build_view(data: RunData, gates: list[GateOutcome], judgments: list[dict[str, Any]]) -> RunView:
    figures = RunFigures(data.summary or {}, data.run)
    return RunView(data, figures, gates, build_rows(data.results, judgments), judgments)
