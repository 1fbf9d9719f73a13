"""Text-size limits of the reference metrics, so that one huge text cannot exhaust memory or time.

The libraries behind the metrics hold every n-gram, token list or (for ROUGE-Lsum)
sentence-by-sentence LCS table of the texts they compare, so memory and time grow with the text:
unbounded, one 50 MB reference takes minutes and gigabytes. Each metric therefore scores a case
only when its output and every one of its references are within the metric's limit (characters).
A case over a limit gets no value for that metric, never a zero: it is left out of the metric's
figures, `metrics_skipped` in its results.jsonl record says why, and the run prints a warning.

Measured with bench/large_text.py: at its limit, with the output as long as the reference, each
metric needs at most ~0.35 GB and ~20 s for one case. ROUGE-L and ROUGE-Lsum have the lowest
limits because their time, not their memory, grows with the product of the two lengths
(ROUGE-Lsum's sentence-by-sentence LCS is rouge-score's pure Python).
"""

from __future__ import annotations

from collections.abc import Sequence

TEXT_LIMITS: dict[str, int] = {
    "exact_match": 10_000_000,
    "token_f1": 10_000_000,
    "rouge1": 5_000_000,
    "rouge2": 5_000_000,
    "rougeL": 500_000,
    "rougeLsum": 10_000,
    "bleu": 2_000_000,
    "chrf": 1_000_000,
}


def over_limit(metric: str, output: str, references: Sequence[str]) -> str | None:
    """Why `metric` cannot score this case, or None when every text is within its limit."""
    limit = TEXT_LIMITS.get(metric)
    if limit is None:
        return None
    if len(output) > limit:
        return f"the output is {len(output):,} characters, over {metric}'s limit of {limit:,}"
    for index, reference in enumerate(references):
        if len(reference) > limit:
            which = "the reference" if len(references) == 1 else f"reference {index + 1}"
            return f"{which} is {len(reference):,} characters, over {metric}'s limit of {limit:,}"
    return None
