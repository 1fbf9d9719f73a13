"""The figures gates, reports and history read from a run: one lookup layer over summary.json.

Each figure is one entry of `FIGURES` (or, for reference metrics, whatever names the run's
`metrics` blocks hold): how to read its point value and confidence bounds for a model
(optionally one tag of it) out of summary.json. A new figure plugs in as one mapping.

Bounds: `lower`/`upper` are one-sided 95 % bounds valid at every n (`harness.stats.bounds`):
read from the summary for judge figures and metric means, derived from the counts (exact
Clopper–Pearson) for pass and error rates. Corpus-level metrics (BLEU, chrF, classification F1)
offer one-sided 95 % bootstrap bounds, which are approximate (docs/statistics.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from harness.gates.expression import Bound
from harness.stats.bounds import proportion_bounds

Kind = Literal["fraction", "score", "seconds", "money"]


@dataclass(frozen=True)
class Reading:
    """A figure's value for one model (and tag), with its bounds and, for judged figures, counts."""

    point: float | None
    lower: float | None = None
    upper: float | None = None
    valid: int | None = None  # valid judgments (or observations) behind the value
    items: int | None = None  # items that were to be judged
    missing: str | None = None  # why there is no value
    versus: str | None = None  # the baseline of a pairwise figure
    units: int | None = None  # independent units behind the bounds (cases, when repeats were averaged)
    range: tuple[float, float] | None = None  # the range values lie in, when the bounds are valid at every n

    def bound(self, which: Bound) -> float | None:
        return {"point": self.point, "lower": self.lower, "upper": self.upper}[which]


Reader = Callable[["RunFigures", str, "str | None"], Reading]


@dataclass(frozen=True)
class Figure:
    name: str
    description: str
    kind: Kind
    read: Reader
    judged: bool = False  # LLM-judge figure: minimum valid judgments, conservative default bound
    per_candidate: bool = False  # defined for candidates vs the baseline only
    section: str = "pairwise"  # the summary.json block keyed by candidate, for per-candidate figures
    higher_is_better: bool = True
    headline: bool = True  # shown in history and summary.md


_VALID_METHODS = ("clopper-pearson", "hoeffding-bentkus")


def _range(entry: dict[str, Any], default: tuple[float, float] = (0.0, 1.0)) -> tuple[float, float] | None:
    """The value range of an entry whose bounds hold at every n; None for approximate bounds."""
    if entry.get("method") not in _VALID_METHODS:
        return None
    span = entry.get("range")
    return (float(span[0]), float(span[1])) if span else default


def _absent(why: str) -> Reading:
    return Reading(None, missing=why)


def _model_block(ctx: RunFigures, model: str, tag: str | None) -> dict[str, Any] | Reading:
    block = ctx.models_block.get(model)
    if block is None:
        return _absent(f"model '{model}' has no results")
    if tag is None:
        return dict(block)
    tagged = (block.get("by_tag") or {}).get(tag)
    if tagged is None:
        return _absent(f"model '{model}' has no case tagged '{tag}'")
    return dict(tagged)


def _rate(numerator_key: str, denominator_key: str, value_key: str) -> Reader:
    def read(ctx: RunFigures, model: str, tag: str | None) -> Reading:
        block = _model_block(ctx, model, tag)
        if isinstance(block, Reading):
            return block
        n = int(block.get(denominator_key) or 0)
        value = block.get(value_key)
        if not n or value is None:
            return _absent(f"no {denominator_key} results")
        bounds = proportion_bounds(int(block[numerator_key]), n)
        return Reading(float(value), bounds.lower, bounds.upper, valid=n, units=n, range=(0.0, 1.0))

    return read


def _model_value(key: str, what: str) -> Reader:
    def read(ctx: RunFigures, model: str, tag: str | None) -> Reading:
        if tag is not None:
            return _absent(f"{what} is not broken down by tag")
        block = _model_block(ctx, model, None)
        if isinstance(block, Reading):
            return block
        value = block.get(key)
        return _absent(f"no {what}") if value is None else Reading(float(value))

    return read


