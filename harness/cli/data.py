"""`harness data`: check, clean and split fine-tuning data; find eval cases leaked into it.

Exit codes: 0 ok; 1 problems above the threshold (check) or contaminated cases (contamination);
2 usage errors (missing file, bad flags), one line each.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from harness.data.problems import ALL_KINDS
from harness.errors import EXIT_GATE_FAILED, UsageError

if TYPE_CHECKING:
    from harness.data.scan import ScanOptions

_FORMATS = ("auto", "openai_chat", "alpaca", "evals", "csv", "jsonl")
_KINDS = ALL_KINDS


def parse_limit(text: str, total: int, option: str) -> int:
    """A count (10), fraction (0.05) or percentage (5%) of `total`, as a count."""
    value = text.strip()
    try:
        if value.endswith("%"):
            number = float(value[:-1])
            if not 0 <= number <= 100:
                raise ValueError
            return int(total * number / 100)
        if "." in value:
            fraction = float(value)
            if not 0 <= fraction <= 1:
                raise ValueError
            return int(total * fraction)
        count = int(value)
        if count < 0:
            raise ValueError
        return count
    except ValueError:
        raise UsageError(f"{option} takes a count (10), a fraction (0.05) or a percentage (5%), not '{text}'") from None


def _common(function: Callable[..., Any]) -> Callable[..., Any]:
    """Options every data command shares."""
    options = [
        click.option("--format", "fmt", type=click.Choice(_FORMATS), default="auto", show_default=True,
                     help="Input format; detected from the first record when auto."),
        click.option("--near-threshold", type=click.FloatRange(0, 1, min_open=True), default=0.8, show_default=True,
                     help="Estimated Jaccard similarity (word trigrams) from which two examples are near duplicates."),
        click.option("--no-near-duplicates", is_flag=True, help="Only exact duplicates (faster)."),
        click.option("-q", "--quiet", is_flag=True, help="No progress bar."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def _pii_options(function: Callable[..., Any]) -> Callable[..., Any]:
    function = click.option("--phone-region", default="US", show_default=True, metavar="CC",
                            help="Country whose national phone formats are recognised (international +NN numbers always are).")(function)
    return click.option("--names", is_flag=True, help="Also find person names (titles, introductions, sign-offs).")(function)


def _scan_options(fmt: str, near_threshold: float, no_near_duplicates: bool, names: bool = False,
                  phone_region: str = "US", pii: bool = True, **rules: Any) -> ScanOptions:
    from harness.data.scan import ScanOptions
    from harness.data.validate import Rules

    try:
        built = Rules.build(**rules)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    return ScanOptions(fmt=fmt, rules=built, near_duplicates=not no_near_duplicates, near_threshold=near_threshold,
                       pii=pii, pii_names=names, phone_region=phone_region)


def _stderr() -> Any:
    from harness.terminal import make_console

    return make_console(stderr=True)


def _stdout() -> Any:
    from harness.terminal import output_console

    return output_console()


@click.group()
def data() -> None:
    """Check, clean and split fine-tuning data; find eval cases that leaked into it."""


@data.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@_common
@_pii_options
@click.option("--min-chars", type=click.IntRange(min=0), default=10, show_default=True,
              help="User and assistant turns shorter than this are `short_content`.")
@click.option("--max-tokens", type=click.IntRange(min=1), default=65_536, show_default=True,
              help="Examples with more tokens are `too_long`.")
@click.option("--refusal-pattern", "refusal_patterns", multiple=True, metavar="REGEX",
              help="Assistant text matching this (case-insensitive) is a `refusal`; repeatable, replaces the defaults.")
@click.option("--no-pii", is_flag=True, help="Do not look for PII.")
@click.option("--model", default="gpt-4o-mini", show_default=True, metavar="MODEL",
              help="Model to fine-tune, for the tokenizer and the training price.")
@click.option("--epochs", default="3", show_default=True, metavar="N|auto",
              help="Epochs for the cost estimate; auto = OpenAI's choice for the file's size.")
@click.option("--prices", type=click.Path(path_type=Path), metavar="FILE",
              help="YAML price table replacing the packaged prices it names (default $HARNESS_PRICES).")
@click.option("--tokenizer", type=click.Choice(["auto", "tiktoken", "approx"]), default="auto", show_default=True,
              help="tiktoken needs its encoding cached locally; auto falls back to the approximation.")
@click.option("--max-problems", default="0", show_default=True, metavar="N|FRACTION|PCT",
              help="Exit 1 when more examples than this have a problem (of a kind not ignored).")
@click.option("--ignore", multiple=True, type=click.Choice(_KINDS), metavar="KIND",
              help="Problem kind to neither report nor count; repeatable.")
@click.option("--show", type=click.IntRange(min=0), default=20, show_default=True,
              help="Problems listed per kind (all are counted).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON (up to 1000 problems per kind).")
def check(files: tuple[Path, ...], fmt: str, near_threshold: float, no_near_duplicates: bool, quiet: bool,
          names: bool, phone_region: str, min_chars: int, max_tokens: int, refusal_patterns: tuple[str, ...],
          no_pii: bool, model: str, epochs: str, prices: Path | None, tokenizer: str, max_problems: str,
          ignore: tuple[str, ...], show: int, as_json: bool) -> int:
    """Report every problem of every example in FILES, with line numbers, token counts and a training-cost estimate."""
    from harness.data.check import check_files
    from harness.data.progress import byte_progress
    from harness.data.render import print_check
    from harness.data.tokens import token_counter
    from harness.pricing import load_price_table

    if epochs == "auto":
        chosen_epochs: int | None = None
    else:
        try:
            chosen_epochs = int(epochs)
            if chosen_epochs < 1:
                raise ValueError
        except ValueError:
            raise UsageError(f"--epochs takes a positive number or auto, not '{epochs}'") from None
    parse_limit(max_problems, 0, "--max-problems")  # validate before the long pass
    options = _scan_options(fmt, near_threshold, no_near_duplicates, names, phone_region, pii=not no_pii,
                            min_chars=min_chars, max_tokens=max_tokens,
                            refusal_patterns=list(refusal_patterns) or None)
    table = load_price_table(prices)
    counter = token_counter(model, tokenizer)  # type: ignore[arg-type]
    err = _stderr()
    with byte_progress(files, "checking", err, enabled=not quiet) as on_bytes:
        report = check_files(files, options, counter, table, model=model, epochs=chosen_epochs,
                             ignore=frozenset(ignore), keep_per_kind=max(show, 1000), on_bytes=on_bytes)
    limit = parse_limit(max_problems, report.examples, "--max-problems")
    if as_json:
        click.echo(report.model_dump_json(indent=2))
    else:
        print_check(report, _stdout(), show)
    too_few = "too_few_examples" in report.problems_by_kind
    if report.with_problems > limit or too_few:
        reason = (f"{report.with_problems} of {report.examples} examples have problems (--max-problems {max_problems})"
                  if report.with_problems > limit else f"only {report.examples} examples")
        click.echo(f"data check failed: {reason}", err=True)
        return EXIT_GATE_FAILED
    return 0


@data.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True, help="Where the cleaned file goes.")
@click.option("--report", "report_path", type=click.Path(path_type=Path),
              help="JSON list of every change (default OUTPUT.report.json).")
@_common
@_pii_options
@click.option("--drop", multiple=True, type=click.Choice(["short_content", "refusal", "too_long", "pii"]),
              metavar="KIND", help="Also drop examples with this problem (short_content, refusal, too_long, pii); repeatable.")
@click.option("--no-anonymize", is_flag=True, help="Keep PII as it is.")
@click.option("--min-chars", type=click.IntRange(min=0), default=10, show_default=True, help="As in `data check`.")
@click.option("--max-tokens", type=click.IntRange(min=1), default=65_536, show_default=True, help="As in `data check`.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def clean(file: Path, output: Path, report_path: Path | None, fmt: str, near_threshold: float,
          no_near_duplicates: bool, quiet: bool, names: bool, phone_region: str, drop: tuple[str, ...],
          no_anonymize: bool, min_chars: int, max_tokens: int, as_json: bool) -> None:
    """Write FILE without invalid examples and duplicates, PII replaced by placeholders ([EMAIL], [PHONE]...)."""
    from harness.data.clean import clean_file
    from harness.data.progress import byte_progress
    from harness.data.reader import check_readable
    from harness.data.render import print_clean
    from harness.data.tokens import token_counter

    check_readable(file)
    options = _scan_options(fmt, near_threshold, no_near_duplicates, names, phone_region,
                            pii="pii" in drop, min_chars=min_chars, max_tokens=max_tokens)
    counter = token_counter("gpt-4o-mini") if "too_long" in drop else None
    with byte_progress([file], "cleaning", _stderr(), enabled=not quiet, passes=2) as on_bytes:
        report = clean_file(file, output, options, report_path, drop=frozenset(drop), anonymize=not no_anonymize,
                            counter=counter, on_bytes=on_bytes)
    if as_json:
        click.echo(report.model_dump_json(indent=2))
    else:
        print_clean(report, _stdout())


@data.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--train", "train_fraction", type=float, default=0.8, show_default=True, help="Share of examples in train.")
@click.option("--val", "val_fraction", type=float, default=0.1, show_default=True, help="Share in validation.")
@click.option("--test", "test_fraction", type=float, default=0.1, show_default=True, help="Share in test.")
@click.option("--seed", type=int, default=0, show_default=True, help="Same file and seed, same split.")
@click.option("--stratify", metavar="FIELD", help="Keep each value of this record field (dotted path) in proportion.")
@click.option("-o", "--output", "out_dir", type=click.Path(path_type=Path, file_okay=False),
              help="Folder for FILE-STEM.train/.val/.test files (default: FILE's folder).")
@_common
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def split(file: Path, train_fraction: float, val_fraction: float, test_fraction: float, seed: int,
          stratify: str | None, out_dir: Path | None, fmt: str, near_threshold: float, no_near_duplicates: bool,
          quiet: bool, as_json: bool) -> None:
    """Split FILE into train/val/test deterministically; near-duplicates always land in the same split."""
    from harness.data.progress import byte_progress
    from harness.data.reader import check_readable
    from harness.data.render import print_split
    from harness.data.split import check_fractions, split_file

    fractions = {"train": train_fraction, "val": val_fraction, "test": test_fraction}
    check_fractions(fractions)
    check_readable(file)
    options = _scan_options(fmt, near_threshold, no_near_duplicates, pii=False)
    with byte_progress([file], "splitting", _stderr(), enabled=not quiet, passes=2) as on_bytes:
        report = split_file(file, fractions, seed, options, out_dir, stratify, on_bytes)
    if as_json:
        click.echo(report.model_dump_json(indent=2))
    else:
        print_split(report, _stdout())


@data.command()
@click.option("--suite", "suite_path", type=click.Path(path_type=Path), required=True, help="The evaluation suite.")
@click.option("--train", "train_files", multiple=True, type=click.Path(path_type=Path), metavar="FILE",
              help="Training data file, repeatable (default: the suite's `training_data`).")
@click.option("--threshold", type=click.FloatRange(0, 1, min_open=True), default=0.8, show_default=True,
              help="Share of an eval text's word trigrams a training turn must contain to match.")
@click.option("--format", "fmt", type=click.Choice(_FORMATS), default="auto", show_default=True,
              help="Format of the training files.")
@click.option("--max-contaminated", default="0", show_default=True, metavar="N|FRACTION|PCT",
              help="Exit 1 when more cases than this are contaminated.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def contamination(suite_path: Path, train_files: tuple[Path, ...], threshold: float, fmt: str,
                  max_contaminated: str, quiet: bool, as_json: bool) -> int:
    """List eval cases whose input or reference appears (exactly or nearly) in the training data."""
    from harness.data.contamination import find_contamination, training_paths
    from harness.data.progress import byte_progress
    from harness.data.render import print_contamination
    from harness.suite.loader import load_suite

    parse_limit(max_contaminated, 0, "--max-contaminated")
    suite = load_suite(suite_path)
    declared = suite.spec.training_data if suite.spec is not None else []
    paths = list(train_files) or training_paths(suite.path, declared)
    if not paths:
        raise UsageError(f"no training data: pass --train FILE, or name it in {suite_path} as `training_data:`")
    with byte_progress(paths, "matching", _stderr(), enabled=not quiet) as on_bytes:
        report = find_contamination(paths, suite.cases, suite.name, threshold, fmt, on_bytes)
    if as_json:
        click.echo(report.model_dump_json(indent=2))
    else:
        print_contamination(report, _stdout())
    limit = parse_limit(max_contaminated, report.cases, "--max-contaminated")
    if report.contaminated_cases > limit:
        click.echo(f"contamination: {report.contaminated_cases} of {report.cases} cases appear in the training data "
                   f"(--max-contaminated {max_contaminated})", err=True)
        return EXIT_GATE_FAILED
    return 0
