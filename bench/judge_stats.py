"""How long the judging statistics take: summary.json's pairwise block (2,000-resample prompt-level
bootstrap for the win rate and the soft win rate, overall and per tag) for growing numbers of items.

    .venv/bin/python bench/judge_stats.py [--items 1000 10000 50000] [--tags 5]

Prints one line per size: items, tags, seconds, and the win rate with its interval as a sanity check.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from harness.judging.summary import pairwise_summary


def synthetic_lines(items: int, tags: int, seed: int = 0) -> list[dict[str, object]]:
    rng = np.random.default_rng(seed)
    outcomes = rng.choice(["win", "loss", "tie", "invalid"], size=items, p=[0.45, 0.3, 0.2, 0.05])
    scores = {"win": 1.0, "loss": 0.0, "tie": 0.5, "invalid": None}
    lines = []
    for i, outcome in enumerate(outcomes):
        slot = "first" if rng.random() < 0.55 else "second"
        lines.append(
            {
                "kind": "pairwise",
                "candidate": "tuned",
                "baseline": "base",
                "judge": "judge",
                "case_id": f"case-{i}",
                "repeat": 0,
                "tags": [f"tag-{i % tags}"],
                "outcome": str(outcome),
                "score": scores[str(outcome)],
                "soft": float(rng.random()) if outcome != "invalid" else None,
                "inconsistent": False,
                "identical": False,
                "candidate_chars": int(rng.integers(50, 500)),
                "baseline_chars": int(rng.integers(50, 500)),
                "orders": [{"slot": slot, "winner": "candidate"}, {"slot": "second", "winner": "candidate"}],
            }
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, nargs="+", default=[1000, 10000, 50000])
    parser.add_argument("--tags", type=int, default=5)
    args = parser.parse_args()
    for items in args.items:
        lines = synthetic_lines(items, args.tags)
        started = time.perf_counter()
        block = pairwise_summary(lines)["tuned"]
        elapsed = time.perf_counter() - started
        ci = block["ci"]
        print(
            f"items={items:>6} tags={args.tags} resamples=2000 time={elapsed:6.2f}s "
            f"win_rate={block['win_rate']:.3f} ci=[{ci['low']:.3f}, {ci['high']:.3f}] lower_bound={block['lower_bound']:.3f}"
        )


if __name__ == "__main__":
    main()
