"""Confidence bounds that keep their nominal coverage at every sample size.

Gates compare one-sided bounds with thresholds, so a bound that is too optimistic on a small
sample lets a model ship on luck. Two methods, both valid at every n (no normal approximation,
no resampling), chosen by what the values are:

- **Counts** (every value 0 or 1, one value per item: pass rate, error rate, closed-QA verdicts,
  a win rate without ties): the exact Clopper–Pearson bound, the quantile of a Beta distribution
  (8 of 8 -> 0.05 ** (1/8) = 0.688 at 95 %).
- **Bounded means** (anything else in a known range [low, high]: a win rate with ties counted ½,
  soft win rates, rubric grades, per-case metric means, and any mean over the repeats of a
  case): the Hoeffding–Bentkus bound. The mean is rescaled to [0, 1]; a mean m is rejected as
  too low when min(exp(-n·KL(x̄‖m)), e·P(Binomial(n, m) ≥ ⌊n·x̄⌋)) ≤ α, where KL is the
  Bernoulli relative entropy (Hoeffding 1963) and the second term Bentkus's 2004 inequality.
  Both bound the tail of any sum of n independent [0, 1] variables of mean m, so the bound
  needs no assumption about the distribution, and a sample of identical values (all ties) still
  gets a proper interval rather than a zero-width one.

Repeats of a case (`--repeat`) are not independent draws: the unit is the case, so values are
averaged per case first and n counts cases.

Two-sided intervals have each end at the one-sided level (1 + confidence) / 2, so the "95 %
interval" is the pair of one-sided 97.5 % bounds, and gates use one-sided 95 % bounds. SciPy's
regularized incomplete beta function supplies the exact binomial tails and quantiles; the bound's root is found
with SciPy's brentq. The Hoeffding–Bentkus inversion itself is not in any library we use.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike

from harness.stats.bootstrap import Interval

CONFIDENCE = 0.95
Method = Literal["clopper-pearson", "hoeffding-bentkus"]
METHOD_LABELS: dict[str, str] = {
    "clopper-pearson": "exact binomial (Clopper–Pearson)",
    "hoeffding-bentkus": "Hoeffding–Bentkus (bounded mean)",
}


@dataclass(frozen=True)
class Bounds:
    """A mean with its one-sided bounds and two-sided interval, all valid at every n."""

    n: int  # independent units (items, or cases when repeats were averaged)
    mean: float
    lower: float  # one-sided lower bound at `confidence`
    upper: float  # one-sided upper bound at `confidence`
    interval: Interval  # two-sided, each end one-sided at (1 + confidence) / 2
    method: Method
    confidence: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "lower_bound": self.lower,
            "upper_bound": self.upper,
            "ci": self.interval.as_dict(),
            "method": self.method,
            "confidence": self.confidence,
        }


def _beta_ppf(q: float, a: float, b: float) -> float:
    from scipy.special import betaincinv  # imported when used: `harness --help` stays instant

    return float(betaincinv(a, b, q))


def clopper_pearson_lower(successes: int, n: int, confidence: float = CONFIDENCE) -> float:
    """Exact one-sided lower bound of a binomial proportion."""
    _check_counts(successes, n)
    if successes == 0:
        return 0.0
    return _beta_ppf(1.0 - confidence, successes, n - successes + 1)


def clopper_pearson_upper(successes: int, n: int, confidence: float = CONFIDENCE) -> float:
    """Exact one-sided upper bound of a binomial proportion."""
    _check_counts(successes, n)
    if successes == n:
        return 1.0
    return _beta_ppf(confidence, successes + 1, n - successes)


def _check_counts(successes: int, n: int) -> None:
    if n <= 0:
        raise ValueError("a bound needs n >= 1")
    if not 0 <= successes <= n:
        raise ValueError(f"successes ({successes}) must lie between 0 and n ({n})")


def _bernoulli_kl(p: float, q: float) -> float:
    """KL(Bernoulli(p) ‖ Bernoulli(q)), with 0·log 0 = 0."""
    total = 0.0
    if p > 0:
        total += p * math.log(p / q)
    if p < 1:
        total += (1 - p) * math.log((1 - p) / (1 - q))
    return total


def _hb_tail(mean: float, n: int, m: float) -> float:
    """Hoeffding–Bentkus bound on P(mean of n [0,1] variables of mean m >= `mean`), m < mean."""
    from scipy.special import betainc

    hoeffding = math.exp(-n * _bernoulli_kl(mean, m))
    # Bentkus: P(S >= s) <= e * P(B >= s) for the log-linearly interpolated binomial tail,
    # which is at most the tail at floor(s): the conservative, integer form.
    # P(B >= k) for B ~ Binomial(n, m) is the regularized incomplete beta I_m(k, n - k + 1).
    threshold = math.floor(n * mean + 1e-9)
    binomial_tail = 1.0 if threshold <= 0 else float(betainc(threshold, n - threshold + 1, m))
    bentkus = math.e * binomial_tail
    return min(1.0, hoeffding, bentkus)


@lru_cache(maxsize=65536)
def hoeffding_bentkus_lower(mean: float, n: int, confidence: float = CONFIDENCE) -> float:
    """One-sided lower bound of the mean of n independent variables in [0, 1] with sample mean `mean`."""
    if n <= 0:
        raise ValueError("a bound needs n >= 1")
    if not -1e-12 <= mean <= 1 + 1e-12:
        raise ValueError(f"the mean ({mean}) must lie in [0, 1]")
    mean = min(1.0, max(0.0, mean))
    if mean == 0.0:
        return 0.0
    alpha = 1.0 - confidence
    from scipy.optimize import brentq

    # The tail bound rises with m towards 1 at m = mean: the bound is where it crosses alpha.
    def excess(m: float) -> float:
        return _hb_tail(mean, n, m) - alpha

    low = 1e-12
    if excess(low) > 0:
        return 0.0
    high = mean * (1 - 1e-12)
    if excess(high) <= 0:  # pragma: no cover - the tail is 1 > alpha at m = mean
        return high
    return float(brentq(excess, low, high, xtol=1e-10, rtol=1e-10))


def hoeffding_bentkus_upper(mean: float, n: int, confidence: float = CONFIDENCE) -> float:
    """One-sided upper bound by symmetry: the lower bound of 1 - X."""
    return 1.0 - hoeffding_bentkus_lower(1.0 - mean, n, confidence)


def proportion_bounds(successes: int, n: int, confidence: float = CONFIDENCE) -> Bounds:
    """Exact Clopper–Pearson bounds of successes / n."""
    two_sided = (1.0 + confidence) / 2.0
    interval = Interval(
        clopper_pearson_lower(successes, n, two_sided), clopper_pearson_upper(successes, n, two_sided), confidence
    )
    return Bounds(
        n=n,
        mean=successes / n,
        lower=clopper_pearson_lower(successes, n, confidence),
        upper=clopper_pearson_upper(successes, n, confidence),
        interval=interval,
        method="clopper-pearson",
        confidence=confidence,
    )


def _unit_means(values: np.ndarray, clusters: Sequence[Any] | None) -> np.ndarray:
    if clusters is None:
        return values
    labels = [str(c) for c in clusters]
    if len(labels) != values.size:
        raise ValueError("values and clusters differ in length")
    if len(set(labels)) == len(labels):
        return values
    _, codes = np.unique(np.asarray(labels), return_inverse=True)
    sums = np.bincount(codes, weights=values)
    counts = np.bincount(codes)
    result: np.ndarray = sums / counts
    return result


def mean_bounds(
    values: ArrayLike,
    low: float = 0.0,
    high: float = 1.0,
    clusters: Sequence[Any] | None = None,
    confidence: float = CONFIDENCE,
) -> Bounds | None:
    """Bounds of the mean of values known to lie in [low, high]; None without values.

    Values sharing a cluster label (repeats of one case) are averaged first. When every unit
    is exactly `low` or `high` the data are counts and the exact binomial bound applies;
    otherwise the Hoeffding–Bentkus bound for bounded means.
    """
    array = np.asarray(values, dtype=np.float64)
    if array.size == 0:
        return None
    if not high > low:
        raise ValueError("the range of the values must have high > low")
    if array.min() < low - 1e-9 or array.max() > high + 1e-9:
        raise ValueError(f"values must lie in [{low:g}, {high:g}]")
    units = (_unit_means(array, clusters) - low) / (high - low)
    n = int(units.size)
    span = high - low

    def scale(value: float) -> float:
        return low + span * value

    mean = float(array.mean())  # the point estimate over all values, as reported
    binary = bool(np.all((units <= 1e-12) | (units >= 1 - 1e-12)))
    if binary:
        unit = proportion_bounds(round(float(units.sum())), n, confidence)
        return Bounds(n, mean, scale(unit.lower), scale(unit.upper),
                      Interval(scale(unit.interval.low), scale(unit.interval.high), confidence), unit.method, confidence)
    unit_mean = float(np.clip(units.mean(), 0.0, 1.0))
    unit_mean = round(unit_mean, 12)  # equal sums from different orders share one cached bound
    two_sided = (1.0 + confidence) / 2.0
    return Bounds(
        n=n,
        mean=mean,
        lower=scale(hoeffding_bentkus_lower(unit_mean, n, confidence)),
        upper=scale(hoeffding_bentkus_upper(unit_mean, n, confidence)),
        interval=Interval(
            scale(hoeffding_bentkus_lower(unit_mean, n, two_sided)),
            scale(hoeffding_bentkus_upper(unit_mean, n, two_sided)),
            confidence,
        ),
        method="hoeffding-bentkus",
        confidence=confidence,
    )


def best_lower_bound(n: int, confidence: float = CONFIDENCE) -> float:
    """The highest lower bound n units can give (all at the top of the range): alpha ** (1/n)."""
    return float((1.0 - confidence) ** (1.0 / n))


def units_needed(threshold: float, strict: bool = False, confidence: float = CONFIDENCE) -> int | None:
    """The fewest units whose best possible lower bound clears `threshold` (a share of the range).

    None when no number can (a threshold of 1 or more); 1 for a threshold at or below 0.
    """
    if threshold >= 1.0:
        return None
    if threshold <= 0.0:
        return 1  # one unit at the top of the range already bounds the mean above 0
    n = max(1, math.ceil(math.log(1.0 - confidence) / math.log(threshold)))
    while not _clears(best_lower_bound(n, confidence), threshold, strict):
        n += 1
    while n > 1 and _clears(best_lower_bound(n - 1, confidence), threshold, strict):
        n -= 1
    return n


def _clears(value: float, threshold: float, strict: bool) -> bool:
    return value > threshold if strict else value >= threshold
