"""Bradley–Terry fits against solvers written here, the star-design identity, and the seeded bootstrap."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from numpy.typing import NDArray

from harness.stats.bradley_terry import (
    PENALTY,
    _fit_one,
    bootstrap_strengths,
    fit_batch,
    fit_strengths,
    rank_models,
    ranks,
    tally,
)

# A hand-made tournament of three models: (first, second, first's score), one prompt each.
# A-B: A wins 3, loses 1; B-C: B wins 2, ties 2; A-C: A wins 2, ties 1, loses 1.
TOURNAMENT = [
    *[(0, 1, 1.0)] * 3, (0, 1, 0.0),
    *[(1, 2, 1.0)] * 2, *[(1, 2, 0.5)] * 2,
    *[(0, 2, 1.0)] * 2, (0, 2, 0.5), (2, 0, 1.0),
]


def arrays(battles: list[tuple[int, int, float]]) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.float64], NDArray[np.intp]]:
    first = np.array([b[0] for b in battles])
    second = np.array([b[1] for b in battles])
    score = np.array([b[2] for b in battles], dtype=float)
    return first, second, score, np.arange(len(battles))


def mm_unpenalized(battles: list[tuple[int, int, float]], k: int, iterations: int = 20000) -> NDArray[np.float64]:
    """Hunter's (2004) MM iterations for the plain BT MLE, ties as half a win: log strengths, mean zero."""
    wins = np.zeros(k)
    games = np.zeros((k, k))
    for a, b, s in battles:
        wins[a] += s
        wins[b] += 1.0 - s
        games[a, b] += 1
        games[b, a] += 1
    pi = np.ones(k)
    for _ in range(iterations):
        pi = wins / (games / (pi[:, None] + pi[None, :])).sum(axis=1)
        pi /= np.exp(np.log(pi).mean())
    theta: NDArray[np.float64] = np.log(pi)
    return theta


def sklearn_penalized(battles: list[tuple[int, int, float]], k: int, penalty: float) -> NDArray[np.float64]:
    """scikit-learn's L2 logistic regression on the design matrix (+1 first, -1 second; a tie as two half rows)."""
    from sklearn.linear_model import LogisticRegression

    rows, targets, weights = [], [], []
    for a, b, s in battles:
        x = np.zeros(k)
        x[a], x[b] = 1.0, -1.0
        for target, weight in ((1, s), (0, 1.0 - s)):
            if weight > 0:
                rows.append(x)
                targets.append(target)
                weights.append(weight)
    model = LogisticRegression(C=1.0 / penalty, fit_intercept=False, tol=1e-12, max_iter=10000)
    model.fit(np.array(rows), np.array(targets), sample_weight=np.array(weights))
    theta: NDArray[np.float64] = model.coef_[0]
    return theta


def test_fit_matches_scikit_learn_on_the_design_matrix() -> None:
    theta = fit_strengths(tally(*arrays(TOURNAMENT), models=3))
    reference = sklearn_penalized(TOURNAMENT, 3, PENALTY)
    assert theta == pytest.approx(reference, abs=1e-6)
    assert theta.sum() == pytest.approx(0.0, abs=1e-9)  # the ridge fixes the offset at mean zero


def test_fit_matches_mm_iterations_where_the_mle_exists() -> None:
    theta = fit_strengths(tally(*arrays(TOURNAMENT), models=3))
    reference = mm_unpenalized(TOURNAMENT, 3)
    # the penalty is a prior with sd 100 logits: invisible at this precision
    assert theta == pytest.approx(reference, abs=1e-3)
    assert theta[0] > theta[1] > theta[2]


def test_star_design_reproduces_each_candidates_win_rate() -> None:
    rng = np.random.default_rng(7)
    battles = []
    expected = {}
    for candidate, probabilities in ((1, [0.5, 0.2, 0.3]), (2, [0.2, 0.6, 0.2]), (3, [0.35, 0.35, 0.3])):
        scores = rng.choice([1.0, 0.0, 0.5], size=40, p=probabilities)
        expected[candidate] = scores.mean()
        # alternate which side the baseline is listed on: orientation must not matter
        battles += [(candidate, 0, s) if i % 2 else (0, candidate, 1.0 - s) for i, s in enumerate(scores)]
    first, second, score, _ = arrays(battles)
    prompts = np.array([i % 40 for i in range(len(battles))])
    ranking = rank_models(["base", "c1", "c2", "c3"], first, second, score, prompts, anchor=0, resamples=2000)
    by_name = {r.model: r for r in ranking.ratings}
    for candidate, rate in expected.items():
        assert by_name[f"c{candidate}"].win_rate == pytest.approx(rate, abs=1e-4)
        assert by_name[f"c{candidate}"].score == pytest.approx(1000 + 400 * math.log10(rate / (1 - rate)), abs=0.05)
    assert by_name["base"].win_rate == 0.5 and by_name["base"].score == 1000.0


