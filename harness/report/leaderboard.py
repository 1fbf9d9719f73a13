"""The Bradley–Terry leaderboard in every report: a console table, a summary.md table, and the rows
report.html draws (interval whiskers on a win-rate axis, templates/_leaderboard.html.j2).

Everything reads summary.json's `ranking` block only.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def _range(values: list[int] | None) -> str:
    if not values:
        return "-"
    low, high = values
    return str(low) if low == high else f"{low}–{high}"


def _score_ci(entry: dict[str, Any]) -> str:
    ci = entry.get("score_ci") or {}
    if ci.get("low") is None:
        return "-"
    return f"{ci['low']:.0f}–{ci['high']:.0f}"


def _rate_ci(entry: dict[str, Any]) -> str:
    ci = entry.get("ci") or {}
    return "-" if ci.get("low") is None else f"{_pct(ci['low'])}–{_pct(ci['high'])}"


def description(ranking: dict[str, Any]) -> str:
    design = "round robin" if ranking.get("design") == "round_robin" else "each model vs the baseline"
    return (
        f"Bradley–Terry over {ranking.get('battles', 0)} battles, {design}; "
        f"{int(100 * float(ranking.get('confidence') or 0.95))}% bootstrap intervals over {ranking.get('prompts', 0)} prompts; "
        f"{ranking.get('anchor')} = {float(ranking.get('anchor_score') or 1000):.0f}"
    )


def title(ranking: dict[str, Any]) -> str:
    return f"ranking ({description(ranking)})"


def print_ranking(summary: dict[str, Any], console: Console) -> None:
    """The leaderboard, best first, when the run has a ranking."""
    ranking = summary.get("ranking")
    if not ranking:
        return
    table = Table(title=title(ranking), title_justify="left")
    table.add_column("rank", justify="right")
    table.add_column("model", overflow="fold")
    for column in ("rank range", "score", "95% CI", f"win rate vs {ranking.get('anchor')}", "95% CI", "W/L/T", "invalid"):
        table.add_column(column, justify="right")
    for name, entry in (ranking.get("models") or {}).items():
        table.add_row(
            str(entry["rank"]),
            name,
            _range(entry.get("rank_range")),
            f"{entry['score']:.0f}",
            _score_ci(entry),
            _pct(entry.get("win_rate")),
            _rate_ci(entry),
            f"{entry.get('wins', 0)}/{entry.get('losses', 0)}/{entry.get('ties', 0)}",
            f"[red]{entry['invalid']}[/]" if entry.get("invalid") else "0",
        )
    console.print(table)
    unranked = ranking.get("unranked") or []
    if unranked:
        console.print(f"not ranked (no valid battle): {', '.join(unranked)}", highlight=False)


def markdown_lines(summary: dict[str, Any], cell: Any) -> list[str]:
    """summary.md's leaderboard section (`cell` escapes a table cell)."""
    ranking = summary.get("ranking")
    if not ranking or not ranking.get("models"):
        return []
    anchor = ranking.get("anchor")
    lines = [
        "### Ranking",
        "",
        f"Bradley–Terry over {ranking.get('battles', 0)} judged battles; 95 % bootstrap intervals over "
        f"{ranking.get('prompts', 0)} prompts; scores anchored at {cell(anchor)} = {float(ranking.get('anchor_score') or 1000):.0f}.",
        "",
        f"| rank | model | rank range | score (95% CI) | win rate vs {cell(anchor)} (95% CI) | W/L/T |",
        "|---|---|---|---|---|---|",
    ]
    for name, entry in ranking["models"].items():
        lines.append(
            f"| {entry['rank']} | {cell(name)} | {_range(entry.get('rank_range'))} | {entry['score']:.0f} ({_score_ci(entry)}) "
            f"| {_pct(entry.get('win_rate'))} ({_rate_ci(entry)}) | {entry.get('wins', 0)}/{entry.get('losses', 0)}/{entry.get('ties', 0)} |"
        )
    return [*lines, ""]


def html_rows(summary: dict[str, Any], gates: list[Any]) -> dict[str, Any] | None:
    """What _leaderboard.html.j2 draws: one row per model with x positions (0-300) on a win-rate axis."""
    ranking = summary.get("ranking")
    if not ranking or not ranking.get("models"):
        return None
    rows = []
    for name, entry in ranking["models"].items():
        ci = entry.get("ci") or {}
        low, high = ci.get("low"), ci.get("high")
        thresholds = [
            {"x": 300 * g.threshold, "passed": g.passed}
            for g in gates
            if g.gate.startswith("bt_win_rate") and g.model == name and 0 <= g.threshold <= 1
        ]
        rows.append({
            "model": name,
            "anchor": name == ranking.get("anchor"),
            "rank": entry["rank"],
            "rank_range": _range(entry.get("rank_range")),
            "score": f"{entry['score']:.0f}",
            "score_ci": _score_ci(entry),
            "win_rate": _pct(entry.get("win_rate")),
            "win_ci": _rate_ci(entry),
            "wlt": f"{entry.get('wins', 0)}/{entry.get('losses', 0)}/{entry.get('ties', 0)}",
            "x": 300 * float(entry.get("win_rate") or 0.0),
            "x_low": None if low is None else 300 * float(low),
            "x_high": None if high is None else 300 * float(high),
            "thresholds": thresholds,
        })
    return {"title": description(ranking), "anchor": ranking.get("anchor"), "rows": rows,
            "unranked": list(ranking.get("unranked") or [])}
