"""The report's pictures, built from a RunView: figures with intervals, pass rate per tag,
score and latency distributions, win rate per tag. Each is a titled SVG with a caption."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup

from harness.gates.figures import format_value
from harness.report.charts import Cell, Dot, Series, dot_whisker, heatmap, histograms
from harness.report.view import RunView
from harness.stats.bounds import METHOD_LABELS, proportion_bounds


def _pct(value: float) -> str:
    return format_value(value, "fraction").replace(".0%", "%")


def _score(value: float) -> str:
    return f"{value:.3g}"


def _secs(value: float) -> str:
    return f"{value:.2g}s"


def _chart(name: str, title: str, svg: Markup, caption: str = "") -> dict[str, Any]:
    return {"name": name, "title": title, "svg": svg, "caption": caption}


def _scale_of(values: list[float]) -> tuple[float, float, Any]:
    """Scores on 0-1 keep that axis; anything above 1 (BLEU, chrF) is on 0-100."""
    return (0.0, 1.0, _score) if all(v <= 1.0 for v in values) else (0.0, max(100.0, *values), _score)


def _method_caption(entries: list[dict[str, Any]]) -> str:
    """How the whiskers of one chart were computed, from the `method` each summary entry records."""
    methods = list(dict.fromkeys(str(entry.get("method") or "bootstrap") for entry in entries))
    labels = [METHOD_LABELS.get(m, "percentile bootstrap over cases, approximate at small n") for m in methods]
    return "whiskers: 95% interval, " + "; ".join(labels)


def _figure_charts(view: RunView) -> list[dict[str, Any]]:
    blocks = view.summary.get("models") or {}
    colours = view.colours
    found: list[dict[str, Any]] = []
    rows = []
    for model in view.models:
        block = blocks.get(model) or {}
        answered = int(block.get("answered") or 0)
        if answered:
            interval = proportion_bounds(int(block.get("passed") or 0), answered).interval
            rows.append(Dot(model, block.get("pass_rate"), interval.low, interval.high, colours[model],
                            f"{block.get('passed', 0)} of {answered} passed"))
    if rows:
        found.append(_chart("fig-pass_rate", "pass rate", dot_whisker(rows, 0, 1, _pct, "pass rate per model"),
                            _method_caption([{"method": "clopper-pearson"}])))
    for name in view.figures.metric_names():
        rows = []
        entries = []
        for model in view.models:
            entry = ((blocks.get(model) or {}).get("metrics") or {}).get(name) or {}
            if entry.get("value") is None:
                continue
            ci = entry.get("ci") or {}
            entries.append(entry)
            rows.append(Dot(model, float(entry["value"]), ci.get("low"), ci.get("high"), colours[model],
                            f"n={entry.get('n', '?')}"))
        if rows:
            lo, hi, fmt = _scale_of([v for r in rows for v in (r.value, r.high) if v is not None])
            found.append(_chart(f"fig-{name}", name, dot_whisker(rows, lo, hi, fmt, f"{name} per model"),
                                _method_caption(entries)))
    for kind, label in (("rubric", "rubric score"), ("closed_qa", "closed-QA")):
        rows = []
        entries = []
        scale: Any = None
        for model in view.models:
            entry = (view.summary.get(kind) or {}).get(model) or {}
            if entry.get("mean") is None:
                continue
            scale = entry.get("scale") or scale
            ci = entry.get("ci") or {}
            entries.append(entry)
            rows.append(Dot(model, float(entry["mean"]), ci.get("low"), ci.get("high"), colours[model],
                            f"{entry.get('n', 0)} graded"))
        if rows:
            numeric = isinstance(scale, dict) and kind == "rubric"
            lo, hi = (float(scale["min"]), float(scale["max"])) if numeric else (0.0, 1.0)
            svg = dot_whisker(rows, lo, hi, _score if numeric else _pct, f"{label} per model")
            found.append(_chart(f"fig-{kind}", label, svg, _method_caption(entries)))
    return found


def _tag_chart(view: RunView) -> dict[str, Any] | None:
    blocks = view.summary.get("models") or {}
    tags = sorted({tag for block in blocks.values() for tag in (block.get("by_tag") or {})})
    if not tags:
        return None
    cells = []
    for tag in tags:
        line = []
        for model in view.models:
            entry = ((blocks.get(model) or {}).get("by_tag") or {}).get(tag) or {}
            rate = entry.get("pass_rate")
            line.append(Cell(rate, "-" if rate is None else _pct(rate),
                             f"{entry.get('passed', 0)} of {entry.get('answered', 0)} passed"))
        cells.append(line)
    return _chart("pass-by-tag", "pass rate by tag", heatmap(tags, view.models, cells, "pass rate per tag and model"))


def _distributions(view: RunView) -> list[dict[str, Any]]:
    colours = view.colours
    found = []
    for name in view.figures.metric_names():
        series = [Series(model, [float(row.answers[model]["metrics"][name]) for row in view.rows
                                 if model in row.answers
                                 and isinstance((row.answers[model].get("metrics") or {}).get(name), (int, float))],
                         colours[model]) for model in view.models]
        values = [v for s in series for v in s.values]
        if values:
            lo, hi, fmt = _scale_of(values)
            found.append(_chart(f"dist-{name}", f"{name} per case", histograms(series, lo, hi, 10, fmt,
                                                                                f"distribution of {name}")))
    grades = [Series(model, [float(g["score"]) for row in view.rows if model in row.answers
                             for g in row.answers[model].get("grades", [])
                             if g.get("kind") == "rubric" and isinstance(g.get("score"), (int, float))
                             and isinstance(g.get("scale"), dict)], colours[model]) for model in view.models]
    scored = [v for s in grades for v in s.values]
    if scored:
        scale = next(g["scale"] for row in view.rows for a in row.answers.values() for g in a.get("grades", [])
                     if g.get("kind") == "rubric" and isinstance(g.get("scale"), dict))
        lo, hi = float(scale["min"]), float(scale["max"])
        bins = int(hi - lo) + 1 if hi - lo <= 20 else 10
        svg = histograms(grades, lo - 0.5, hi + 0.5, bins, lambda v: f"{v:.3g}", "distribution of rubric scores",
                         ticks=sorted({lo, float(round((lo + hi) / 2)), hi}))
        found.append(_chart("dist-rubric", "rubric scores", svg))
    latency = [Series(model, [float(row.answers[model]["latency_s"]) for row in view.rows if model in row.answers
                              and isinstance(row.answers[model].get("latency_s"), (int, float))
                              and not row.answers[model].get("error")], colours[model]) for model in view.models]
    times = [v for s in latency for v in s.values]
    if times and max(times) > 0:
        svg = histograms(latency, 0.0, max(times), 12, _secs, "distribution of latency per request")
        found.append(_chart("dist-latency", "latency per request", svg))
    return found


def _win_rate_by_tag(view: RunView) -> list[dict[str, Any]]:
    found = []
    for candidate, entry in (view.summary.get("pairwise") or {}).items():
        rows = []
        for label, block in [("all cases", entry), *sorted((entry.get("by_tag") or {}).items())]:
            ci = block.get("ci") or {}
            rows.append(Dot(label, block.get("win_rate"), ci.get("low"), ci.get("high"),
                            view.colours.get(candidate, "#0969da"),
                            f"{block.get('wins', 0)}/{block.get('losses', 0)}/{block.get('ties', 0)} W/L/T"))
        svg = dot_whisker(rows, 0, 1, _pct, f"win rate of {candidate} per tag", reference=0.5)
        blocks = [entry, *(entry.get("by_tag") or {}).values()]
        found.append(_chart(f"win-{candidate}", f"win rate by tag: {candidate} vs {entry.get('baseline')}", svg,
                            "dashed line: 50%, as good as the baseline; " + _method_caption(blocks)))
    return found


def charts(view: RunView) -> dict[str, Any] | None:
    """The charts section: None when the run has nothing to draw."""
    figures = _figure_charts(view)
    tags = _tag_chart(view)
    distributions = _distributions(view)
    wins = _win_rate_by_tag(view)
    groups = [
        {"title": "Figures per model", "caption": "dots: value; whiskers: two-sided 95% interval (each chart names "
                                                  "its method; see docs/statistics.md)", "charts": figures},
        {"title": "By tag", "caption": "", "charts": ([tags] if tags else []) + wins},
        {"title": "Distributions", "caption": "cases per bin, one row per model", "charts": distributions},
    ]
    groups = [group for group in groups if group["charts"]]
    return {"groups": groups} if groups else None
