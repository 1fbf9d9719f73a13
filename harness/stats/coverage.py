"""Coverage simulation of the gate bounds: how often the one-sided bound holds the true rate.

A pairwise comparison of n items is a draw of (wins, ties, losses) from a multinomial with
win share `rate - ties/2`, tie share `ties` and loss share `1 - rate - ties/2`; its true win rate
(ties counted ½) is `rate`. For every simulated run the bounds are computed by
`harness.stats.bounds.mean_bounds` on the run's item scores, exactly as the judging summary
does, and coverage is the share of runs whose lower (upper) bound lies at or below (above)
`rate`. A bound depends only on (n, wins, ties), so each distinct outcome is computed once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from harness.stats.bounds import CONFIDENCE, Bounds, mean_bounds


@dataclass(frozen=True)
class Cell:
    n: int
    rate: float
    ties: float
    runs: int
    lower_coverage: float  # share of runs with lower bound <= rate
    upper_coverage: float  # share of runs with upper bound >= rate


def feasible(rate: float, ties: float) -> bool:
    """Whether a win rate `rate` is possible with tie share `ties` (win and loss shares >= 0)."""
    return rate - ties / 2 >= -1e-12 and 1 - rate - ties / 2 >= -1e-12


class _BoundTable:
    def __init__(self, confidence: float) -> None:
        self.confidence = confidence
        self._known: dict[tuple[int, int, int], Bounds] = {}

    def get(self, n: int, wins: int, ties: int) -> Bounds:
        key = (n, wins, ties)
        found = self._known.get(key)
        if found is None:
            scores = np.concatenate([np.ones(wins), np.full(ties, 0.5), np.zeros(n - wins - ties)])
            found = mean_bounds(scores, confidence=self.confidence)
            assert found is not None
            self._known[key] = found
        return found


def simulate_cell(
    n: int, rate: float, ties: float, runs: int, rng: np.random.Generator, table: _BoundTable
) -> Cell:
    probabilities = np.clip([rate - ties / 2, ties, 1 - rate - ties / 2], 0.0, 1.0)
    probabilities = probabilities / probabilities.sum()
    draws = rng.multinomial(n, probabilities, size=runs)
    outcomes, counts = np.unique(draws[:, :2], axis=0, return_counts=True)
    lower_ok = upper_ok = 0
    for (wins, tied), count in zip(outcomes, counts, strict=True):
        bounds = table.get(n, int(wins), int(tied))
        lower_ok += int(count) if bounds.lower <= rate + 1e-12 else 0
        upper_ok += int(count) if bounds.upper >= rate - 1e-12 else 0
    return Cell(n, rate, ties, runs, lower_ok / runs, upper_ok / runs)


def simulate(
    sizes: Sequence[int],
    rates: Sequence[float],
    tie_shares: Sequence[float],
    runs: int,
    seed: int = 20240521,
    confidence: float = CONFIDENCE,
) -> list[Cell]:
    """Every feasible cell of the grid, simulated with one seeded generator (reproducible)."""
    rng = np.random.default_rng(seed)
    table = _BoundTable(confidence)
    cells = []
    for n in sizes:
        for ties in tie_shares:
            for rate in rates:
                if feasible(rate, ties):
                    cells.append(simulate_cell(n, rate, ties, runs, rng, table))
    return cells


def format_table(cells: Sequence[Cell], which: str) -> list[str]:
    """Rows of n x tie share, columns of true rates; each entry a coverage in percent."""
    rates = sorted({c.rate for c in cells})
    by_key = {(c.n, c.ties, c.rate): c for c in cells}
    header = f"{'n':>4} {'ties':>5} | " + " ".join(f"{r:>6.2f}" for r in rates)
    lines = [header, "-" * len(header)]
    for n in sorted({c.n for c in cells}):
        for ties in sorted({c.ties for c in cells}):
            row = []
            for rate in rates:
                cell = by_key.get((n, ties, rate))
                if cell is None:
                    row.append(f"{'':>6}")
                else:
                    value = cell.lower_coverage if which == "lower" else cell.upper_coverage
                    row.append(f"{100 * value:>6.1f}")
            lines.append(f"{n:>4} {100 * ties:>4.0f}% | " + " ".join(row))
    return lines