def _judged(section: str, value_key: str, what: str) -> Reader:
    def read(ctx: RunFigures, model: str, tag: str | None) -> Reading:
        entry = (ctx.summary.get(section) or {}).get(model)
        if entry is None:
            return _absent(f"no {what} for '{model}' in this run")
        versus = entry.get("baseline")
        if tag is not None:
            entry = (entry.get("by_tag") or {}).get(tag)
            if entry is None:
                return _absent(f"no {what} for '{model}' on tag '{tag}'")
        if section == "pairwise" and value_key == "soft":
            entry = entry.get("soft") or {}
            value = entry.get("win_rate")
        else:
            value = entry.get(value_key)
        ci = entry.get("ci") or {}
        return Reading(
            None if value is None else float(value),
            entry.get("lower_bound"),
            entry.get("upper_bound", ci.get("high")),
            valid=int(entry.get("n") or 0),
            items=entry.get("items"),
            missing=None if value is not None else f"no valid {what} for '{model}'",
            versus=versus,
            units=entry.get("units"),
            range=_range(entry),
        )

    return read


def _ranked(key: str) -> Reader:
    """A figure of the Bradley–Terry ranking: `rank` (bounds: the best and worst rank the bootstrap
    allows, one-sided 95 %) or `win_rate` (predicted vs the anchor, one-sided 95 % bootstrap bounds)."""

    def read(ctx: RunFigures, model: str, tag: str | None) -> Reading:
        if tag is not None:
            return _absent("the ranking is not broken down by tag")
        ranking = ctx.summary.get("ranking") or {}
        entry = (ranking.get("models") or {}).get(model)
        if entry is None:
            why = "no ranking in this run (rank two or more candidates, or use --ranking round_robin)"
            return _absent(why if not ranking else f"'{model}' is not ranked (no valid battle)")
        bounds = ("rank_lower", "rank_upper") if key == "rank" else ("lower_bound", "upper_bound")
        return Reading(
            float(entry[key]), entry.get(bounds[0]), entry.get(bounds[1]), valid=int(entry.get("battles") or 0),
            items=entry.get("items"), versus=str(ranking.get("anchor")) if key == "win_rate" else None,
        )

    return read


def _cost(key: str) -> Reader:
    def read(ctx: RunFigures, model: str, tag: str | None) -> Reading:
        if tag is not None:
            return _absent("cost is not broken down by tag")
        entry = ((ctx.summary.get("cost") or {}).get("models") or {}).get(model)
        if entry is None:
            return _absent(f"no cost for '{model}' (no token usage or no price)")
        value = entry.get(key)
        return _absent(entry.get("missing") or f"no price for '{model}'") if value is None else Reading(float(value))

    return read


def _regressions(ctx: RunFigures, model: str, tag: str | None) -> Reading:
    if tag is not None:
        return _absent("regressions are not broken down by tag")
    entry = (ctx.summary.get("comparison") or {}).get(model)
    if entry is None:
        return _absent(f"'{model}' is not compared with a baseline in this run")
    return Reading(float(entry["regressions"]), valid=int(entry.get("paired") or 0), versus=entry.get("baseline"))


def metric_reader(name: str) -> Reader:
    def read(ctx: RunFigures, model: str, tag: str | None) -> Reading:
        block = _model_block(ctx, model, tag)
        if isinstance(block, Reading):
            return block
        entry = (block.get("metrics") or {}).get(name)
        if entry is None or entry.get("value") is None:
            return _absent(f"metric '{name}' was not computed for '{model}'")
        ci = entry.get("ci") or {}
        return Reading(
            float(entry["value"]),
            entry.get("lower_bound", ci.get("low")),
            entry.get("upper_bound", ci.get("high")),
            valid=entry.get("n"),
            units=entry.get("units"),
            range=_range(entry),
        )

    return read


