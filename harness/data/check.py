"""`harness data check`: every problem of every example, token counts and a training-cost estimate."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from pathlib import Path

import numpy as np
from pydantic import BaseModel, Field

from harness.data.duplicates import DuplicateFinder
from harness.data.problems import ALL_KINDS, Problem
from harness.data.scan import ScanOptions, ScanState, finish, scan
from harness.data.tokens import TokenCounter
from harness.pricing import PriceTable

# OpenAI's fine-tuning API rejects files with fewer examples than this.
MIN_EXAMPLES = 10

# How OpenAI picks epochs when n_epochs is "auto" (from its data-preparation guide): 3, raised
# for small files up to 25 so the model sees ~100 examples, lowered for big ones to ~25,000.
TARGET_EPOCHS, MIN_TARGET_EXAMPLES, MAX_TARGET_EXAMPLES, MAX_AUTO_EPOCHS = 3, 100, 25_000, 25


def auto_epochs(examples: int) -> int:
    if examples <= 0:
        return TARGET_EPOCHS
    if examples * TARGET_EPOCHS < MIN_TARGET_EXAMPLES:
        return min(MAX_AUTO_EPOCHS, math.ceil(MIN_TARGET_EXAMPLES / examples))
    if examples * TARGET_EPOCHS > MAX_TARGET_EXAMPLES:
        return max(1, MAX_TARGET_EXAMPLES // examples)
    return TARGET_EPOCHS


class ProblemOut(BaseModel):
    file: str
    line: int = Field(description="1-based line in the file; 0 for records of a JSON array (see row).")
    row: int = Field(description="1-based position of the example in its file.")
    kind: str
    message: str

    @staticmethod
    def of(problem: Problem) -> ProblemOut:
        return ProblemOut(file=problem.file, line=problem.line, row=problem.row, kind=problem.kind, message=problem.message)


class TokenStats(BaseModel):
    method: str = Field(description="`tiktoken <encoding>` (exact) or `approximate`.")
    exact: bool
    total: int = Field(description="Tokens in every readable example, chat overhead included.")
    clean_total: int = Field(description="Tokens in the examples `harness data clean` keeps.")
    mean: float
    median: float
    p95: float
    max: int
    over_limit: int = Field(description="Examples above --max-tokens.")


class CostEstimate(BaseModel):
    model: str = Field(description="The model to fine-tune, as given.")
    priced_as: str | None = Field(description="The price-table entry it resolved to (None when unknown).")
    epochs: int
    epochs_auto: bool
    training_tokens: int = Field(description="Tokens of the examples `clean` keeps x epochs.")
    price_per_1m: float | None
    cost: float | None
    cost_as_is: float | None = Field(description="The same for the file as it is, problems included.")
    currency: str


class CheckReport(BaseModel):
    files: dict[str, str] = Field(description="Each file and its format.")
    examples: int
    valid: int = Field(description="Examples without a structural problem.")
    with_problems: int = Field(description="Examples with at least one problem of a kind not ignored.")
    kept_by_clean: int = Field(description="Valid examples that are not copies: what `clean` keeps.")
    duplicates: int
    near_duplicates: int
    problems_by_kind: dict[str, int] = Field(description="Examples with each kind of problem.")
    problems: list[ProblemOut] = Field(description="The problems, at most --keep per kind, in file order.")
    truncated: dict[str, int] = Field(default_factory=dict, description="Problems not listed (past the per-kind cap), by kind.")
    tokens: TokenStats
    cost: CostEstimate | None = None


def check_files(
    paths: Sequence[Path],
    options: ScanOptions,
    counter: TokenCounter,
    prices: PriceTable,
    model: str = "gpt-4o-mini",
    epochs: int | None = 3,
    ignore: frozenset[str] = frozenset(),
    keep_per_kind: int = 1000,
    on_bytes: Callable[[int], None] | None = None,
) -> CheckReport:
    """Check data files in one streaming pass; `epochs=None` uses OpenAI's automatic choice."""
    unknown = sorted(set(ignore) - set(ALL_KINDS))
    if unknown:
        raise ValueError(f"unknown problem kind {', '.join(unknown)} (kinds: {', '.join(ALL_KINDS)})")
    state = ScanState()
    counts: Counter[str] = Counter()
    listed: list[Problem] = []
    truncated: Counter[str] = Counter()
    flagged = bytearray()

    listed_by_kind: Counter[str] = Counter()

    def record(problems: list[Problem], index: int) -> None:
        # Counts are of examples: two empty turns make one example with `empty_content`.
        for kind in {p.kind for p in problems} - ignore:
            counts[kind] += 1
            flagged[index] = 1
        for problem in problems:
            if problem.kind in ignore:
                continue
            listed_by_kind[problem.kind] += 1
            if listed_by_kind[problem.kind] <= keep_per_kind:
                listed.append(problem)
            else:
                truncated[problem.kind] += 1

    with ExitStack() as stack:
        finder = stack.enter_context(DuplicateFinder(options.near_threshold, near=options.near_duplicates))
        for item in scan(paths, options, counter, state, finder, on_bytes):
            flagged.append(0)
            record(item.problems, item.index)
        duplicates = finish(state, finder)
    copies = state.duplicate_of()
    for index, problem in duplicates:
        record([problem], index)
    n = len(state)
    if 0 < n < MIN_EXAMPLES and "too_few_examples" not in ignore:
        counts["too_few_examples"] += 1
        listed.append(Problem(state.files[0], 0, 0, "too_few_examples",
                              f"{n} examples; OpenAI fine-tuning needs at least {MIN_EXAMPLES} (50-100 recommended)"))

    tokens = np.frombuffer(state.tokens, dtype=np.int32) if n else np.zeros(0, dtype=np.int32)
    invalid = np.frombuffer(state.invalid, dtype=np.int8).astype(bool) if n else np.zeros(0, dtype=bool)
    keep = ~invalid
    if copies:
        keep[np.fromiter(copies.keys(), dtype=np.int64)] = False
    readable = tokens[tokens > 0]
    stats = TokenStats(
        method=counter.method,
        exact=counter.exact,
        total=int(tokens.sum()),
        clean_total=int(tokens[keep].sum()),
        mean=round(float(readable.mean()), 1) if len(readable) else 0.0,
        median=float(np.median(readable)) if len(readable) else 0.0,
        p95=float(np.percentile(readable, 95)) if len(readable) else 0.0,
        max=int(tokens.max()) if n else 0,
        over_limit=counts.get("too_long", 0),
    )
    kept = int(keep.sum())
    chosen_epochs = epochs if epochs is not None else auto_epochs(kept)
    quote = prices.resolve(model)
    price = quote.training_per_1m if quote else None
    cost = CostEstimate(
        model=model,
        priced_as=quote.entry if quote else None,
        epochs=chosen_epochs,
        epochs_auto=epochs is None,
        training_tokens=stats.clean_total * chosen_epochs,
        price_per_1m=price,
        cost=None if price is None else round(stats.clean_total * chosen_epochs * price / 1e6, 4),
        cost_as_is=None if price is None else round(stats.total * chosen_epochs * price / 1e6, 4),
        currency=prices.currency,
    )
    listed.sort(key=lambda p: (state.files.index(p.file), p.row or n + 1, ALL_KINDS.index(p.kind)))
    return CheckReport(
        files=dict(state.formats),
        examples=n,
        valid=int((~invalid).sum()),
        with_problems=sum(flagged),
        kept_by_clean=kept,
        duplicates=sum(1 for kind, _, _ in copies.values() if kind == "duplicate"),
        near_duplicates=sum(1 for kind, _, _ in copies.values() if kind == "near_duplicate"),
        problems_by_kind={kind: counts[kind] for kind in ALL_KINDS if counts.get(kind)},
        problems=[ProblemOut.of(p) for p in listed],
        truncated=dict(truncated),
        tokens=stats,
        cost=cost,
    )
