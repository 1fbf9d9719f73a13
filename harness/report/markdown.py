"""summary.md, sized for a GitHub step summary or PR comment: the verdict, the candidates' regressions
against the baseline first, improvements, gates, headline figures."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from harness.gates.figures import format_value
from harness.report import leaderboard, panel_labels
from harness.report.comparison import comparison_note
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
    reasons = [f"{name}: {reason}" for name, passed, reason in answer.get("checks", []) if not passed]
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
        label = model + (f" ({view.role(model)})" if view.role(model) else "")
        figures = per_model[model]
        values = []
        for name in names:
            entry = figures.get(name)
            values.append("-" if entry is None else format_value(entry["value"], entry["kind"]))
        rows.append([cell(label), *values])
    return ["### Headline figures", "", *_table(header, rows), ""]


def _changed_rows(view: RunView, status: str) -> list[list[str]]:
    """Table rows of the cases with this status, one per candidate that changed."""
    base = view.baseline or ""
    rows = []
    for row in view.sorted_rows():
        if view.status_of(row) != status:
            continue
        for model in view.candidates:
            answer = row.answers.get(model)
            if answer is None or model == base:
                continue
            outcome = (row.pairwise.get(model) or {}).get("outcome")
            passed, base_passed = _verdict(answer) == "pass", _verdict(row.answers.get(base)) == "pass"
            if status == "regression" and (outcome == "loss" or (base_passed and not passed)):
                rows.append([cell(row.case_id), cell(", ".join(row.tags)), cell(model), _verdict(row.answers.get(base)),
                             _verdict(answer), cell(_why(row, model))])
            elif status == "improved" and (outcome == "win" or (passed and not base_passed)):
                change = _metric_change(row, base, model)
                rows.append([cell(row.case_id), cell(", ".join(row.tags)), cell(model), _verdict(row.answers.get(base)),
                             _verdict(answer), change])
    return rows


def _metric_change(row: CaseRow, base: str, model: str) -> str:
    before = (row.answers.get(base) or {}).get("metrics") or {}
    after = (row.answers.get(model) or {}).get("metrics") or {}
    shown = [f"{name} {after[name] - before[name]:+.2f}" for name in after
             if isinstance(after.get(name), (int, float)) and isinstance(before.get(name), (int, float))]
    return cell(", ".join(shown[:3]) or "-")


def regression_lines(view: RunView) -> list[str]:
    """The candidates' regressions against the baseline: always the first table of summary.md."""
    if view.baseline is None or len(view.models) < 2 or view.role(view.baseline) is None:
        return []
    rows = _changed_rows(view, "regression")
    judged = " (or the judge preferred the baseline)" if view.summary.get("pairwise") else ""
    if not rows:
        return ["### Regressions", "", f"None: no case that the baseline {code(view.baseline)} passes fails on a candidate.", ""]
    cases = len({row[0] for row in rows})
    lines = ["### Regressions", "",
             f"{cases} case{'s' if cases != 1 else ''} that the baseline {code(view.baseline)} passes and a candidate "
             f"does not{judged}, largest metric loss first:", "",
             *_table(["case", "tags", "model", "baseline", "candidate", "why"], rows[:MAX_ROWS])]
    if len(rows) > MAX_ROWS:
        lines.append(f"\n…and {len(rows) - MAX_ROWS} more in report.html.")
    return [*lines, ""]


def improvement_lines(view: RunView) -> list[str]:
    if view.baseline is None or view.role(view.baseline) is None:
        return []
    rows = _changed_rows(view, "improved")
    if not rows:
        return []
    cases = len({row[0] for row in rows})
    lines = ["### Improvements", "", f"{cases} case{'s' if cases != 1 else ''} that a candidate passes and the baseline "
             f"{code(view.baseline)} does not:", "",
             *_table(["case", "tags", "model", "baseline", "candidate", "metric change"], rows[:MAX_ROWS])]
    if len(rows) > MAX_ROWS:
        lines.append(f"\n…and {len(rows) - MAX_ROWS} more in report.html.")
    return [*lines, ""]


