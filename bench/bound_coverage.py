"""Coverage of the gate bounds (docs/statistics.md): simulated pairwise comparisons, fixed seed.

    .venv/bin/python bench/bound_coverage.py            # full grid, 4,000 runs per cell
    .venv/bin/python bench/bound_coverage.py --runs 500 # quicker look

For every n, true win rate and tie share it draws `runs` comparisons of n items, computes the
one-sided 95 % bounds exactly as the judging summary does (exact binomial without ties,
Hoeffding–Bentkus with them) and prints the share of runs whose lower bound lies at or below
the true rate (and whose upper bound lies at or above it). Every cell must be >= 94 %.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness.stats.coverage import format_table, simulate

SIZES = [5, 8, 10, 15, 20, 30, 50, 100, 200, 500]
RATES = [0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95]
TIES = [0.0, 0.1, 0.2, 0.3, 0.4]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=4000, help="simulated runs per cell")
    parser.add_argument("--seed", type=int, default=20240521)
    args = parser.parse_args()
    started = time.perf_counter()
    cells = simulate(SIZES, RATES, TIES, args.runs, args.seed)
    elapsed = time.perf_counter() - started
    print(f"coverage of one-sided 95 % bounds, {args.runs} runs per cell, seed {args.seed}, {len(cells)} cells")
    print("rows: n items and tie share; columns: true win rate (ties count 1/2); blank: impossible pair")
    for which in ("lower", "upper"):
        print(f"\n{which} bound (share of runs with the bound {'<=' if which == 'lower' else '>='} the true rate, %)")
        print("\n".join(format_table(cells, which)))
    worst = min(cells, key=lambda c: min(c.lower_coverage, c.upper_coverage))
    lowest = min(worst.lower_coverage, worst.upper_coverage)
    print(f"\nlowest cell: {100 * lowest:.1f}% (n={worst.n}, rate={worst.rate}, ties={worst.ties:.0%}); "
          f"cells below 94%: {sum(1 for c in cells if min(c.lower_coverage, c.upper_coverage) < 0.94)}; {elapsed:.0f} s")
    return 0 if lowest >= 0.94 else 1


if __name__ == "__main__":
    raise SystemExit(main())