FIGURES: dict[str, Figure] = {
    figure.name: figure
    for figure in (
        Figure("pass_rate", "share of answered cases whose checks all pass", "fraction",
               _rate("passed", "answered", "pass_rate")),
        Figure("error_rate", "share of requests that failed (timeouts, rate limits, ...)", "fraction",
               _rate("errors", "results", "error_rate"), higher_is_better=False),
        Figure("latency_p50", "median latency per request, seconds", "seconds",
               _model_value("latency_p50_s", "latency"), higher_is_better=False, headline=False),
        Figure("latency_p95", "95th percentile latency per request, seconds", "seconds",
               _model_value("latency_p95_s", "latency"), higher_is_better=False),
        Figure("win_rate", "pairwise win rate vs the baseline (LLM judge, both orders)", "fraction",
               _judged("pairwise", "win_rate", "pairwise judgments"), judged=True, per_candidate=True),
        Figure("soft_win_rate", "win rate from the judge's token probabilities", "fraction",
               _judged("pairwise", "soft", "pairwise judgments"), judged=True, per_candidate=True, headline=False),
        Figure("rubric", "mean rubric score (LLM judge)", "score",
               _judged("rubric", "mean", "rubric grades"), judged=True),
        Figure("closed_qa", "share of answers the judge found consistent with the reference", "fraction",
               _judged("closed_qa", "mean", "closed-QA grades"), judged=True),
        Figure("regressions", "cases the baseline passes and the candidate fails or errs (checks, no judge needed)",
               "score", _regressions, per_candidate=True, higher_is_better=False, section="comparison"),
        Figure("rank", "rank in the Bradley–Terry ranking (1 = best; bound: the worst rank the bootstrap allows)",
               "score", _ranked("rank"), judged=True, higher_is_better=False, headline=False),
        Figure("bt_win_rate", "Bradley–Terry predicted win rate vs the baseline (the ranking's anchor)", "fraction",
               _ranked("win_rate"), judged=True, headline=False),
        Figure("label_pass_rate", "share of answers the label judge gave a passing label", "fraction",
               _judged("label", "pass_rate", "label judgments"), judged=True),
        Figure("cost_per_1k", "cost of 1,000 requests at this run's mean token counts", "money",
               _cost("per_1k_requests"), higher_is_better=False),
        Figure("monthly_cost", "projected monthly cost at the configured request volume", "money",
               _cost("monthly"), higher_is_better=False, headline=False),
    )
}


@dataclass
class RunFigures:
    """Figures of one run directory: summary.json plus the run.json facts they need."""

    summary: dict[str, Any]
    run: dict[str, Any] = field(default_factory=dict)

    @property
    def models_block(self) -> dict[str, Any]:
        models: dict[str, Any] = self.summary.get("models") or {}
        return models

    @property
    def model_names(self) -> list[str]:
        names = [m["name"] for m in self.run.get("models", [])]
        return names or list(self.models_block)

    @property
    def baseline(self) -> str | None:
        judge = self.run.get("judge") or {}
        baseline = self.run.get("baseline") or judge.get("baseline") or (self.run.get("options") or {}).get("baseline")
        if baseline is None:
            for entry in (self.summary.get("pairwise") or {}).values():
                return str(entry.get("baseline"))
        return str(baseline) if baseline is not None else None

    @property
    def candidates(self) -> list[str]:
        """Models under test: every model but the baseline (all of them without one)."""
        baseline = self.baseline
        return [name for name in self.model_names if name != baseline] or self.model_names

    def metric_names(self) -> list[str]:
        names: dict[str, None] = {}
        for block in self.models_block.values():
            names.update(dict.fromkeys(block.get("metrics") or {}))
        return list(names)

    def figure(self, name: str) -> Figure | None:
        if name in FIGURES:
            return FIGURES[name]
        if name in self.metric_names():
            return Figure(name, f"reference metric {name}", "score", metric_reader(name))
        return None

    def default_models(self, figure: Figure) -> list[str]:
        if figure.per_candidate:
            return list(self.summary.get(figure.section) or {})
        return self.candidates

    def read(self, figure: Figure, model: str, tag: str | None = None) -> Reading:
        return figure.read(self, model, tag)


def format_value(value: float | None, kind: Kind) -> str:
    if value is None:
        return "-"
    if kind == "fraction":
        return f"{100 * value:.1f}%"
    if kind == "seconds":
        return f"{value:.2f}s"
    if kind == "money":
        return f"${value:,.4f}" if abs(value) < 1 else f"${value:,.2f}"
    return f"{value:.4g}"
