"""Bradley–Terry ratings by penalized maximum likelihood, with prompt-level bootstrap intervals.

Model: P(i beats j) = σ(θ_i − θ_j). A battle scores 1, 0.5 or 0 for its first side; a tie is
half a win to each side, so a battle with score s adds s·log σ(θ_i − θ_j) + (1 − s)·log σ(θ_j − θ_i)
to the log-likelihood (Arena-Hard's convention, as logistic regression with fractional targets).

Regularization: a ridge penalty PENALTY/2 · Σθ², a Gaussian prior with standard deviation 100
logits. It fixes the free offset (the optimum has mean θ = 0) and keeps every estimate finite
when a model wins or loses all its battles (no finite MLE exists then); wherever the MLE
exists it moves a predicted win rate by less than 1e-4 with as few as 6 battles a model.

The likelihood depends on the battles only through per-pair sums (score and count), so battles
are tallied per prompt and pair once; a bootstrap resample of prompts is then one matrix
product of resample counts with the prompt tallies, for all resamples at once. Every
resample's fit is a small K-parameter problem, solved by batched Newton steps warm-started from
the point estimate (scipy's optimizers take one problem per call; 2,000 calls cost seconds in
call overhead alone, the batched steps milliseconds). A resample that has not converged after
`_MAX_NEWTON` steps is refitted alone with scipy, so every reported fit meets the same tolerance.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from harness.stats.bootstrap import (
    DEFAULT_RESAMPLES,
    DEFAULT_SEED,
    Interval,
    bootstrap_distribution,
    resample_counts,
)

PENALTY = 1e-4
ANCHOR_SCORE = 1000.0
SCALE = 400.0  # score points per factor-of-10 in odds, as Elo
_POINTS_PER_LOGIT = SCALE / math.log(10.0)
_GRADIENT_TOL = 1e-9
_MAX_NEWTON = 60
_TIE_TOL = 1e-9  # strengths closer than this share a rank


@dataclass(frozen=True)
class Tallies:
    """Battles summed per prompt and unordered model pair (i < j)."""

    models: int
    pairs: NDArray[np.intp]  # (M, 2)
    scores: NDArray[np.float64]  # (P, M): summed score of pairs[m, 0] against pairs[m, 1] in prompt p
    counts: NDArray[np.float64]  # (P, M): battles of that pair in prompt p

    @property
    def incidence(self) -> NDArray[np.float64]:
        """(M, K): +1 at a pair's first model, -1 at its second."""
        matrix = np.zeros((len(self.pairs), self.models))
        rows = np.arange(len(self.pairs))
        matrix[rows, self.pairs[:, 0]] = 1.0
        matrix[rows, self.pairs[:, 1]] = -1.0
        return matrix


