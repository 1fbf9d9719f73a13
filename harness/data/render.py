"""Console output of the data commands: problem lines like a linter's, then summary tables."""

from __future__ import annotations

from collections import Counter

from rich.console import Console
from rich.table import Table

from harness.data.check import CheckReport
from harness.data.clean import CleanReport
from harness.data.contamination import ContaminationReport
from harness.data.problems import ALL_KINDS
from harness.data.split import SplitReport


def _money(value: float | None, currency: str) -> str:
    if value is None:
        return "unknown"
    symbol = "$" if currency == "USD" else f"{currency} "
    return f"{symbol}{value:,.2f}" if value >= 0.01 or value == 0 else f"{symbol}{value:.4f}"


def print_check(report: CheckReport, out: Console, show: int) -> None:
    shown: Counter[str] = Counter()
    for problem in report.problems:
        shown[problem.kind] += 1
        if shown[problem.kind] <= show:
            where = f"{problem.file}:{problem.line}" if problem.line else (
                f"{problem.file}#{problem.row}" if problem.row else problem.file
            )
            out.print(f"{where}: {problem.kind}: {problem.message}", markup=False, highlight=False, soft_wrap=True)
    hidden = {kind: count - min(show, count) for kind, count in report.problems_by_kind.items() if count > show}
    if hidden:
        listed = ", ".join(f"{count} {kind}" for kind, count in hidden.items())
        out.print(f"... and {listed} not listed (--show N to list more, --json for all)", markup=False, highlight=False)
    if report.problems:
        out.print()

    files = ", ".join(f"{name} ({fmt})" for name, fmt in report.files.items())
    table = Table(title=f"{report.examples} examples in {files}", title_justify="left", show_edge=False)
    table.add_column("problem")
    table.add_column("examples", justify="right")
    table.add_column("share", justify="right")
    for kind in ALL_KINDS:
        count = report.problems_by_kind.get(kind)
        if count:
            share = f"{count / report.examples:.1%}" if report.examples else ""
            table.add_row(kind, f"{count:,}", share)
    if not report.problems_by_kind:
        table.add_row("none", "0", "")
    out.print(table)
    out.print(
        f"valid {report.valid:,}; with problems {report.with_problems:,}; duplicates {report.duplicates:,} exact + "
        f"{report.near_duplicates:,} near; `harness data clean` keeps {report.kept_by_clean:,}",
        highlight=False,
    )
    tokens = report.tokens
    method = tokens.method if tokens.exact else "approximate: no tiktoken encoding cached locally"
    out.print(
        f"tokens ({method}): {tokens.total:,} total, {tokens.clean_total:,} after cleaning; per example mean "
        f"{tokens.mean:,.0f}, median {tokens.median:,.0f}, p95 {tokens.p95:,.0f}, max {tokens.max:,}",
        highlight=False,
    )
    cost = report.cost
    if cost is not None:
        epochs = f"{cost.epochs} epochs" + (" (auto)" if cost.epochs_auto else "")
        if cost.price_per_1m is None:
            reason = "not in the price table" if cost.priced_as is None else "no training price in the table"
            out.print(f"training cost for {cost.model}: unknown ({reason}; --prices FILE adds it)", highlight=False)
        else:
            out.print(
                f"estimated training cost: {_money(cost.cost, cost.currency)} ({cost.model} at "
                f"{_money(cost.price_per_1m, cost.currency)}/1M training tokens x {cost.training_tokens:,} tokens = "
                f"{tokens.clean_total:,} x {epochs}); file as is: {_money(cost.cost_as_is, cost.currency)}",
                highlight=False,
            )


def print_clean(report: CleanReport, out: Console) -> None:
    dropped = sum(report.dropped.values())
    reasons = ", ".join(f"{count} {kind}" for kind, count in report.dropped.items()) or "none"
    replaced = ", ".join(f"{count} {kind}" for kind, count in report.replacements.items()) or "none"
    out.print(f"{report.output}: kept {report.kept:,} of {report.examples:,} examples", highlight=False)
    out.print(f"dropped {dropped:,}: {reasons}", highlight=False)
    out.print(f"anonymized {report.anonymized_examples:,} examples: {replaced}", highlight=False)
    out.print(f"every change: {report.report}", highlight=False)


def print_split(report: SplitReport, out: Console) -> None:
    total = sum(report.counts.values())
    for name, path in report.outputs.items():
        count = report.counts[name]
        share = f"{count / total:.1%}" if total else ""
        out.print(f"{name:5} {count:>8,} ({share}) {path}", highlight=False)
    out.print(
        f"{report.groups:,} groups; {report.grouped_examples:,} examples share a group with a near or exact copy "
        f"and were kept together (seed {report.seed})",
        highlight=False,
    )
    if report.strata:
        table = Table(title=f"by {report.stratify}", title_justify="left", show_edge=False)
        table.add_column(report.stratify or "")
        for name in report.outputs:
            table.add_column(name, justify="right")
        for stratum, counts in report.strata.items():
            table.add_row(stratum, *(f"{counts.get(name, 0):,}" for name in report.outputs))
        out.print(table)


def print_contamination(report: ContaminationReport, out: Console) -> None:
    for match in report.matches:
        out.print(
            f"{match.origin}: case '{match.case_id}' {match.field} {match.kind} match "
            f"({match.overlap:.0%} of its trigrams) in {match.train_at} ({match.train_role}"
            f"{f', {match.train_matches} training turns in all' if match.train_matches > 1 else ''}): "
            f"{match.text!r} ~ {match.train_text!r}",
            markup=False, highlight=False, soft_wrap=True,
        )
    files = ", ".join(report.train_files)
    out.print(
        f"{report.contaminated_cases} of {report.cases} cases of {report.suite} appear in the training data "
        f"({report.training_examples:,} examples in {files}; threshold {report.threshold:.0%})",
        highlight=False,
    )
