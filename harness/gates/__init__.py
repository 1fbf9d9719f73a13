"""Gates: comparisons over a run's figures that decide the exit code in CI.

`expression` parses `win_rate[tuned] >= 0.7` (no eval), `figures` reads values and bounds from
summary.json, `evaluate` turns gates into pass/fail rows, `validate` checks a suite's `gates:`.
"""
