"""Regression analysis between two runs of the same suite, case by case.

For each model present in both runs (or the single candidate of each): pass/fail flips of the
cases both runs answered, with the exact McNemar test; the pass-rate and every reference
metric's change with a paired bootstrap CI (cases resampled together); the win-rate change
over the items judged validly in both runs; cases added, removed, newly erroring.
A regression is significant when McNemar rejects at `alpha` with more pass -> fail than
fail -> pass flips, or a paired interval of a metric or the win rate lies wholly below zero.

What a small sample cannot show is said, not implied: each model records the fewest pass -> fail
flips McNemar would call significant, and whether its paired cases could hold that many. BLEU
and chrF are corpus-level figures, so the diff shows each run's corpus value (from summary.json);
the per-case sentence scores appear only as rows labelled "(sentence mean)".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from harness.checks.base import check_text
from harness.errors import UsageError
from harness.metrics.options import CORPUS_METRICS
from harness.report.comparison import power_note
from harness.run.store import RunData
from harness.stats.mcnemar import McNemarResult, mcnemar_exact, smallest_significant_regressions
from harness.stats.paired import PairedDelta, paired_bootstrap

Key = tuple[str, int]  # (case id, repeat)


@dataclass
class Flip:
    case_id: str
    repeat: int
    tags: list[str]
    input: str
    base_output: str | None
    new_output: str | None
    reasons: list[str]  # the failing checks on the failing side


@dataclass
class ModelDiff:
    base_model: str
    new_model: str
    paired: int
    regressed: list[Flip]
    fixed: list[Flip]
    new_errors: list[str]
    fixed_errors: list[str]
    mcnemar: McNemarResult
    pass_rate: PairedDelta | None
    metrics: dict[str, PairedDelta]
    win_rate: PairedDelta | None
    alpha: float = 0.05
    corpus: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)  # run-level BLEU, chrF
    reasons: list[str] = field(default_factory=list)  # why it is a significant regression

    @property
    def label(self) -> str:
        return self.new_model if self.base_model == self.new_model else f"{self.base_model} → {self.new_model}"

    @property
    def significant_regression(self) -> bool:
        return bool(self.reasons)

    @property
    def needed_flips(self) -> int | None:
        """The fewest pass -> fail flips McNemar would call significant, given the fail -> pass flips."""
        return smallest_significant_regressions(self.mcnemar.improvements, self.alpha)

    @property
    def detectable(self) -> bool:
        """Whether these paired cases could show a significant pass -> fail regression at all."""
        needed = self.needed_flips
        return needed is not None and needed + self.mcnemar.improvements <= self.paired

    @property
    def inconclusive(self) -> bool:
        """Not significant, yet not a clean bill: flips went the wrong way, or none could have counted."""
        return not self.significant_regression and (self.mcnemar.regressions > 0 or not self.detectable)

    def power_note(self) -> str | None:
        """What this sample cannot show, in one sentence; None when there is nothing to say."""
        if not self.inconclusive:
            return None
        test = self.mcnemar
        return power_note(test.regressions, test.improvements, self.paired, test.p_value, self.alpha, self.needed_flips)


@dataclass
class RunDiff:
    base: RunData
    new: RunData
    alpha: float
    suite_name: str
    suite_changed: bool
    added: list[str]
    removed: list[str]
    models: list[ModelDiff]
    max_flips: int | None = None  # --max-flips: more pass -> fail flips than this fail, whatever p

    @property
    def significant_regression(self) -> bool:
        return any(m.significant_regression for m in self.models)

    @property
    def inconclusive(self) -> bool:
        return not self.significant_regression and any(m.inconclusive for m in self.models)

    def too_many_flips(self) -> list[ModelDiff]:
        """Models with more pass -> fail flips than --max-flips allows."""
        if self.max_flips is None:
            return []
        return [m for m in self.models if m.mcnemar.regressions > self.max_flips]


def _index(data: RunData, model: str) -> dict[Key, dict[str, Any]]:
    return {(str(r["case_id"]), int(r.get("repeat") or 0)): r for r in data.results if r["model"] == model}


def _failing(record: dict[str, Any]) -> list[str]:
    return [check_text(c) for c in record.get("checks") or [] if not c.get("passed")]


def _flip(key: Key, base: dict[str, Any], new: dict[str, Any], failing: dict[str, Any]) -> Flip:
    return Flip(key[0], key[1], list(new.get("tags") or []), str(new.get("input") or ""), base.get("output"),
                new.get("output"), _failing(failing))


def _pairwise_scores(data: RunData, candidate: str) -> dict[Key, float]:
    scores = {}
    for line in data.judgments:
        if (line.get("kind") == "pairwise" and line.get("candidate") == candidate and line.get("score") is not None
                and line.get("versus_baseline", True)):  # a round robin's battles between candidates are not vs the baseline
            scores[(str(line["case_id"]), int(line.get("repeat") or 0))] = float(line["score"])
    return scores


def _pair_models(base: RunData, new: RunData, only: list[str]) -> list[tuple[str, str]]:
    base_names, new_names = base.model_names, new.model_names
    if only:
        missing = [m for m in only if m not in base_names or m not in new_names]
        if missing:
            raise UsageError(f"model '{missing[0]}' is not in both runs (base: {', '.join(base_names)}; "
                             f"new: {', '.join(new_names)})")
        return [(m, m) for m in only]
    common = [m for m in new_names if m in base_names]
    if common:
        return [(m, m) for m in common]
    if len(base_names) == 1 and len(new_names) == 1:
        return [(base_names[0], new_names[0])]
    raise UsageError(f"the runs share no model name (base: {', '.join(base_names)}; new: {', '.join(new_names)}): "
                     "pick one with --model")


def diff_model(base: RunData, new: RunData, base_model: str, new_model: str, alpha: float, seed: int) -> ModelDiff:
    before, after = _index(base, base_model), _index(new, new_model)
    regressed, fixed, new_errors, fixed_errors = [], [], [], []
    base_pass: list[float] = []
    new_pass: list[float] = []
    metric_pairs: dict[str, tuple[list[float], list[float]]] = {}
    for key, record in after.items():
        old = before.get(key)
        if old is None:
            continue
        old_error, new_error = old.get("error") is not None, record.get("error") is not None
        if new_error and not old_error:
            new_errors.append(key[0])
        elif old_error and not new_error:
            fixed_errors.append(key[0])
        if old_error or new_error:
            continue
        was, now = bool(old.get("passed")), bool(record.get("passed"))
        base_pass.append(float(was))
        new_pass.append(float(now))
        if was and not now:
            regressed.append(_flip(key, old, record, record))
        elif now and not was:
            fixed.append(_flip(key, old, record, old))
        old_metrics, new_metrics = old.get("metrics") or {}, record.get("metrics") or {}
        for name, value in new_metrics.items():
            if isinstance(value, (int, float)) and isinstance(old_metrics.get(name), (int, float)):
                label = f"{name} (sentence mean)" if name in CORPUS_METRICS else name
                pair = metric_pairs.setdefault(label, ([], []))
                pair[0].append(float(old_metrics[name]))
                pair[1].append(float(value))
    test = mcnemar_exact(len(regressed), len(fixed))
    pass_rate = paired_bootstrap(base_pass, new_pass, seed=seed)
    metrics = {}
    for name, (old_values, new_values) in metric_pairs.items():
        delta = paired_bootstrap(old_values, new_values, seed=seed)
        if delta is not None:
            metrics[name] = delta
    old_scores, new_scores = _pairwise_scores(base, base_model), _pairwise_scores(new, new_model)
    common = [key for key in new_scores if key in old_scores]
    win_rate = paired_bootstrap([old_scores[k] for k in common], [new_scores[k] for k in common], seed=seed)

    result = ModelDiff(base_model, new_model, len(base_pass), regressed, fixed, new_errors, fixed_errors, test,
                       pass_rate, metrics, win_rate, alpha, _corpus_figures(base, new, base_model, new_model))
    if test.p_value < alpha and test.regressions > test.improvements:
        result.reasons.append(
            f"{test.regressions} cases went pass → fail and {test.improvements} fail → pass (exact McNemar p = {test.p_value:.3g})"
        )
    for name, delta in metrics.items():
        if delta.interval.high < 0:
            result.reasons.append(f"{name} fell by {-delta.delta:.4g} (95% CI {delta.interval.low:.4g} to {delta.interval.high:.4g})")
    if win_rate is not None and win_rate.interval.high < 0:
        result.reasons.append(
            f"win rate fell by {100 * -win_rate.delta:.1f} points (95% CI {100 * win_rate.interval.low:.1f} to "
            f"{100 * win_rate.interval.high:.1f})"
        )
    return result


def _corpus_figures(
    base: RunData, new: RunData, base_model: str, new_model: str
) -> dict[str, tuple[float | None, float | None]]:
    """Each run's own corpus BLEU / chrF for the model, as its summary reports them."""

    def value(data: RunData, model: str, name: str) -> float | None:
        metrics = (((data.summary or {}).get("models") or {}).get(model) or {}).get("metrics") or {}
        figure = metrics.get(name) or {}
        return float(figure["value"]) if figure.get("value") is not None else None

    figures = {}
    for name in CORPUS_METRICS:
        before, after = value(base, base_model, name), value(new, new_model, name)
        if before is not None or after is not None:
            figures[name] = (before, after)
    return figures


