"""How long a Bradley–Terry ranking takes: the fit plus 2,000 prompt-level bootstrap resamples, for
10 models x 1,000 prompts, each candidate vs the baseline (9,000 battles) and round robin (45,000).

    .venv/bin/python bench/bradley_terry.py [--models 10] [--prompts 1000] [--resamples 2000] [--coverage 0]

Prints per design: the battles, the time to tally, fit and bootstrap (`rank_models`, the stats
layer), the same from judgments.jsonl lines (`ranking_summary`, what a run does), and how far
the batched warm-started Newton fits are from scipy's fits of the same resamples (with what
scipy alone would take for every resample). `--coverage N` adds a simulation: N tournaments
with known strengths (and 20 % ties), and how often each 95 % interval (and one-sided lower
bound) holds the win rate vs the baseline that the fit estimates on unlimited data.
"""

from __future__ import annotations

import argparse
import itertools
import time
from typing import Any

import numpy as np
from numpy.typing import NDArray

from harness.judging.ranking import RankingSetup, ranking_summary
from harness.stats.bradley_terry import PENALTY, _fit_one, fit_batch, fit_strengths, rank_models, tally

OUTCOMES = {1.0: "win", 0.0: "loss", 0.5: "tie"}


def tournament(models: int, prompts: int, design: str, rng: np.random.Generator, strengths: NDArray[np.float64],
               tie_share: float = 0.2) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.float64], NDArray[np.intp]]:
    """Battles with outcomes drawn from BT with ties: a tie with probability tie_share, else a BT draw."""
    if design == "star":
        pairs = [(i, 0) for i in range(1, models)]
    else:
        pairs = list(itertools.combinations(range(models), 2))
    first = np.tile(np.array([p[0] for p in pairs]), prompts)
    second = np.tile(np.array([p[1] for p in pairs]), prompts)
    prompt = np.repeat(np.arange(prompts), len(pairs))
    p_first = 1.0 / (1.0 + np.exp(strengths[second] - strengths[first]))
    draw = rng.random(first.size)
    tie = rng.random(first.size) < tie_share
    score = np.where(tie, 0.5, (draw < p_first).astype(float))
    return first, second, score, prompt


def lines_of(names: list[str], first: NDArray[np.intp], second: NDArray[np.intp], score: NDArray[np.float64],
             prompt: NDArray[np.intp]) -> list[dict[str, Any]]:
    return [
        {"kind": "pairwise", "candidate": names[a], "baseline": names[b], "versus_baseline": b == 0,
         "case_id": f"case-{p}", "outcome": OUTCOMES[float(s)], "score": float(s)}
        for a, b, s, p in zip(first.tolist(), second.tolist(), score.tolist(), prompt.tolist(), strict=True)
    ]


