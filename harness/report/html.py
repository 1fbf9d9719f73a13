"""report.html: one self-contained file (inline CSS, JS and SVG; no network) rendered with Jinja2.

The server-rendered part (gates, cards, tables) is autoescaped. The cases are embedded as JSON
(`<`, `>`, `&` escaped so no answer can close the script element) and rendered by the inline
script with textContent only. A Content-Security-Policy allows no network and only the
report's own script (by hash), so even a payload that slipped through could not run or load.
"""

from __future__ import annotations

import base64
import hashlib
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import orjson
from jinja2 import Environment, PackageLoader
from markupsafe import Markup

from harness.gates.figures import format_value, wilson_one_sided
from harness.report import leaderboard, panel_labels
from harness.report.view import CaseRow, RunView

_JSON_ESCAPES = {ord("<"): "\\u003c", ord(">"): "\\u003e", ord("&"): "\\u0026", 0x2028: "\\u2028", 0x2029: "\\u2029"}


def _pct(value: float | None) -> str:
    return format_value(value, "fraction")


def _secs(value: float | None) -> str:
    return format_value(value, "seconds")


def _money(value: float | None) -> str:
    return format_value(value, "money")


def _when(value: str | None) -> str:
    """2025-01-31T09:15:02+00:00 -> 2025-01-31 09:15 UTC."""
    if not value:
        return ""
    text = value.replace("T", " ")[:16]
    return text + " UTC" if value.endswith(("+00:00", "Z")) else text


@cache
def _environment() -> Environment:
    env = Environment(loader=PackageLoader("harness.report", "templates"), autoescape=True, trim_blocks=True,
                      lstrip_blocks=True)
    env.filters.update(pct=_pct, secs=_secs, money=_money, when=_when)
    return env


@cache
def _asset(name: str) -> str:
    return resources.files("harness.report").joinpath("templates", name).read_text(encoding="utf-8")


def embed_json(data: Any) -> Markup:
    """JSON safe inside a <script> element: no `</script>`, no `<!--`, no HTML entities."""
    text = orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS).decode("utf-8")
    return Markup(text.translate(_JSON_ESCAPES))


def _orders(line: dict[str, Any]) -> list[dict[str, Any]]:
    """The judged orders of a line; a panel's are every judge's, each marked with its judge."""
    keys = ("order", "answer_a", "answer_b", "verdict", "winner", "reply", "invalid")
    judges = line.get("judges")
    if judges:
        return [{"judge": name, **{key: order.get(key) for key in keys}}
                for name, verdict in judges.items() for order in verdict.get("orders") or []]
    return [{key: order.get(key) for key in keys} for order in line.get("orders") or []]


def _pairwise_entry(line: dict[str, Any]) -> dict[str, Any]:
    return {
        "candidate": line.get("candidate"),
        "baseline": line.get("baseline"),
        "outcome": line.get("outcome"),
        "inconsistent": bool(line.get("inconsistent")),
        "identical": bool(line.get("identical")),
        "note": line.get("invalid") or line.get("skipped"),
        "orders": _orders(line),
    }


def _case_entry(view: RunView, row: CaseRow) -> dict[str, Any]:
    return {
        "id": row.case_id,
        "repeat": row.repeat,
        "status": view.status_of(row),
        "tags": row.tags,
        "input": row.input,
        "messages": [{"role": m.get("role"), "content": m.get("content")} for m in row.messages],
        "references": row.references,
        "answers": row.answers,
        "pairwise": {
            **{name: _pairwise_entry(line) for name, line in row.pairwise.items()},
            **{f"{line.get('candidate')} vs {line.get('baseline')}": _pairwise_entry(line) for line in row.battles},
        },
    }


def report_data(view: RunView) -> dict[str, Any]:
    """The JSON the page's script renders the cases from."""
    models = view.models
    baseline = view.baseline
    candidate = next((m for m in view.candidates if m != baseline), None)
    diff = [baseline, candidate] if baseline and candidate else (models[:2] if len(models) > 1 else [None, None])
    return {
        "models": models,
        "baseline": baseline,
        "diff": diff,
        "tags": sorted({tag for row in view.rows for tag in row.tags}),
        "cases": [_case_entry(view, row) for row in view.sorted_rows()],
    }


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
        role = "baseline" if name == view.baseline else ("candidate" if view.baseline else None)
        cards.append({
            "name": name,
            "role": role,
            "spec": (by_name.get(name) or {}).get("spec", ""),
            "pass_rate": block.get("pass_rate"),
            "pass_ci": wilson_one_sided(float(block.get("passed") or 0), answered) if answered else None,
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
        })
    return cards


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


def _grades(view: RunView) -> list[dict[str, Any]]:
    rows = []
    for kind in ("rubric", "closed_qa"):
        for model, entry in (view.summary.get(kind) or {}).items():
            ci = entry.get("ci") or {}
            binary = kind == "closed_qa" or "wilson" in entry
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
        rows.append({
            "model": name,
            "priced_as": entry.get("priced_as"),
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
    if not priced:
        notes.append("No prices: add a `cost:` block with prices to the suite for models the price table does not know.")
    return {"rows": rows, "notes": notes, "monthly_requests": cost.get("monthly_requests")}


def render_html(view: RunView) -> str:
    script = _asset("report.js")
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
    template = _environment().get_template("report.html.j2")
    return template.render(
        view=view,
        run=view.run,
        description=(view.run.get("suite") or {}).get("description"),
        model_cards=_model_cards(view),
        win_rates=_win_rates(view),
        grades=_grades(view),
        metric_rows=_metric_rows(view),
        tag_rows=_tag_rows(view),
        cost=_cost(view),
        leaderboard=leaderboard.html_rows(view.summary, view.gates),
        panel_labels=panel_labels.html_context(view.summary),
        css=Markup(_asset("report.css")),
        script=Markup(script),
        script_hash=f"sha256-{digest}",
        data_json=embed_json(report_data(view)),
    )


def write_html(view: RunView, path: Path) -> None:
    path.write_text(render_html(view), encoding="utf-8")