def test_batched_newton_equals_individual_fits_on_resamples() -> None:
    rng = np.random.default_rng(3)
    battles = [(a, b, float(rng.choice([0.0, 0.5, 1.0]))) for a, b in itertools.combinations(range(5), 2) for _ in range(8)]
    first, second, score, _ = arrays(battles)
    prompts = np.arange(len(battles)) % 8
    tallies = tally(first, second, score, prompts, 5)
    start = fit_strengths(tallies)
    weights = rng.multinomial(8, [1 / 8] * 8, size=30).astype(float)
    scores, counts = weights @ tallies.scores, weights @ tallies.counts
    batched = fit_batch(scores, counts, tallies.incidence, start)
    for row in range(30):
        alone = _fit_one(scores[row], counts[row], tallies.incidence, PENALTY)
        assert batched[row] == pytest.approx(alone, abs=1e-6)


def test_a_model_that_wins_everything_gets_a_finite_estimate() -> None:
    battles = [(0, 1, 1.0)] * 6 + [(1, 2, 1.0), (1, 2, 0.0), (2, 1, 0.5)]
    first, second, score, prompts = arrays(battles)
    ranking = rank_models(["a", "b", "c"], first, second, score, prompts, anchor=1, resamples=2000)
    top = ranking.ratings[0]
    assert top.model == "a" and top.rank == 1
    assert math.isfinite(top.score) and 0.999 < top.win_rate < 1.0
    assert all(math.isfinite(r.score_interval.high) for r in ranking.ratings)


def test_seeded_bootstrap_reproduces_and_depends_on_the_seed() -> None:
    first, second, score, _ = arrays(TOURNAMENT)
    prompts = np.arange(len(TOURNAMENT)) % 4
    tallies = tally(first, second, score, prompts, 3)
    start = fit_strengths(tallies)
    one = bootstrap_strengths(tallies, start, resamples=2000, seed=11)
    again = bootstrap_strengths(tallies, start, resamples=2000, seed=11)
    other = bootstrap_strengths(tallies, start, resamples=2000, seed=12)
    assert one.shape == (2000, 3)
    assert np.array_equal(one, again)
    assert not np.array_equal(one, other)


def test_bootstrap_resamples_prompts_not_battles() -> None:
    # Every prompt holds four battles of a against b with the same result: the prompts are the
    # independent units. Resampled by prompt the interval is about twice as wide as it would be
    # if each battle were its own prompt (sqrt of the 4 battles per prompt).
    rng = np.random.default_rng(5)
    results = rng.choice([1.0, 0.0], size=50, p=[0.6, 0.4])
    score = np.repeat(results, 4)
    first, second = np.zeros(200, dtype=int), np.ones(200, dtype=int)
    clustered = rank_models(["a", "b"], first, second, score, np.repeat(np.arange(50), 4), anchor=1)
    independent = rank_models(["a", "b"], first, second, score, np.arange(200), anchor=1)

    def width(ranking: object) -> float:
        rating = next(r for r in ranking.ratings if r.model == "a")  # type: ignore[attr-defined]
        return float(rating.win_rate_interval.high - rating.win_rate_interval.low)

    assert clustered.ratings[0].win_rate == pytest.approx(independent.ratings[0].win_rate)
    assert 1.6 < width(clustered) / width(independent) < 2.5


def test_rank_ranges_and_ties() -> None:
    assert ranks(np.array([0.3, 0.1, 0.3])).tolist() == [1, 3, 1]
    assert ranks(np.array([[0.0, 1.0], [2.0, 1.0]])).tolist() == [[2, 1], [1, 2]]
    rng = np.random.default_rng(1)
    strengths = [0.0, 0.05, 1.5]  # two close models and a clear leader
    battles = []
    for a, b in itertools.combinations(range(3), 2):
        for _ in range(60):
            p = 1 / (1 + math.exp(strengths[b] - strengths[a]))
            battles.append((a, b, float(rng.random() < p)))
    first, second, score, _ = arrays(battles)
    ranking = rank_models(["x", "y", "z"], first, second, score, np.arange(len(battles)) % 60, anchor=0)
    leader = ranking.ratings[0]
    assert leader.model == "z" and leader.rank_range == (1, 1) and leader.rank_upper == 1
    rest = {r.model: r for r in ranking.ratings[1:]}
    assert rest["x"].rank_range == (2, 3) and rest["y"].rank_range == (2, 3)
    for rating in ranking.ratings:
        assert rating.rank_range[0] <= rating.rank_lower <= rating.rank <= rating.rank_upper <= rating.rank_range[1]
        assert rating.win_rate_interval.low <= rating.win_rate_lower <= rating.win_rate <= rating.win_rate_upper


def test_bad_battles_are_refused() -> None:
    with pytest.raises(ValueError):
        tally([0], [0], [1.0], [0], 2)
    with pytest.raises(ValueError):
        tally([0], [1], [1.5], [0], 2)
    with pytest.raises(ValueError):
        tally([], [], [], [], 2)


def test_rank_bound_is_the_smallest_rank_reached_with_the_confidence() -> None:
    from harness.stats.bradley_terry import _rank_quantile

    first_in_95 = np.array([1] * 1900 + [2] * 100)
    assert _rank_quantile(first_in_95, 0.95) == 1  # first in exactly 95 % of resamples: `rank <= 1` holds
    first_in_less = np.array([1] * 1899 + [2] * 101)
    assert _rank_quantile(first_in_less, 0.95) == 2
    assert _rank_quantile(np.array([3] * 60 + [2] * 1940), 0.05) == 2
