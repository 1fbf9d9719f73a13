"""The history page of one suite (`harness history SUITE --html`): every figure's trend over the
runs in history.sqlite, one line per model with its bounds, and the runs linked to their reports.

Like report.html it is one self-contained file: inline CSS and SVG, no script, no network.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader
from markupsafe import Markup

from harness.gates.figures import FIGURES, format_value
from harness.report.charts import Line, line_chart, model_colours
from harness.report.history import HistoryRun
from harness.report.sections import when


def _kind(figure: str) -> str:
    return FIGURES[figure].kind if figure in FIGURES else "score"


def _axis(figure: str, values: Sequence[float]) -> tuple[float, float]:
    kind = _kind(figure)
    top = max(values, default=0.0)
    if kind == "fraction":
        return 0.0, 1.0
    if figure == "regressions":
        return 0.0, max(4.0, float(math.ceil(top)))
    if kind == "score" and figure not in FIGURES:  # reference metrics: on 0-1, or 0-100 (BLEU, chrF)
        return (0.0, 1.0) if top <= 1.0 else (0.0, max(100.0, top))
    return 0.0, top * 1.1 if top > 0 else 1.0


def _formatter(figure: str) -> Any:
    kind = _kind(figure)
    if figure == "regressions":
        return lambda value: f"{value:.0f}"
    if kind == "fraction":
        return lambda value: format_value(value, "fraction").replace(".0%", "%")
    if kind == "score":
        return lambda value: f"{value:.3g}"
    return lambda value: format_value(value, kind)  # type: ignore[arg-type]


def _figure_order(runs: Sequence[HistoryRun]) -> list[str]:
    present = {figure for run in runs for _, figure in run.figures}
    known = [name for name in FIGURES if name in present]
    return known + sorted(present - set(known))


def trend_charts(runs: Sequence[HistoryRun], figures: Sequence[str] = (), only: Sequence[str] = ()) -> list[dict[str, Any]]:
    """One chart per figure (every figure, or `figures`): x = the runs oldest first, a line per model
    (every model, or `only`) that has the figure."""
    labels = [when(run.started_at) or run.run_id for run in runs]
    models = [m for m in dict.fromkeys(model for run in runs for model in run.models) if not only or m in only]
    baseline = next((run.baseline for run in reversed(runs) if run.baseline), None)
    colours = model_colours(models, baseline)
    flagged = [run.gates_failed > 0 for run in runs]
    charts = []
    for figure in _figure_order(runs):
        if figures and figure not in figures:
            continue
        lines = []
        values: list[float] = []
        for model in models:
            key = (model, figure)
            series = [run.figures.get(key) for run in runs]
            if all(value is None for value in series):
                continue
            lows = [run.bounds.get(key, (None, None))[0] for run in runs]
            highs = [run.bounds.get(key, (None, None))[1] for run in runs]
            values += [v for v in (*series, *highs) if v is not None]
            lines.append(Line(model, series, colours[model], lows, highs))
        if not lines:
            continue
        lo, hi = _axis(figure, values)
        description = FIGURES[figure].description if figure in FIGURES else f"reference metric {figure}"
        svg = line_chart(labels, lines, lo, hi, _formatter(figure), f"{figure} over the last {len(runs)} runs",
                         flagged)
        charts.append({"name": figure, "description": description, "svg": svg})
    return charts


def _run_rows(runs: Sequence[HistoryRun], page: Path) -> list[dict[str, Any]]:
    rows = []
    for run in reversed(runs):  # newest first in the table
        report = Path(run.path) / "report.html"
        link = os.path.relpath(report, page.parent) if report.is_file() else None
        rows.append({
            "when": when(run.started_at), "run_id": run.run_id, "link": link, "status": run.status or "",
            "gates": "-" if not run.gates_total else ("pass" if not run.gates_failed else f"{run.gates_failed} failed"),
            "failed": run.gates_failed > 0,
            "models": [m + (" (baseline)" if m == run.baseline else "") for m in run.models],
            "pass_rates": [format_value(run.figures.get((m, "pass_rate")), "fraction") for m in run.models],
        })
    return rows


def render_history(suite: str, runs: Sequence[HistoryRun], page: Path, figures: Sequence[str] = (),
                   models: Sequence[str] = ()) -> str:
    env = Environment(loader=PackageLoader("harness.report", "templates"), autoescape=True, trim_blocks=True,
                      lstrip_blocks=True)
    css = (Path(__file__).parent / "templates" / "report.css").read_text(encoding="utf-8")
    return env.get_template("history.html.j2").render(
        suite=suite, runs=runs, charts=trend_charts(runs, figures, models), rows=_run_rows(runs, page), css=Markup(css),
        first=when(runs[0].started_at) if runs else "", last=when(runs[-1].started_at) if runs else "",
    )


def write_history_html(suite: str, runs: Sequence[HistoryRun], path: Path, figures: Sequence[str] = (),
                       models: Sequence[str] = ()) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_history(suite, runs, path, figures, models), encoding="utf-8")
    return path
