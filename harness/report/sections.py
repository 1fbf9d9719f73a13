"""The sections of report.html, in page order: each a partial template and the data it renders.

The page template only loops over `SECTIONS`. A new section is one builder here (RunView in,
a dict for its template out, or None to leave it out) plus `templates/blocks/NAME.html.j2`,
added to the list where it belongs in the page: nothing else changes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from harness.gates.figures import format_value
from harness.report import leaderboard as ranking
from harness.report import panel_labels
from harness.report.chart_blocks import charts
from harness.report.comparison import comparison_note
from harness.report.view import RunView
from harness.stats.bounds import proportion_bounds

Builder = Callable[[RunView], "dict[str, Any] | None"]


@dataclass(frozen=True)
class Section:
    name: str  # the element id, and the partial templates/blocks/<name>.html.j2
    build: Builder

    @property
    def template(self) -> str:
        return f"blocks/{self.name}.html.j2"


def _pct(value: float | None) -> str:
    return format_value(value, "fraction")


def when(value: str | None) -> str:
    """2025-01-31T09:15:02+00:00 -> 2025-01-31 09:15 UTC."""
    if not value:
        return ""
    text = value.replace("T", " ")[:16]
    return text + " UTC" if value.endswith(("+00:00", "Z")) else text


def header_facts(view: RunView) -> list[str]:
    """The line under the report's title: one short fact each."""
    run = view.run
    facts = [f"run {view.run_id}"]
    if run.get("started_at"):
        facts.append(when(run["started_at"]))
    count = len(view.models)
    facts.append(f"{len(view.rows)} cases × {count} model{'s' if count != 1 else ''}")
    judge = view.judge
    if judge:
        spec = judge.get("spec")
        facts.append(f"judge {judge.get('model')}" + (f" ({spec})" if spec and spec != judge.get("model") else ""))
    reused = cache_fact(run)
    if reused:
        facts.append(reused)
    facts.append(f"status {run.get('status') or 'unknown'}")
    facts.append(f"harness {run.get('harness_version') or ''}")
    return facts


def cache_fact(run: dict[str, Any]) -> str | None:
    """`16 answers and 8 judgments reused from the cache (oldest 3 min)`: the run's reuse at a
    glance (run.json models[].cache and judge.cache)."""
    from harness.run.reuse import format_age

    answers = [(m.get("cache") or {}) for m in run.get("models") or []]
    judgments = [entry or {} for entry in ((run.get("judge") or {}).get("cache") or {}).values()]
    parts = []
    for entries, what in ((answers, "answer"), (judgments, "judgment")):
        count = sum(int(entry.get("reused") or 0) for entry in entries)
        if count:
            parts.append(f"{count} {what}{'s' if count != 1 else ''}")
    if not parts:
        return None
    ages = [float(entry["oldest_age_s"]) for entry in (*answers, *judgments)
            if entry.get("reused") and entry.get("oldest_age_s") is not None]
    oldest = f" (oldest {format_age(max(ages))})" if ages else ""
    return f"{' and '.join(parts)} reused from the cache{oldest}"


def verdict(view: RunView) -> dict[str, Any]:
    """Ship / don't ship, and the comparison that explains it, one line per candidate."""
    lines = []
    for candidate, entry in view.comparison.items():
        pairwise = (view.summary.get("pairwise") or {}).get(candidate) or {}
        count = int(entry.get("regressions") or 0)
        lines.append({
            "candidate": candidate,
            "baseline": entry.get("baseline"),
            "regressions": count,
            "improvements": int(entry.get("improvements") or 0),
            "both_pass": int(entry.get("both_pass") or 0),
            "both_fail": int(entry.get("both_fail") or 0),
            "p": entry.get("mcnemar_p"),
            "note": comparison_note(entry),
            "win_rate": pairwise.get("win_rate"),
        })
    return {"verdict": view.verdict, "comparisons": lines, "status": view.run.get("status"),
            "error": view.run.get("error")}


def _changes(view: RunView, kind: str) -> dict[str, Any] | None:
    if not view.comparison:
        return None
    key = "regressions" if kind == "regression" else "improvements"
    per_candidate = {name: int(entry.get(key) or 0) for name, entry in view.comparison.items()}
    cases = sum(1 for row in view.rows if view.status_of(row) == kind)
    return {"kind": kind, "cases": cases, "per_candidate": per_candidate, "baseline": view.baseline,
            "judged": bool(view.summary.get("pairwise"))}


