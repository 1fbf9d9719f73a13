"""summary.md: gates, headline figures and the worst regressions, sized for a GitHub step summary or PR comment."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from harness.gates.figures import format_value
from harness.report import leaderboard, panel_labels
from harness.report.view import CaseRow, RunView

MAX_ROWS = 10


def cell(text: object, limit: int = 140) -> str:
    """One table cell: single line, HTML-escaped (GitHub renders inline HTML), pipes escaped."""
    value = " ".join(str("" if text is None else text).split())
    if len(value) > limit:
        value = value[: limit - 1] + "…"
    return html.escape(value, quote=False).replace("|", "\\|")


def code(text: object) -> str:
    """Inline code: literal inside (no HTML), so only backticks and table pipes need care."""
    value = " ".join(str("" if text is None else text).split())
    if "`" in value or not value:
        return cell(value)
    return "`" + value.replace("|", "\\|") + "`"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines.extend("| " + " | ".join(row) + " |" for row in rows)
    return lines


def _why(row: CaseRow, model: str) -> str:
    answer = row.answers.get(model) or {}
    if answer.get("error"):
        return f"error: {answer['error']}"
    reasons = [str(reason) for _, passed, reason in answer.get("checks", []) if not passed]
    judged = row.pairwise.get(model) or {}
    if judged.get("outcome") == "loss":
        reasons.append("judge preferred the baseline in both orders")
    return "; ".join(reasons) or "-"


def _verdict(answer: dict[str, Any] | None) -> str:
    if not answer:
        return "-"
    if answer.get("error"):
        return "error"
    return "pass" if answer.get("passed") else "fail"


def headline_lines(view: RunView) -> list[str]:
    names: list[str] = []
    per_model = {model: view.headline(model) for model in view.models}
    for figures in per_model.values():
        names.extend(name for name in figures if name not in names)
    if not names:
        return []
    header = ["model", *[name.replace("_", " ") for name in names]]
    rows = []
    for model in view.models:
        label = model + (" (baseline)" if model == view.baseline else "")
        figures = per_model[model]
        values = []
        for name in names:
            entry = figures.get(name)
            values.append("-" if entry is None else format_value(entry["value"], entry["kind"]))
        rows.append([cell(label), *values])
    return ["### Headline figures", "", *_table(header, rows), ""]


def worst_lines(view: RunView) -> list[str]:
    rows = view.sorted_rows()
    if view.baseline is not None and len(view.models) > 1:
        regressions = [row for row in rows if view.status_of(row) == "regression"]
        if not regressions:
            return ["### Worst regressions", "", f"No case regressed against the baseline {code(view.baseline)}.", ""]
        table = []
        for row in regressions[:MAX_ROWS]:
            for model in view.candidates:
                answer = row.answers.get(model)
                if answer is None:
                    continue
                lost = (row.pairwise.get(model) or {}).get("outcome") == "loss"
                if answer.get("passed") is False or lost:
                    table.append([cell(row.case_id), cell(", ".join(row.tags)), cell(model),
                                  _verdict(row.answers.get(view.baseline)), _verdict(answer), cell(_why(row, model))])
        more = len(regressions) - MAX_ROWS
        lines = ["### Worst regressions", "", *_table(["case", "tags", "model", "baseline", "candidate", "why"], table)]
        if more > 0:
            lines.append(f"\n…and {more} more regressed cases in report.html.")
        return [*lines, ""]
    failing = [row for row in rows if view.status_of(row) in ("error", "fail")]
    if not failing:
        return ["### Failing cases", "", "Every case passed.", ""]
    table = [
        [cell(row.case_id), cell(", ".join(row.tags)), cell(model), cell(_why(row, model))]
        for row in failing[:MAX_ROWS]
        for model in view.models
        if _verdict(row.answers.get(model)) in ("fail", "error")
    ]
    lines = ["### Failing cases", "", *_table(["case", "tags", "model", "why"], table)]
    if len(failing) > MAX_ROWS:
        lines.append(f"\n…and {len(failing) - MAX_ROWS} more failing cases in report.html.")
    return [*lines, ""]


def gate_lines(view: RunView) -> list[str]:
    if not view.gates:
        return []
    rows = [
        ["✅ pass" if g.passed else "❌ fail", code(g.gate), cell(g.figure), cell(g.bound), g.value_text,
         cell(g.threshold_text), cell(g.note)]
        for g in view.gates
    ]
    return ["### Gates", "", *_table(["result", "gate", "figure", "bound used", "value", "threshold", "note"], rows), ""]


def render_markdown(view: RunView) -> str:
    passed = view.gates_passed
    if passed is None:
        status = "no gates"
    elif passed:
        status = f"✅ all {len(view.gates)} gate checks passed"
    else:
        failed = sum(1 for g in view.gates if not g.passed)
        status = f"❌ {failed} of {len(view.gates)} gate checks failed"
    models = ", ".join(code(m) + (" (baseline)" if m == view.baseline else "") for m in view.models)
    judge = view.judge
    facts = [f"run {code(view.run_id)}", f"{len(view.rows)} cases", f"models {models}"]
    if judge:
        facts.append(f"judge {code(judge.get('model'))}")
    if view.run.get("status") not in (None, "complete"):
        facts.append(f"status **{cell(view.run.get('status'))}**")
    lines = [f"## harness: {cell(view.suite_name)} — {status}", "", " · ".join(facts), ""]
    lines += gate_lines(view)
    lines += headline_lines(view)
    lines += leaderboard.markdown_lines(view.summary, cell)
    lines += panel_labels.markdown_lines(view.summary, cell)
    lines += worst_lines(view)
    cost = (view.summary.get("cost") or {}).get("break_even")
    if cost:
        lines += [f"Fine-tune break-even: {cell(cost.get('text'))}", ""]
    lines.append("Full report with every answer side by side: report.html in the run directory.")
    return "\n".join(lines) + "\n"


def write_markdown(view: RunView, path: Path) -> None:
    path.write_text(render_markdown(view), encoding="utf-8")