def _case_ids(data: RunData) -> list[str]:
    return list(dict.fromkeys(str(r["case_id"]) for r in data.results))


def diff_runs(base: RunData, new: RunData, models: list[str] | None = None, alpha: float = 0.05,
              seed: int = 20240521, max_flips: int | None = None) -> RunDiff:
    """Compare two runs of the same suite. Raises UsageError when they are of different suites."""
    base_suite, new_suite = base.run.get("suite") or {}, new.run.get("suite") or {}
    if base_suite.get("name") != new_suite.get("name"):
        raise UsageError(
            f"the runs are of different suites ('{base_suite.get('name')}' and '{new_suite.get('name')}'): "
            "harness diff compares two runs of one suite"
        )
    if not 0 < alpha < 1:
        raise UsageError("--alpha must lie between 0 and 1")
    base_ids, new_ids = _case_ids(base), _case_ids(new)
    base_set, new_set = set(base_ids), set(new_ids)
    pairs = _pair_models(base, new, models or [])
    return RunDiff(
        base=base,
        new=new,
        alpha=alpha,
        suite_name=str(new_suite.get("name")),
        suite_changed=base_suite.get("sha256") != new_suite.get("sha256"),
        added=[case for case in new_ids if case not in base_set],
        removed=[case for case in base_ids if case not in new_set],
        models=[diff_model(base, new, a, b, alpha, seed) for a, b in pairs],
        max_flips=max_flips,
    )