def tally(first: ArrayLike, second: ArrayLike, score: ArrayLike, prompt: ArrayLike, models: int) -> Tallies:
    """Tally battles: model indices of each side, the first side's score, the prompt code (0..P-1)."""
    a = np.asarray(first, dtype=np.intp)
    b = np.asarray(second, dtype=np.intp)
    s = np.asarray(score, dtype=np.float64)
    p = np.asarray(prompt, dtype=np.intp)
    if not (a.shape == b.shape == s.shape == p.shape):
        raise ValueError("battle arrays differ in length")
    if a.size == 0:
        raise ValueError("no battles to fit")
    if np.any(a == b):
        raise ValueError("a model cannot battle itself")
    if np.any((a < 0) | (a >= models) | (b < 0) | (b >= models)):
        raise ValueError("model index out of range")
    if np.any((s < 0) | (s > 1)):
        raise ValueError("battle scores must lie in [0, 1]")
    swap = a > b
    low, high = np.where(swap, b, a), np.where(swap, a, b)
    oriented = np.where(swap, 1.0 - s, s)
    pair_codes, pair_index = np.unique(low * models + high, return_inverse=True)
    pairs: NDArray[np.intp] = np.stack([pair_codes // models, pair_codes % models], axis=1).astype(np.intp)
    prompts = int(p.max()) + 1
    cells = p * len(pairs) + pair_index
    size = prompts * len(pairs)
    scores: NDArray[np.float64] = (
        np.bincount(cells, weights=oriented, minlength=size).astype(np.float64).reshape(prompts, len(pairs))
    )
    counts: NDArray[np.float64] = np.bincount(cells, minlength=size).astype(np.float64).reshape(prompts, len(pairs))
    return Tallies(models, pairs, scores, counts)


def negative_log_likelihood(
    theta: NDArray[np.float64], scores: NDArray[np.float64], counts: NDArray[np.float64],
    incidence: NDArray[np.float64], penalty: float = PENALTY,
) -> tuple[float, NDArray[np.float64], NDArray[np.float64]]:
    """The penalized negative log-likelihood of one problem (per-pair sums), its gradient and Hessian."""
    d = incidence @ theta
    value = float(scores @ np.logaddexp(0.0, -d) + (counts - scores) @ np.logaddexp(0.0, d))
    value += 0.5 * penalty * float(theta @ theta)
    p = _sigmoid(d)
    gradient = -(scores - counts * p) @ incidence + penalty * theta
    hessian = incidence.T @ ((counts * p * (1.0 - p))[:, None] * incidence) + penalty * np.eye(len(theta))
    return value, gradient, hessian


def _sigmoid(x: NDArray[np.float64]) -> NDArray[np.float64]:
    result: NDArray[np.float64] = 0.5 * (1.0 + np.tanh(0.5 * x))  # overflow-free logistic
    return result


def _fit_one(
    scores: NDArray[np.float64], counts: NDArray[np.float64], incidence: NDArray[np.float64],
    penalty: float, start: NDArray[np.float64] | None = None,
) -> NDArray[np.float64]:
    """One fit by scipy's exact-Hessian trust-region method."""
    from scipy.optimize import minimize

    k = incidence.shape[1]
    x0 = np.zeros(k) if start is None else np.asarray(start, dtype=np.float64)

    def value_and_gradient(theta: NDArray[np.float64]) -> tuple[float, NDArray[np.float64]]:
        value, gradient, _ = negative_log_likelihood(theta, scores, counts, incidence, penalty)
        return value, gradient

    def hessian(theta: NDArray[np.float64]) -> NDArray[np.float64]:
        return negative_log_likelihood(theta, scores, counts, incidence, penalty)[2]

    tolerance = _GRADIENT_TOL * max(1.0, float(counts.sum()))
    result = minimize(value_and_gradient, x0, jac=True, hess=hessian, method="trust-exact",
                      options={"gtol": tolerance, "maxiter": 1000})
    theta: NDArray[np.float64] = np.asarray(result.x, dtype=np.float64)
    return theta


def fit_strengths(tallies: Tallies, penalty: float = PENALTY) -> NDArray[np.float64]:
    """The penalized maximum-likelihood strengths θ (logits, mean zero) over all prompts."""
    return _fit_one(tallies.scores.sum(axis=0), tallies.counts.sum(axis=0), tallies.incidence, penalty)


def fit_batch(
    scores: NDArray[np.float64], counts: NDArray[np.float64], incidence: NDArray[np.float64],
    start: NDArray[np.float64], penalty: float = PENALTY,
) -> NDArray[np.float64]:
    """Strengths for R problems at once (scores, counts: (R, M) per-pair sums), warm-started at `start`.

    Damped Newton: each step solves the R small Hessian systems together and halves the step of
    any problem whose objective did not decrease enough (Armijo), so every problem converges.
    """
    r, k = scores.shape[0], incidence.shape[1]
    theta = np.tile(np.asarray(start, dtype=np.float64), (r, 1))
    tolerance = _GRADIENT_TOL * np.maximum(1.0, counts.sum(axis=1))
    eye = penalty * np.eye(k)

    def objective(t: NDArray[np.float64], s: NDArray[np.float64], n: NDArray[np.float64]) -> NDArray[np.float64]:
        d = t @ incidence.T
        value: NDArray[np.float64] = (s * np.logaddexp(0.0, -d) + (n - s) * np.logaddexp(0.0, d)).sum(axis=1)
        value += 0.5 * penalty * (t * t).sum(axis=1)
        return value

    active = np.arange(r)
    for _ in range(_MAX_NEWTON):
        t, s, n = theta[active], scores[active], counts[active]
        p = _sigmoid(t @ incidence.T)
        gradient = -(s - n * p) @ incidence + penalty * t
        converged = np.abs(gradient).max(axis=1) <= tolerance[active]
        if converged.all():
            active = active[:0]
            break
        keep = ~converged
        active, t, s, n, p, gradient = active[keep], t[keep], s[keep], n[keep], p[keep], gradient[keep]
        weights = n * p * (1.0 - p)
        hessian = np.einsum("rm,mk,ml->rkl", weights, incidence, incidence) + eye
        step = np.linalg.solve(hessian, gradient[:, :, None])[:, :, 0]
        current = objective(t, s, n)
        decrease = (gradient * step).sum(axis=1)
        size = np.ones(len(active))
        for _ in range(40):
            trial = t - size[:, None] * step
            ok = objective(trial, s, n) <= current - 1e-4 * size * decrease
            if ok.all():
                break
            size = np.where(ok, size, 0.5 * size)
        theta[active] = t - size[:, None] * step
    for row in active:  # not converged in _MAX_NEWTON steps: scipy, from where Newton got to
        theta[row] = _fit_one(scores[row], counts[row], incidence, penalty, theta[row])
    return theta


def bootstrap_strengths(
    tallies: Tallies, start: NDArray[np.float64], resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED,
    penalty: float = PENALTY,
) -> NDArray[np.float64]:
    """(resamples, K) strengths refitted on prompts resampled with replacement (all battles of a prompt together)."""
    prompts = tallies.scores.shape[0]
    incidence = tallies.incidence

    def statistic(indices: NDArray[np.intp]) -> NDArray[np.float64]:
        weights = resample_counts(indices, prompts)
        return fit_batch(weights @ tallies.scores, weights @ tallies.counts, incidence, start, penalty)

    draws: NDArray[np.float64] = bootstrap_distribution(prompts, statistic, resamples, seed)
    return draws


def ranks(strengths: NDArray[np.float64]) -> NDArray[np.intp]:
    """1 + the number of models with a higher strength, along the last axis (ties share a rank)."""
    values = np.asarray(strengths, dtype=np.float64)
    higher = values[..., None, :] > values[..., :, None] + _TIE_TOL
    result: NDArray[np.intp] = 1 + higher.sum(axis=-1)
    return result


def score_of(strength: ArrayLike) -> NDArray[np.float64]:
    """Elo-like score of a strength relative to the anchor: 1000 + 400·log10(e)·Δθ."""
    result: NDArray[np.float64] = ANCHOR_SCORE + _POINTS_PER_LOGIT * np.asarray(strength, dtype=np.float64)
    return result


@dataclass(frozen=True)
class Rating:
    """One model's place in a ranking; strengths, scores and win rates are relative to the anchor."""

    model: str
    strength: float  # θ_model − θ_anchor, logits
    score: float
    score_interval: Interval
    win_rate: float  # predicted P(model beats the anchor)
    win_rate_interval: Interval
    win_rate_lower: float  # one-sided bounds at the interval's confidence
    win_rate_upper: float
    rank: int
    rank_range: tuple[int, int]  # two-sided bootstrap range
    rank_upper: int  # one-sided: the worst rank the bootstrap allows
    rank_lower: int  # one-sided: the best rank the bootstrap allows

    def as_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "rank": self.rank,
            "rank_range": list(self.rank_range),
            "rank_lower": self.rank_lower,
            "rank_upper": self.rank_upper,
            "strength": self.strength,
            "score": self.score,
            "score_ci": self.score_interval.as_dict(),
            "win_rate": self.win_rate,
            "ci": self.win_rate_interval.as_dict(),
            "lower_bound": self.win_rate_lower,
            "upper_bound": self.win_rate_upper,
        }


@dataclass(frozen=True)
class Ranking:
    anchor: str
    ratings: list[Rating]  # best first
    prompts: int
    battles: int
    resamples: int
    seed: int
    confidence: float
    penalty: float


def _rank_quantile(ranks_drawn: NDArray[np.intp], level: float) -> int:
    """The smallest rank r with P(rank <= r) >= level over the resamples: `rank_upper` at 0.95 is the
    worst rank the bootstrap allows, so `rank <= 1` holds at it when the model is first in 95 % of resamples."""
    return int(np.quantile(ranks_drawn, level, method="inverted_cdf"))


def _interval(values: NDArray[np.float64], confidence: float) -> Interval:
    alpha = (1.0 - confidence) / 2.0
    low, high = np.quantile(values, [alpha, 1.0 - alpha])
    return Interval(float(low), float(high), confidence)


def rank_models(
    names: Sequence[str],
    first: ArrayLike,
    second: ArrayLike,
    score: ArrayLike,
    prompt: ArrayLike,
    anchor: int,
    confidence: float = 0.95,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
    penalty: float = PENALTY,
) -> Ranking:
    """Fit Bradley–Terry over the battles, bootstrap over prompts, and rank the models best first.

    `first`/`second` index `names`; `score` is the first side's score (1 win, 0.5 tie, 0 loss);
    `prompt` labels the resampling unit (integer codes 0..P-1). Scores and win rates are
    relative to the model at index `anchor` (the baseline), anchored at 1000 and 0.5.
    """
    k = len(names)
    tallies = tally(first, second, score, prompt, k)
    theta = fit_strengths(tallies, penalty)
    draws = bootstrap_strengths(tallies, theta, resamples, seed, penalty)
    relative = theta - theta[anchor]
    draws_relative = draws - draws[:, [anchor]]
    point_ranks = ranks(theta)
    draw_ranks = ranks(draws)
    alpha = (1.0 - confidence) / 2.0
    ratings = []
    for index, name in enumerate(names):
        win = _sigmoid(draws_relative[:, index])
        column = draw_ranks[:, index]
        ratings.append(Rating(
            model=name,
            strength=float(relative[index]),
            score=float(score_of(relative[index])),
            score_interval=_interval(score_of(draws_relative[:, index]), confidence),
            win_rate=float(_sigmoid(relative[index : index + 1])[0]),
            win_rate_interval=_interval(win, confidence),
            win_rate_lower=float(np.quantile(win, 1.0 - confidence)),
            win_rate_upper=float(np.quantile(win, confidence)),
            rank=int(point_ranks[index]),
            rank_range=(_rank_quantile(column, alpha), _rank_quantile(column, 1.0 - alpha)),
            rank_lower=_rank_quantile(column, 1.0 - confidence),
            rank_upper=_rank_quantile(column, confidence),
        ))
    ratings.sort(key=lambda rating: (rating.rank, -rating.strength, rating.model))
    return Ranking(names[anchor], ratings, tallies.scores.shape[0], int(tallies.counts.sum()), resamples, seed,
                   confidence, penalty)
