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

from harness.gates.figures import format_value
from harness.report.sections import SECTIONS, header_facts, when
from harness.report.view import CaseRow, RunView

_JSON_ESCAPES = {ord("<"): "\\u003c", ord(">"): "\\u003e", ord("&"): "\\u0026", 0x2028: "\\u2028", 0x2029: "\\u2029"}


def _pct(value: float | None) -> str:
    return format_value(value, "fraction")


def _secs(value: float | None) -> str:
    return format_value(value, "seconds")


def _money(value: float | None) -> str:
    return format_value(value, "money")


@cache
def _environment() -> Environment:
    env = Environment(loader=PackageLoader("harness.report", "templates"), autoescape=True, trim_blocks=True,
                      lstrip_blocks=True)
    env.filters.update(pct=_pct, secs=_secs, money=_money, when=when)
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
        "roles": {model: view.role(model) for model in models},
        "diff": diff,
        "tags": sorted({tag for row in view.rows for tag in row.tags}),
        "cases": [_case_entry(view, row) for row in view.sorted_rows()],
    }


def render_html(view: RunView) -> str:
    script = _asset("report.js")
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
    template = _environment().get_template("report.html.j2")
    built = [(section, section.build(view)) for section in SECTIONS]
    return template.render(
        view=view,
        run=view.run,
        description=(view.run.get("suite") or {}).get("description"),
        facts=header_facts(view),
        sections=[(section, data) for section, data in built if data is not None],
        css=Markup(_asset("report.css")),
        script=Markup(script),
        script_hash=f"sha256-{digest}",
        data_json=embed_json(report_data(view)),
    )


def write_html(view: RunView, path: Path) -> None:
    path.write_text(render_html(view), encoding="utf-8")