def timed(call: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    result = call()
    return result, time.perf_counter() - started


def benchmark(models: int, prompts: int, resamples: int) -> None:
    rng = np.random.default_rng(0)
    strengths = np.concatenate([[0.0], rng.normal(0.2, 0.5, models - 1)])
    names = ["baseline", *(f"model-{i}" for i in range(1, models))]
    _fit_one(np.ones(1), np.ones(1) * 2, np.array([[1.0, -1.0]]), PENALTY)  # import scipy.optimize outside the timings
    for design in ("star", "round_robin"):
        first, second, score, prompt = tournament(models, prompts, design, rng, strengths)
        ranking, total = timed(lambda: rank_models(names, first, second, score, prompt, 0, resamples=resamples))  # noqa: B023
        tallies, t_tally = timed(lambda: tally(first, second, score, prompt, models))  # noqa: B023
        theta, t_fit = timed(lambda: fit_strengths(tallies))  # noqa: B023
        lines = lines_of(names, first, second, score, prompt)
        setup = RankingSetup(design if design == "round_robin" else "baseline", "baseline", tuple(names))
        _, t_lines = timed(lambda: ranking_summary(lines, setup, resamples))  # noqa: B023
        # accuracy of the batched fits: 50 resamples, each also fitted alone by scipy
        weights = rng.multinomial(prompts, np.full(prompts, 1.0 / prompts), size=50).astype(float)
        scores, counts = weights @ tallies.scores, weights @ tallies.counts
        batched = fit_batch(scores, counts, tallies.incidence, theta)
        alone, t_scipy = timed(lambda: np.array([_fit_one(scores[r], counts[r], tallies.incidence, PENALTY, theta)  # noqa: B023
                                                  for r in range(50)]))
        deviation = float(np.abs((batched - batched[:, :1]) - (alone - alone[:, :1])).max())
        top = ranking.ratings[0]
        print(
            f"{design:>11}: models={models} prompts={prompts} battles={first.size:>6} resamples={resamples}  "
            f"fit+bootstrap={total:5.2f}s (tally {t_tally:.3f}s, fit {t_fit:.3f}s)  from judgment lines={t_lines:5.2f}s  "
            f"batched-vs-scipy max |Δθ|={deviation:.1e} (scipy alone ≈{t_scipy / 50 * resamples:5.1f}s for {resamples})  "
            f"top={top.model} {top.score:.0f} [{top.score_interval.low:.0f}, {top.score_interval.high:.0f}]"
        )


def population_win_rates(models: int, design: str, strengths: NDArray[np.float64], tie_share: float = 0.2) -> NDArray[np.float64]:
    """The win rates vs the baseline the fit estimates: BT fitted to the expected outcomes of the
    simulation (a tie, scored 1/2, with probability tie_share, else a BT draw), at a million battles a pair."""
    first, second, _, _ = tournament(models, 1, design, np.random.default_rng(0), strengths)
    expected = tie_share * 0.5 + (1 - tie_share) / (1.0 + np.exp(strengths[second] - strengths[first]))
    tallies = tally(first, second, expected, np.zeros_like(first), models)
    theta = _fit_one(tallies.scores[0] * 1e6, tallies.counts[0] * 1e6, tallies.incidence, PENALTY)
    result: NDArray[np.float64] = 1.0 / (1.0 + np.exp(-(theta - theta[0])))
    return result


def coverage(simulations: int, models: int = 5, prompts: int = 100, resamples: int = 2000) -> None:
    """Share of 95 % intervals (and one-sided 95 % lower bounds) that hold the true win rate vs the baseline."""
    rng = np.random.default_rng(1)
    strengths = np.array([0.0, 0.4, -0.3, 0.8, 0.1])[:models]
    names = [f"m{i}" for i in range(models)]
    for design in ("star", "round_robin"):
        truth = population_win_rates(models, design, strengths)
        held = np.zeros(models - 1)
        above = np.zeros(models - 1)
        started = time.perf_counter()
        for _ in range(simulations):
            first, second, score, prompt = tournament(models, prompts, design, rng, strengths)
            ranking = rank_models(names, first, second, score, prompt, 0, resamples=resamples, seed=int(rng.integers(1 << 30)))
            by_name = {r.model: r for r in ranking.ratings}
            for i in range(1, models):
                rating = by_name[names[i]]
                held[i - 1] += rating.win_rate_interval.low <= truth[i] <= rating.win_rate_interval.high
                above[i - 1] += rating.win_rate_lower <= truth[i]
        shares = ", ".join(f"{h / simulations:.3f}" for h in held)
        lower = ", ".join(f"{a / simulations:.3f}" for a in above)
        print(f"coverage {design:>11}: {simulations} tournaments of {models} models x {prompts} prompts: "
              f"95% interval holds the truth {shares}; lower bound below it {lower} ({time.perf_counter() - started:.0f}s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=10)
    parser.add_argument("--prompts", type=int, default=1000)
    parser.add_argument("--resamples", type=int, default=2000)
    parser.add_argument("--coverage", type=int, default=0, metavar="N", help="also simulate N tournaments for coverage")
    args = parser.parse_args()
    benchmark(args.models, args.prompts, args.resamples)
    if args.coverage:
        coverage(args.coverage)


if __name__ == "__main__":
    main()