def regressions(view: RunView) -> dict[str, Any] | None:
    return _changes(view, "regression")


def improvements(view: RunView) -> dict[str, Any] | None:
    return _changes(view, "improved")


def gates(view: RunView) -> dict[str, Any] | None:
    return {"gates": view.gates} if view.gates else None


def _model_cards(view: RunView) -> list[dict[str, Any]]:
    cards = []
    by_name = {m.get("name"): m for m in view.run.get("models", [])}
    cost_models = (view.summary.get("cost") or {}).get("models") or {}
    for name in view.models:
        block = (view.summary.get("models") or {}).get(name) or {}
        answered = int(block.get("answered") or 0)
        judged = []
        for kind, label in (("rubric", "rubric score"), ("closed_qa", "closed-QA")):
            entry = (view.summary.get(kind) or {}).get(name)
            if entry and entry.get("mean") is not None:
                judged.append((label, _pct(entry["mean"]) if kind == "closed_qa" else f"{entry['mean']:.2f}"))
        cards.append({
            "name": name,
            "role": view.role(name),
            "colour": view.colours[name],
            "spec": (by_name.get(name) or {}).get("spec", ""),
            "pass_rate": block.get("pass_rate"),
            "pass_ci": _pass_interval(int(block.get("passed") or 0), answered),
            "answered": answered,
            "passed": block.get("passed", 0),
            "failed": block.get("failed", 0),
            "errors": block.get("errors", 0),
            "error_kinds": ", ".join(f"{k} {v}" for k, v in (block.get("errors_by_kind") or {}).items()),
            "p50": block.get("latency_p50_s"),
            "p95": block.get("latency_p95_s"),
            "prompt_tokens": int(block.get("prompt_tokens") or 0),
            "completion_tokens": int(block.get("completion_tokens") or 0),
            "cost_per_1k": (cost_models.get(name) or {}).get("per_1k_requests"),
            "judged": judged,
            "cache": _cache_text((by_name.get(name) or {}).get("cache") or {}),
        })
    return cards


def _cache_text(reuse: dict[str, Any]) -> str | None:
    """`8 answers, oldest 3 min (a name on a custom endpoint: ...)` for a model card."""
    from harness.run.reuse import format_age

    if not reuse.get("reused"):
        return None
    age = reuse.get("oldest_age_s")
    oldest = f", oldest {format_age(float(age))}" if age is not None else ""
    return f"{reuse['reused']} answers{oldest} ({reuse.get('policy')})"


def _pass_interval(passed: int, answered: int) -> tuple[float, float] | None:
    """The two-sided 95 % exact (Clopper–Pearson) interval of a pass rate."""
    if not answered:
        return None
    interval = proportion_bounds(passed, answered).interval
    return interval.low, interval.high


def _win_rates(view: RunView) -> list[dict[str, Any]]:
    cards = []
    for candidate, entry in (view.summary.get("pairwise") or {}).items():
        ci = entry.get("ci") or {}
        bias = entry.get("position_bias") or {}
        thresholds = [
            {"value": g.threshold, "passed": g.passed}
            for g in view.gates
            if g.gate.startswith("win_rate") and g.model == candidate and 0 <= g.threshold <= 1
        ]
        cards.append({
            "candidate": candidate,
            "baseline": entry.get("baseline"),
            "win_rate": entry.get("win_rate"),
            "ci_low": ci.get("low"),
            "ci_high": ci.get("high"),
            "lower": entry.get("lower_bound"),
            "wins": entry.get("wins", 0),
            "losses": entry.get("losses", 0),
            "ties": entry.get("ties", 0),
            "n": entry.get("n", 0),
            "total": entry.get("items", 0),
            "invalid": entry.get("invalid", 0),
            "inconsistent": entry.get("inconsistent"),
            "first_slot": bias.get("first_slot_rate"),
            "thresholds": thresholds,
        })
    return cards


def models(view: RunView) -> dict[str, Any]:
    return {"cards": _model_cards(view), "win_rates": _win_rates(view)}


def leaderboard(view: RunView) -> dict[str, Any] | None:
    """The Bradley–Terry ranking of several models (harness/report/leaderboard.py)."""
    return ranking.html_rows(view.summary, view.gates)


def panel(view: RunView) -> dict[str, Any] | None:
    """A judge panel's own figures and the label judge (harness/report/panel_labels.py)."""
    context = panel_labels.html_context(view.summary)
    return context if context.get("panel") or context.get("labels") else None


