"""The last stage of a run, and all of `harness report`: figures, gates, reports, history entry.

Everything here reads the run directory only (run.json, results.jsonl, summary.json,
judgments.jsonl), so a finished run can be re-reported without calling any model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import UsageError, file_problem
from harness.gates.evaluate import GateOutcome, evaluate_gates, parse_gates, run_gate_texts
from harness.gates.figures import RunFigures
from harness.report.html import write_html
from harness.report.junit import write_junit
from harness.report.markdown import write_markdown
from harness.report.view import build_view
from harness.run.store import SUMMARY_FILE, RunData, load_run, write_json

HTML_FILE = "report.html"
MARKDOWN_FILE = "summary.md"
JUNIT_FILE = "junit.xml"


@dataclass
class ReportOutcome:
    run_dir: Path
    gates: list[GateOutcome]
    files: list[Path] = field(default_factory=list)

    @property
    def gates_passed(self) -> bool:
        return all(g.passed for g in self.gates)


def refresh_bounds(data: RunData) -> bool:
    """Recompute the judging blocks of a run summarized before the bounds valid at every n
    (harness/stats/bounds.py), so re-gating an old run uses them too. True when it changed."""
    summary = data.summary
    if not summary or not data.judgments:
        return False
    entries = [entry for kind in ("pairwise", "rubric", "closed_qa") for entry in (summary.get(kind) or {}).values()]
    if all("method" in entry for entry in entries):
        return False
    from harness.judging.summary import judging_summary

    judge = data.run.get("judge") or {}
    options = {key: judge[key] for key in ("resamples", "seed") if judge.get(key) is not None}
    summary.update(judging_summary(data.judgments, **options))
    return True


def run_gates(data: RunData, extra: list[str] | None = None) -> list[GateOutcome]:
    """The run's recorded gates (plus `extra`) evaluated against its summary.json."""
    refresh_bounds(data)
    texts = [*run_gate_texts(data.run), *(extra or [])]
    gates = parse_gates(texts, origin="gate")
    return evaluate_gates(gates, RunFigures(data.summary or {}, data.run))


def add_derived_figures(data: RunData, monthly_requests: int | None = None) -> None:
    """Blocks of summary.json derived from the others at report time: the candidates' comparison
    with the baseline, cost (gates follow)."""
    from harness.report.comparison import comparison_block
    from harness.report.cost import cost_block

    if monthly_requests is not None:
        data.run["cost"] = {**(data.run.get("cost") or {}), "monthly_requests": monthly_requests}
    summary = data.summary if data.summary is not None else {}
    figures = RunFigures(summary, data.run)
    summary["comparison"] = comparison_block(data.results, figures.baseline, figures.model_names)
    summary["cost"] = cost_block(data.run, summary)
    data.summary = summary


def finalize_run(run_dir: str | Path, history_dir: Path | None = None, monthly_requests: int | None = None) -> ReportOutcome:
    """Write summary.json's derived blocks, report.html, summary.md, junit.xml; index the run in history."""
    path = Path(run_dir)
    data = load_run(path)
    summary = data.summary if data.summary is not None else {"models": {}}
    data.summary = summary
    add_derived_figures(data, monthly_requests)
    gates = run_gates(data)
    summary["gates"] = [g.as_dict() for g in gates]
    view = build_view(data, gates, data.judgments)
    files = [path / HTML_FILE, path / MARKDOWN_FILE, path / JUNIT_FILE]
    target = path / SUMMARY_FILE
    try:
        write_json(target, summary)
        for target, write in zip(files, (write_html, write_markdown, write_junit), strict=True):
            write(view, target)
    except OSError as exc:  # a run turns this into exit 3 (its stage knows requests went out)
        raise UsageError(file_problem(exc, target, "write")) from None
    if history_dir is not None:
        from harness.report.history import record_run

        record_run(history_dir, data)
    return ReportOutcome(path, gates, files)
