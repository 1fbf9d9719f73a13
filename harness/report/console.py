"""The summary tables printed at the end of `harness run`: per model, then judged comparisons and grades."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from harness.report import leaderboard, panel_labels
from harness.report.comparison import comparison_note
from harness.terminal import literal


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}s"


def print_summary(summary: dict[str, Any], console: Console, title: str | None = None) -> None:
    table = Table(title=literal(title) if title else None, title_justify="left")
    table.add_column("model", overflow="fold")
    for column in ("results", "passed", "failed", "errors", "pass rate", "p50", "p95", "tokens in/out", "cached"):
        table.add_column(column, justify="right")
    comparison = summary.get("comparison") or {}
    baseline = next((str(entry.get("baseline")) for entry in comparison.values()), None)
    for name, block in summary.get("models", {}).items():
        role = "baseline" if name == baseline else ("candidate" if name in comparison else None)
        errors = str(block["errors"])
        if block["errors"]:
            kinds = literal(", ".join(f"{k} {v}" for k, v in block.get("errors_by_kind", {}).items()))
            errors = f"[red]{errors}[/] ({kinds})"
        table.add_row(
            f"{literal(name)} [dim]({role})[/]" if role else literal(name),
            str(block["results"]),
            str(block["passed"]),
            str(block["failed"]),
            errors,
            _pct(block["pass_rate"]),
            _seconds(block.get("latency_p50_s")),
            _seconds(block.get("latency_p95_s")),
            f"{block.get('prompt_tokens', 0)}/{block.get('completion_tokens', 0)}",
            str(block.get("cached", 0)),
        )
    console.print(table)
    print_metrics(summary, console)
    print_judging(summary, console)
    leaderboard.print_ranking(summary, console)
    panel_labels.print_panel(summary, console)
    panel_labels.print_labels(summary, console)
    print_comparison(summary, console)


def print_comparison(summary: dict[str, Any], console: Console) -> None:
    """One line per candidate: its regressions (named) and improvements against the baseline."""
    for candidate, entry in (summary.get("comparison") or {}).items():
        regressed = [str(change["case_id"]) for change in entry.get("regressed") or []]
        count, improved = len(regressed), int(entry.get("improvements") or 0)
        named = f" ({', '.join(regressed[:5])}{', ...' if count > 5 else ''})" if regressed else ""
        text = Text(f"{candidate} vs baseline {entry.get('baseline')}: ")
        text.append(f"{count} regression{'s' if count != 1 else ''}{named}", style="red" if count else "green")
        text.append(f", {improved} improvement{'s' if improved != 1 else ''}, {entry.get('both_pass', 0)} pass on both, "
                    f"{entry.get('both_fail', 0)} fail on both")
        note = comparison_note(entry)
        if note:
            text.append(f"; {note}", style="dim")
        console.print(text, soft_wrap=True)


# sacrebleu's scores are on a 0-100 scale; the others on 0-1.
_PERCENT_SCALE = ("bleu", "chrf")


def _figure(name: str, figure: dict[str, Any]) -> str:
    value = figure.get("value")
    if value is None:
        return "-"
    digits = 2 if name in _PERCENT_SCALE or abs(value) >= 10 else 3
    text = f"{value:.{digits}f}"
    ci = figure.get("ci")
    if ci:
        text += f" [{ci['low']:.{digits}f}, {ci['high']:.{digits}f}]"
    return f"{text} [dim]n={figure.get('n')}[/]"


def print_metrics(summary: dict[str, Any], console: Console) -> None:
    """Reference metrics per model (rows: metrics), value with its 95 % bootstrap interval."""
    models = {name: block.get("metrics") or {} for name, block in summary.get("models", {}).items()}
    names = list(dict.fromkeys(name for metrics in models.values() for name in metrics))
    if not names:
        return
    table = Table(title="reference metrics (95% CI)", title_justify="left")
    table.add_column("metric")
    for model in models:
        table.add_column(literal(model), justify="right", overflow="fold")
    for name in names:
        table.add_row(literal(name), *(_figure(name, metrics[name]) if name in metrics else "-" for metrics in models.values()))
    console.print(table)
    for model, block in summary.get("models", {}).items():
        unmatched = (block.get("classification") or {}).get("unmatched")
        if unmatched:
            console.print(f"{model}: {unmatched} outputs matched no label (counted as 'unmatched')", markup=False)


def _interval(interval: dict[str, float] | None) -> str:
    return "-" if not interval else f"{100 * interval['low']:.1f}-{100 * interval['high']:.1f}%"


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _count(value: int) -> str:
    return f"[red]{value}[/]" if value else "0"


def print_judging(summary: dict[str, Any], console: Console) -> None:
    """Pairwise win rates (candidate vs baseline) and rubric / closed-QA grades, when a judge ran."""
    pairwise = summary.get("pairwise") or {}
    if pairwise:
        table = Table(title="pairwise (LLM judge, both orders)", title_justify="left")
        table.add_column("candidate vs baseline", overflow="fold")
        for column in ("win rate", "95% CI", "lower bound", "W/L/T", "invalid", "position bias", "soft win rate"):
            table.add_column(column, justify="right")
        for name, block in pairwise.items():
            bias = block["position_bias"]
            bias_text = "-" if bias["first_slot_rate"] is None else f"{100 * bias['first_slot_rate']:.0f}% first"
            soft = block.get("soft")
            table.add_row(
                literal(f"{name} vs {block['baseline']}"),
                _pct(block["win_rate"]),
                _interval(block["ci"]),
                _pct(block.get("lower_bound")),
                f"{block['wins']}/{block['losses']}/{block['ties']}",
                _count(block["invalid"]),
                bias_text,
                _pct(soft["win_rate"]) if soft else "-",
            )
        console.print(table)
    for kind, title in (("rubric", "rubric scores"), ("closed_qa", "closed-QA consistency")):
        grades = summary.get(kind) or {}
        if not grades:
            continue
        table = Table(title=f"{title} (LLM judge)", title_justify="left")
        table.add_column("model", overflow="fold")
        for column in ("mean", "95% CI", "n", "invalid", "skipped"):
            table.add_column(column, justify="right")
        for name, block in grades.items():
            ci = block["ci"]
            binary = kind == "closed_qa" or bool(block.get("binary", "wilson" in block))
            table.add_row(
                literal(name),
                _pct(block["mean"]) if binary else _number(block["mean"]),
                _interval(ci) if binary else ("-" if not ci else f"{ci['low']:.2f}-{ci['high']:.2f}"),
                str(block["n"]),
                _count(block["invalid"]),
                str(block["skipped"]),
            )
        console.print(table)