def _grades(view: RunView) -> list[dict[str, Any]]:
    rows = []
    for kind in ("rubric", "closed_qa"):
        for model, entry in (view.summary.get(kind) or {}).items():
            ci = entry.get("ci") or {}
            binary = kind == "closed_qa" or bool(entry.get("binary", "wilson" in entry))
            show = _pct if binary else (lambda v: "-" if v is None else f"{v:.2f}")
            rows.append({
                "kind": kind.replace("_", "-"), "model": model, "mean": show(entry.get("mean")),
                "ci": f"{show(ci.get('low'))}–{show(ci.get('high'))}" if ci else "-",
                "n": entry.get("n", 0), "total": entry.get("items", 0), "invalid": entry.get("invalid", 0),
            })
    return rows


def _metric_cell(entry: dict[str, Any] | None) -> dict[str, str]:
    if not entry or entry.get("value") is None:
        return {"value": "-", "ci": ""}
    ci = entry.get("ci") or {}
    text = f"{entry['value']:.4g}"
    return {"value": text, "ci": f"{ci['low']:.4g}–{ci['high']:.4g}" if ci.get("low") is not None else ""}


def _metric_rows(view: RunView) -> list[dict[str, Any]]:
    blocks = view.summary.get("models") or {}
    return [
        {"name": name, "cells": [_metric_cell(((blocks.get(m) or {}).get("metrics") or {}).get(name)) for m in view.models]}
        for name in view.figures.metric_names()
    ]


def _tag_rows(view: RunView) -> list[dict[str, Any]]:
    blocks = view.summary.get("models") or {}
    tags = sorted({tag for block in blocks.values() for tag in (block.get("by_tag") or {})})
    counts: dict[str, int] = {}
    for row in view.rows:
        for tag in row.tags:
            counts[tag] = counts.get(tag, 0) + 1
    rows = []
    for tag in tags:
        cells = []
        for model in view.models:
            entry = ((blocks.get(model) or {}).get("by_tag") or {}).get(tag) or {}
            metrics = entry.get("metrics") or {}
            extra = " · ".join(f"{k} {v['value']:.3g}" for k, v in metrics.items() if v.get("value") is not None)
            cells.append({"rate": entry.get("pass_rate"), "extra": extra})
        rows.append({"tag": tag, "cases": counts.get(tag, 0), "cells": cells})
    return rows


def _cost(view: RunView) -> dict[str, Any]:
    cost = view.summary.get("cost") or {}
    priced = cost.get("models") or {}
    rows = []
    for name in view.models:
        block = (view.summary.get("models") or {}).get(name) or {}
        entry = priced.get(name) or {}
        answered = int(block.get("answered") or 0)
        mean_in = (block.get("prompt_tokens") or 0) / answered if answered else None
        mean_out = (block.get("completion_tokens") or 0) / answered if answered else None
        priced_as = entry.get("priced_as") or ("runs locally" if entry.get("local") else None)
        if priced_as and entry.get("batched"):
            priced_as += f"; {entry['batched']:,} answers batched, at {entry.get('batch_priced_as')}"
        rows.append({
            "model": name,
            "priced_as": priced_as,
            "mean_in": "-" if mean_in is None else f"{mean_in:,.0f}",
            "mean_out": "-" if mean_out is None else f"{mean_out:,.0f}",
            "p50": block.get("latency_p50_s"),
            "p95": block.get("latency_p95_s"),
            "run": entry.get("run"),
            "per_1k": entry.get("per_1k_requests"),
            "monthly": entry.get("monthly"),
        })
    notes = [str(note) for note in cost.get("notes") or []]
    break_even = cost.get("break_even")
    if break_even and break_even.get("text"):
        notes.insert(0, f"Fine-tune break-even: {break_even['text']}")
    return {"rows": rows, "notes": notes, "monthly_requests": cost.get("monthly_requests")}


def tables(view: RunView) -> dict[str, Any]:
    return {"grades": _grades(view), "metric_rows": _metric_rows(view), "tag_rows": _tag_rows(view),
            "cost": _cost(view)}


def cases(view: RunView) -> dict[str, Any]:
    return {"baseline": view.baseline}


SECTIONS: list[Section] = [
    Section("verdict", verdict),
    Section("regressions", regressions),
    Section("improvements", improvements),
    Section("gates", gates),
    Section("models", models),
    Section("leaderboard", leaderboard),
    Section("panel", panel),
    Section("charts", charts),
    Section("tables", tables),
    Section("cases", cases),
]