def failing_lines(view: RunView) -> list[str]:
    """Without a baseline there is nothing to regress against: the failing cases instead."""
    if view.baseline is not None and view.role(view.baseline) is not None and len(view.models) > 1:
        return []
    failing = [row for row in view.sorted_rows() if view.status_of(row) in ("error", "fail")]
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


def cache_lines(run: dict[str, Any]) -> list[str]:
    """`tuned: 8 answers (oldest 3 min)` per model that reused cached answers (run.json models[].cache),
    and `judge gpt-4o: 16 judgments (...)` per judge that reused cached verdicts (judge.cache)."""
    from harness.run.reuse import format_age

    found = [(str(m.get("name")), "answers", m.get("cache") or {}) for m in run.get("models") or []]
    judged = (run.get("judge") or {}).get("cache") or {}
    found += [(f"judge {name}", "judgments", entry or {}) for name, entry in judged.items()]
    lines = []
    for label, what, reuse in found:
        if reuse.get("reused"):
            age = reuse.get("oldest_age_s")
            oldest = f" (oldest {format_age(float(age))})" if age is not None else ""
            lines.append(f"{label}: {reuse['reused']} {what}{oldest}")
    return lines


def break_even_lines(view: RunView) -> list[str]:
    cost = (view.summary.get("cost") or {}).get("break_even")
    return [f"Fine-tune break-even: {cell(cost.get('text'))}", ""] if cost else []


def ranking_lines(view: RunView) -> list[str]:
    return leaderboard.markdown_lines(view.summary, cell)


def panel_lines(view: RunView) -> list[str]:
    return panel_labels.markdown_lines(view.summary, cell)


# The parts of summary.md after its title, in order: the regressions always first.
PARTS = [regression_lines, improvement_lines, gate_lines, headline_lines, ranking_lines, panel_lines, failing_lines,
         break_even_lines]


def _title(view: RunView) -> str:
    verdict = view.verdict
    if verdict.decision == "none":
        return "no gates"
    mark = "✅" if verdict.decision == "ship" else "❌"
    subject = [m for m in view.candidates if m != view.baseline] if view.role(view.baseline or "") else []
    title = verdict.title
    if subject and title.endswith(", ".join(subject)):  # the models in code style
        title = title[: -len(", ".join(subject))] + ", ".join(code(m) for m in subject)
    return f"{mark} {title}: {cell(verdict.detail, 300)}"


def render_markdown(view: RunView) -> str:
    models = ", ".join(code(m) + (f" ({view.role(m)})" if view.role(m) else "") for m in view.models)
    judge = view.judge
    facts = [f"run {code(view.run_id)}", f"{len(view.rows)} cases", f"models {models}"]
    if judge:
        facts.append(f"judge {code(judge.get('model'))}")
    if view.run.get("status") not in (None, "complete"):
        facts.append(f"status **{cell(view.run.get('status'))}**")
    lines = [f"## harness: {cell(view.suite_name)} — {_title(view)}", "", " · ".join(facts), ""]
    reused = cache_lines(view.run)
    if reused:
        lines += ["From the cache: " + "; ".join(cell(line, 200) for line in reused), ""]
    for candidate, entry in view.comparison.items():
        regressions, improvements = int(entry.get("regressions") or 0), int(entry.get("improvements") or 0)
        p = entry.get("mcnemar_p")
        test = f" (exact McNemar p = {p:.3g})" if p is not None and (regressions or improvements) else ""
        note = comparison_note(entry)
        lines += [f"{code(candidate)} against {code(entry.get('baseline'))}: **{regressions} regression"
                  f"{'s' if regressions != 1 else ''}**, {improvements} improvement{'s' if improvements != 1 else ''}, "
                  f"{entry.get('both_pass', 0)} pass on both, {entry.get('both_fail', 0)} fail on both{test}."
                  + (f" {cell(note, 300)}." if note else ""), ""]
    for part in PARTS:
        lines += part(view)
    lines.append("Full report with every answer side by side: report.html in the run directory.")
    return "\n".join(lines) + "\n"


def write_markdown(view: RunView, path: Path) -> None:
    path.write_text(render_markdown(view), encoding="utf-8")
