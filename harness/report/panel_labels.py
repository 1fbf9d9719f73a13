"""Judge panels and label judges in every report: console tables, summary.md lines, and what
report.html shows (templates/_panel_labels.html.j2). Reads summary.json's `panel` and `label` blocks."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

_KINDS = {"pairwise": "pairwise", "rubric": "rubric", "closed_qa": "closed-QA", "label": "labels"}


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def _kappa(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def panel_notes(panel: dict[str, Any]) -> list[dict[str, Any]]:
    """Per kind: the agreement figures in one line, and the judge that disagrees most."""
    notes = []
    for kind, label in _KINDS.items():
        block = panel.get(kind)
        if not block:
            continue
        fleiss = block.get("fleiss_kappa") or {}
        pairs = "; ".join(
            f"{p['judges'][0]}–{p['judges'][1]} {_kappa(p.get('cohens_kappa'))}" for p in block.get("pairs") or []
        )
        notes.append({
            "kind": label,
            "text": f"Fleiss' κ {_kappa(fleiss.get('kappa'))} over {fleiss.get('n', 0)} items judged by every judge; "
                    f"Cohen's κ {pairs or '-'}",
            "outlier": block.get("most_disagreeing"),
        })
    return notes


def panel_rows(panel: dict[str, Any]) -> list[dict[str, Any]]:
    block = panel.get("pairwise") or next((panel[k] for k in _KINDS if panel.get(k)), None) or {}
    rows = []
    for name, entry in (block.get("judges") or {}).items():
        bias = entry.get("position_bias") or {}
        rows.append({
            "judge": name,
            "n": entry.get("n", 0),
            "invalid": entry.get("invalid", 0),
            "win_rate": _pct(entry.get("win_rate")) if "win_rate" in entry else "-",
            "first": _pct(bias.get("first_slot_rate")) if bias else "-",
            "consistency": _pct(bias.get("consistency")) if bias else "-",
            "agreement": _pct(entry.get("agreement_with_panel")),
            "outlier": name == block.get("most_disagreeing"),
        })
    return rows


def print_panel(summary: dict[str, Any], console: Console) -> None:
    panel = summary.get("panel")
    if not panel:
        return
    table = Table(
        title=f"judge panel ({panel.get('aggregate')}, quorum {panel.get('quorum')} of {len(panel.get('judges') or [])})",
        title_justify="left",
    )
    table.add_column("judge", overflow="fold")
    for column in ("valid", "invalid", "own win rate vs baseline", "picked first", "orders agree", "agrees with panel"):
        table.add_column(column, justify="right")
    for row in panel_rows(panel):
        name = f"{row['judge']} [yellow](outlier)[/]" if row["outlier"] else row["judge"]
        table.add_row(name, str(row["n"]), str(row["invalid"]), row["win_rate"], row["first"], row["consistency"],
                      row["agreement"])
    console.print(table)
    for note in panel_notes(panel):
        outlier = f"; disagrees most: {note['outlier']}" if note["outlier"] else ""
        console.print(f"{note['kind']}: {note['text']}{outlier}", highlight=False, soft_wrap=True)


def distribution_text(entry: dict[str, Any]) -> str:
    counts = entry.get("distribution") or {}
    return " · ".join(f"{label} {count}" for label, count in counts.items())


def label_rows(summary: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for model, entry in (summary.get("label") or {}).items():
        ci = entry.get("ci") or {}
        classification = entry.get("classification") or {}
        figures = classification.get("figures") or {}
        rows.append({
            "model": model,
            "pass_rate": _pct(entry.get("pass_rate")),
            "ci": f"{_pct(ci.get('low'))}–{_pct(ci.get('high'))}" if ci else "-",
            "n": entry.get("n", 0),
            "total": entry.get("items", 0),
            "invalid": entry.get("invalid", 0),
            "distribution": distribution_text(entry),
            "counts": entry.get("distribution") or {},
            "passing": entry.get("passing") or [],
            "accuracy": _pct(figures.get("accuracy")) if figures else None,
            "f1_macro": f"{figures['f1_macro']:.3f}" if figures.get("f1_macro") is not None else None,
            "references": classification.get("n"),
        })
    return rows


def print_labels(summary: dict[str, Any], console: Console) -> None:
    rows = label_rows(summary)
    if not rows:
        return
    table = Table(title="label judge (pass = a passing label)", title_justify="left")
    table.add_column("model", overflow="fold")
    for column in ("pass rate", "95% CI", "labelled", "invalid", "labels", "vs references"):
        table.add_column(column, justify="right" if column not in ("labels",) else "left", overflow="fold")
    for row in rows:
        versus = f"accuracy {row['accuracy']}, macro F1 {row['f1_macro']} (n={row['references']})" if row["accuracy"] else "-"
        table.add_row(row["model"], row["pass_rate"], row["ci"], f"{row['n']}/{row['total']}",
                      f"[red]{row['invalid']}[/]" if row["invalid"] else "0", row["distribution"], versus)
    console.print(table)


def markdown_lines(summary: dict[str, Any], cell: Any) -> list[str]:
    lines: list[str] = []
    rows = label_rows(summary)
    if rows:
        lines += ["### Label judge", "", "| model | pass rate (95% CI) | labelled | labels |", "|---|---|---|---|"]
        lines += [f"| {cell(r['model'])} | {r['pass_rate']} ({r['ci']}) | {r['n']}/{r['total']} | {cell(r['distribution'])} |"
                  for r in rows]
        lines.append("")
    panel = summary.get("panel")
    if panel:
        lines += [f"### Judge panel ({cell(panel.get('aggregate'))}, quorum {panel.get('quorum')})", "",
                  "| judge | valid | own win rate vs baseline | picked first | agrees with panel |", "|---|---|---|---|---|"]
        for row in panel_rows(panel):
            name = cell(row["judge"]) + (" (disagrees most)" if row["outlier"] else "")
            lines.append(f"| {name} | {row['n']} | {row['win_rate']} | {row['first']} | {row['agreement']} |")
        lines.append("")
        lines += [f"{cell(note['kind'])}: {cell(note['text'])}" for note in panel_notes(panel)]
        lines.append("")
    return lines


def html_context(summary: dict[str, Any]) -> dict[str, Any]:
    panel = summary.get("panel")
    return {
        "panel": None if not panel else {
            "aggregate": panel.get("aggregate"), "quorum": panel.get("quorum"), "judges": len(panel.get("judges") or []),
            "rows": panel_rows(panel), "notes": panel_notes(panel),
        },
        "labels": label_rows(summary),
    }
