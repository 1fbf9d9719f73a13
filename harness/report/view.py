"""What every report shows, computed once from a run directory's files.

`RunView` holds the run's facts (suite, models, baseline, judge), the gate outcomes, headline
figures per model, and one `CaseRow` per case x repeat with every model's answer, checks,
metrics and judge verdicts. The HTML, Markdown and JUnit writers only format it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from harness.gates.evaluate import GateOutcome
from harness.gates.figures import FIGURES, RunFigures
from harness.run.store import RunData

# Case order in every report: what the candidate broke, what it fixed, then the rest.
STATUS_ORDER = {"regression": 0, "improved": 1, "error": 2, "fail": 3, "pass": 4}
Decision = Literal["ship", "dont_ship", "none"]


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
        """regression > improved > error > fail > pass.

        With a baseline, from the candidates' side: regression = a candidate fails (or errs) where
        the baseline passes, or the judge prefers the baseline in both orders; improved = a
        candidate passes where the baseline does not, or the judge prefers the candidate, and
        nothing regressed; fail = every model fails. Without one, every model counts alike.
        """
        answers = self.answers.values()
        if baseline is None or baseline not in self.answers:
            if any(a.get("error") for a in answers):
                return "error"
            return "fail" if any(a.get("passed") is False for a in answers) else "pass"
        base_passed = _passed(self.answers[baseline])
        mine = {name: self.answers[name] for name in candidates if name in self.answers and name != baseline}
        outcomes = {name: (self.pairwise.get(name) or {}).get("outcome") for name in mine}
        if any(outcomes[name] == "loss" or (base_passed and not _passed(a)) for name, a in mine.items()):
            return "regression"
        if any(outcomes[name] == "win" or (not base_passed and _passed(a)) for name, a in mine.items()):
            return "improved"
        if any(a.get("error") for a in answers):
            return "error"
        return "pass" if base_passed else "fail"


def _passed(answer: dict[str, Any]) -> bool:
    return not answer.get("error") and bool(answer.get("passed"))


@dataclass(frozen=True)
class Verdict:
    """The report's headline: may the candidate ship, by the run's gates."""

    decision: Decision
    title: str  # "Ship tuned", "Don't ship tuned", "No gates"
    detail: str  # what decided it
    failed: list[str]  # gate texts that failed


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

    def role(self, model: str) -> str | None:
        """"baseline" or "candidate" when the run compares against a baseline; None otherwise."""
        if self.baseline is None or self.baseline not in self.models:
            return None
        return "baseline" if model == self.baseline else "candidate"

    @property
    def colours(self) -> dict[str, str]:
        from harness.report.charts import model_colours

        return model_colours(self.models, self.baseline)

    @property
    def comparison(self) -> dict[str, Any]:
        """summary.json's `comparison`: candidate -> counts and ordered flips against the baseline."""
        comparison: dict[str, Any] = self.summary.get("comparison") or {}
        return comparison

    @property
    def judge(self) -> dict[str, Any] | None:
        judge: dict[str, Any] | None = self.run.get("judge")
        return judge

    @property
    def gates_passed(self) -> bool | None:
        return None if not self.gates else all(g.passed for g in self.gates)

    @property
    def verdict(self) -> Verdict:
        """Ship / don't ship the candidates (or the gated models), from the gates and the run's status."""
        if self.baseline is not None and self.baseline in self.models:
            subject = [m for m in self.candidates if m != self.baseline]
        else:
            subject = list(dict.fromkeys(g.model for g in self.gates if g.model))
        who = f" {', '.join(subject)}" if subject else ""
        failed = [g.gate for g in self.gates if not g.passed]
        status = self.run.get("status")
        if status not in (None, "complete"):
            error = self.run.get("error")
            detail = f"the run is {status}" + (f": {error}" if error else "") + "; its figures are incomplete"
            return Verdict("dont_ship", f"Don't ship{who}", detail, failed)
        if not self.gates:
            return Verdict("none", "No gates", "add `gates:` to the suite or --gate to decide ship or don't ship", [])
        if failed:
            shown = "; ".join(failed[:3]) + (f"; and {len(failed) - 3} more" if len(failed) > 3 else "")
            return Verdict("dont_ship", f"Don't ship{who}", f"{len(failed)} of {len(self.gates)} gates failed: {shown}",
                           failed)
        count = len(self.gates)
        return Verdict("ship", f"Ship{who}", f"all {count} gate{'s' if count != 1 else ''} passed", [])

    def status_of(self, row: CaseRow) -> str:
        return row.status(self.baseline, self.candidates)

    def sorted_rows(self) -> list[CaseRow]:
        """Regressions, improvements, errors, failures, passes; within regressions the largest
        metric loss first (improvements: gain), as summary.json's comparison orders them; else suite order."""
        rank: dict[tuple[str, int], int] = {}
        for entry in self.comparison.values():
            for listed in (entry.get("regressed") or [], entry.get("improved") or []):
                for index, change in enumerate(listed):
                    key = (str(change["case_id"]), int(change.get("repeat") or 0))
                    rank[key] = min(rank.get(key, index), index)
        unranked = len(self.rows)
        return sorted(self.rows, key=lambda row: (STATUS_ORDER[self.status_of(row)],
                                                  rank.get((row.case_id, row.repeat), unranked)))

    def headline(self, model: str) -> dict[str, Any]:
        """Headline figures of one model: figure name -> (value, kind)."""
        figures: dict[str, Any] = {}
        for name, figure in FIGURES.items():
            if not figure.headline:
                continue
            if figure.per_candidate and model not in (self.summary.get(figure.section) or {}):
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
