"""diff.md and diff.html: the regression report between two runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from markupsafe import Markup

from harness.errors import UsageError, file_problem
from harness.report.diff import Flip, ModelDiff, RunDiff
from harness.report.html import _asset, _environment
from harness.report.markdown import cell
from harness.stats.paired import PairedDelta

MAX_FLIPS_MD = 15


def _signed(value: float, percent: bool) -> str:
    return f"{100 * value:+.1f} pts" if percent else f"{value:+.4g}"


def delta_text(delta: PairedDelta | None, percent: bool) -> dict[str, str]:
    if delta is None:
        return {"base": "-", "new": "-", "delta": "-", "ci": "-", "n": "0", "mark": ""}
    def show(value: float) -> str:
        return f"{100 * value:.1f}%" if percent else f"{value:.4g}"

    ci = delta.interval
    mark = "▼" if ci.high < 0 else ("▲" if ci.low > 0 else "")
    return {
        "base": show(delta.base_mean),
        "new": show(delta.new_mean),
        "delta": _signed(delta.delta, percent),
        "ci": f"{_signed(ci.low, percent)} to {_signed(ci.high, percent)}",
        "n": str(delta.n),
        "mark": mark,
    }


def _corpus_row(name: str, before: float | None, after: float | None) -> dict[str, str]:
    """A corpus figure (BLEU, chrF): each run's own value; no paired interval (it is not a mean)."""
    def show(value: float | None) -> str:
        return "-" if value is None else f"{value:.2f}"

    change = "-" if before is None or after is None else f"{after - before:+.2f}"
    return {"figure": f"{name} (corpus)", "base": show(before), "new": show(after), "delta": change,
            "ci": "-", "n": "-", "mark": ""}


def model_rows(model: ModelDiff) -> list[dict[str, str]]:
    rows = [{"figure": "pass rate", **delta_text(model.pass_rate, True)}]
    if model.win_rate is not None:
        rows.append({"figure": "win rate", **delta_text(model.win_rate, True)})
    rows.extend(_corpus_row(name, *values) for name, values in model.corpus.items())
    rows.extend({"figure": name, **delta_text(delta, False)} for name, delta in model.metrics.items())
    return rows


def _verdict(diff: RunDiff, emoji: bool = True) -> str:
    if diff.significant_regression:
        return ("❌" if emoji else "✗") + " significant regression"
    if diff.too_many_flips():
        return ("❌" if emoji else "✗") + f" more pass → fail flips than --max-flips {diff.max_flips}"
    if diff.inconclusive:
        return ("⚠️" if emoji else "!") + " no significant regression shown, but this sample cannot rule one out"
    return ("✅" if emoji else "✓") + " no significant regression"


def render_diff_markdown(diff: RunDiff) -> str:
    lines = [
        f"## harness diff: {cell(diff.suite_name)} — {_verdict(diff)}",
        "",
        f"base `{cell(diff.base.path.name)}` → new `{cell(diff.new.path.name)}` · α = {diff.alpha:g}"
        + (" · the suite file changed between the runs" if diff.suite_changed else ""),
        "",
    ]
    if diff.added or diff.removed:
        lines += [f"Cases added: {len(diff.added)} · removed: {len(diff.removed)}", ""]
    for model in diff.models:
        test = model.mcnemar
        lines += [
            f"### {cell(model.label)}",
            "",
            f"{model.paired} cases answered in both runs · pass → fail **{test.regressions}** · fail → pass "
            f"**{test.improvements}** · exact McNemar p = {test.p_value:.3g}"
            + (f" · newly erroring {len(model.new_errors)}" if model.new_errors else ""),
            "",
            "| figure | before | after | change | 95% CI (paired bootstrap) | n |",
            "|---|---|---|---|---|---|",
        ]
        for row in model_rows(model):
            lines.append(f"| {cell(row['figure'])} | {row['base']} | {row['new']} | {row['mark']} {row['delta']} | "
                         f"{row['ci']} | {row['n']} |")
        lines.append("")
        for reason in model.reasons:
            lines.append(f"- **regression:** {cell(reason, 300)}")
        note = model.power_note()
        if note:
            lines.append(f"- **not shown:** {cell(note, 300)}")
        if model.reasons or note:
            lines.append("")
        if model.regressed:
            lines += ["Cases that went pass → fail:", "", "| case | tags | failing checks |", "|---|---|---|"]
            lines += [f"| {cell(f.case_id)} | {cell(', '.join(f.tags))} | {cell('; '.join(f.reasons))} |"
                      for f in model.regressed[:MAX_FLIPS_MD]]
            if len(model.regressed) > MAX_FLIPS_MD:
                lines.append(f"\n…and {len(model.regressed) - MAX_FLIPS_MD} more in diff.html.")
            lines.append("")
        if model.fixed:
            shown = ", ".join(f"`{cell(f.case_id)}`" for f in model.fixed[:MAX_FLIPS_MD])
            more = f" and {len(model.fixed) - MAX_FLIPS_MD} more" if len(model.fixed) > MAX_FLIPS_MD else ""
            lines += [f"Fixed (fail → pass): {shown}{more}", ""]
    return "\n".join(lines) + "\n"


def _flip_view(flip: Flip) -> dict[str, Any]:
    return {"case": flip.case_id, "tags": flip.tags, "input": flip.input, "base": flip.base_output or "",
            "new": flip.new_output or "", "reasons": flip.reasons}


def render_diff_html(diff: RunDiff) -> str:
    template = _environment().get_template("diff.html.j2")
    return template.render(
        diff=diff,
        verdict=_verdict(diff, emoji=False),
        models=[
            {"model": m, "rows": model_rows(m), "regressed": [_flip_view(f) for f in m.regressed],
             "fixed": [_flip_view(f) for f in m.fixed]}
            for m in diff.models
        ],
        css=Markup(_asset("report.css")),
    )


def write_diff(diff: RunDiff, directory: Path) -> list[Path]:
    md, page = directory / "diff.md", directory / "diff.html"
    target = directory
    try:
        directory.mkdir(parents=True, exist_ok=True)
        target = md
        md.write_text(render_diff_markdown(diff), encoding="utf-8")
        target = page
        page.write_text(render_diff_html(diff), encoding="utf-8")
    except OSError as exc:
        raise UsageError(file_problem(exc, target, "write")) from None
    return [page, md]
