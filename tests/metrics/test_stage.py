"""The scoring stage: per-case metrics on records, metric checks, run-level figures with intervals."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import sacrebleu
from rouge_score import rouge_scorer

from harness.metrics.aggregate import MetricAggregator
from harness.metrics.engine import score_pairs
from harness.metrics.options import OPTION_MODELS, TEXT_METRICS, ClassificationOptions, SquadOptions
from harness.metrics.plan import MetricPlan
from harness.metrics.stage import ScoringStage
from harness.run.summary import summarize
from harness.stats.bootstrap import DEFAULT_SEED, percentile_interval
from harness.stats.bounds import mean_bounds
from harness.suite.schema import CheckSpec
from tests.metrics.corpus import varied_corpus

TEXT_PLAN = MetricPlan(text=tuple((name, OPTION_MODELS[name]()) for name in TEXT_METRICS))
PAIRS = [(p, r) for p, r in varied_corpus(40) if p.strip()]


def _record(case_id: str, output: str | None, references: list[str], tags: list[str] | None = None,
            error: dict[str, str] | None = None, model: str = "m", repeat: int = 0) -> dict[str, Any]:
    return {"case_id": case_id, "model": model, "repeat": repeat, "output": output, "references": references,
            "tags": tags or [], "error": error, "checks": [], "passed": None if error else True}


def _records() -> list[dict[str, Any]]:
    records = [_record(f"c{i}", p, r, tags=["odd"] if i % 2 else ["even"]) for i, (p, r) in enumerate(PAIRS)]
    records.append(_record("no-reference", "an answer", []))
    records.append(_record("errored", None, ["a reference"], error={"kind": "timeout", "message": "slow"}))
    return records


def test_records_get_reference_equal_metrics_and_absent_metrics_stay_absent() -> None:
    records = _records()
    ScoringStage(TEXT_PLAN).score(records)
    rouge = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL", "rougeLsum"], use_stemmer=True)
    for record in records[: len(PAIRS)]:
        assert list(record["metrics"]) == list(TEXT_METRICS)
        expected = rouge.score_multi(record["references"], record["output"])
        for kind, score in expected.items():
            assert record["metrics"][kind] == pytest.approx(score.fmeasure, abs=1e-9)
        assert record["metrics"]["bleu"] == pytest.approx(
            sacrebleu.sentence_bleu(record["output"], record["references"]).score, abs=1e-9
        )
        assert record["metrics"]["chrf"] == pytest.approx(
            sacrebleu.sentence_chrf(record["output"], record["references"]).score, abs=1e-9
        )
        assert len(record["metric_stats"]["bleu"]) == 10 and len(record["metric_stats"]["chrf"]) == 18
    no_reference, errored = records[-2], records[-1]
    assert "metrics" not in no_reference and "metrics" not in errored


def test_worker_processes_give_the_same_scores() -> None:
    pairs = [(p, tuple(r)) for p, r in PAIRS] * 2  # repeated pairs are scored once
    single = score_pairs(TEXT_PLAN, pairs, workers=1)
    parallel = score_pairs(TEXT_PLAN, pairs, workers=2)
    assert [s.metrics for s in single] == [s.metrics for s in parallel]
    assert [s.stats for s in single] == [s.stats for s in parallel]


def test_summary_figures_equal_reference_implementations() -> None:
    records = _records()
    stage = ScoringStage(TEXT_PLAN)
    stage.score(records)
    summary = summarize(records, ["m"])
    stage.add_to_summary(summary, records)
    block = summary["models"]["m"]
    scored = records[: len(PAIRS)]
    n = len(scored)
    for name in ("exact_match", "token_f1", "rouge1", "rouge2", "rougeL", "rougeLsum"):
        values = [r["metrics"][name] for r in scored]
        figure = block["metrics"][name]
        assert figure["n"] == n
        assert figure["value"] == pytest.approx(sum(values) / n)
        # Means of [0, 1] metrics carry the bounds valid at every n, computed over the cases.
        bounds = mean_bounds(values)
        assert figure["ci"] == pytest.approx(bounds.interval.as_dict())
        assert (figure["lower_bound"], figure["upper_bound"]) == pytest.approx((bounds.lower, bounds.upper))
        assert figure["method"] == bounds.method and figure["units"] == n
    predictions = [r["output"] for r in scored]
    streams = [[r["references"][i] if i < len(r["references"]) else None for r in scored] for i in range(3)]
    assert block["metrics"]["bleu"]["value"] == pytest.approx(sacrebleu.corpus_bleu(predictions, streams).score, abs=1e-9)
    assert block["metrics"]["chrf"]["value"] == pytest.approx(sacrebleu.corpus_chrf(predictions, streams).score, abs=1e-9)
    assert block["metrics"]["bleu"]["sentence_mean"] == pytest.approx(np.mean([r["metrics"]["bleu"] for r in scored]))
    odd = [r for r in scored if "odd" in r["tags"]]
    odd_streams = [[r["references"][i] if i < len(r["references"]) else None for r in odd] for i in range(3)]
    odd_block = block["by_tag"]["odd"]["metrics"]
    assert odd_block["bleu"]["n"] == len(odd)
    assert odd_block["bleu"]["value"] == pytest.approx(
        sacrebleu.corpus_bleu([r["output"] for r in odd], odd_streams).score, abs=1e-9
    )
    assert summary["metric_settings"]["bleu"]["tokenize"] == "13a"


def test_corpus_bleu_interval_resamples_cases_and_recomputes_the_corpus_score() -> None:
    records = [_record(f"c{i}", p, r) for i, (p, r) in enumerate(PAIRS[:12])]
    ScoringStage(TEXT_PLAN).score(records)
    metrics, _ = MetricAggregator(TEXT_PLAN, resamples=60).block(records)
    rng = np.random.default_rng(DEFAULT_SEED)
    resampled = []
    for row in rng.integers(0, len(records), size=(60, len(records))):
        chosen = [records[i] for i in row]
        streams = [[r["references"][k] if k < len(r["references"]) else None for r in chosen] for k in range(3)]
        resampled.append(sacrebleu.corpus_bleu([r["output"] for r in chosen], streams).score)
    assert metrics["bleu"]["ci"] == pytest.approx(percentile_interval(np.array(resampled)).as_dict(), abs=1e-9)
    # corpus figures: one-sided 95 % bounds are the bootstrap's 5 % and 95 % quantiles, marked as such
    assert metrics["bleu"]["method"] == "bootstrap"
    assert metrics["bleu"]["lower_bound"] == pytest.approx(float(np.quantile(resampled, 0.05)), abs=1e-9)


def test_repeats_are_resampled_together_and_counted_as_results() -> None:
    plan = MetricPlan(text=(("exact_match", SquadOptions()),))
    records = [
        _record("a", "Paris", ["Paris"], repeat=0),
        _record("a", "Lyon", ["Paris"], repeat=1),
        _record("b", "Rome", ["Rome"], repeat=0),
        _record("b", "Rome", ["Rome"], repeat=1),
    ]
    ScoringStage(plan).score(records)
    metrics, _ = MetricAggregator(plan, resamples=200).block(records)
    assert metrics["exact_match"]["value"] == pytest.approx(0.75)
    assert metrics["exact_match"]["n"] == 4
    # The unit is the case: a averages 0.5, b 1.0, so n=2 units and a bounded mean, not a count.
    figure = metrics["exact_match"]
    assert figure["units"] == 2 and figure["method"] == "hoeffding-bentkus"
    assert figure["lower_bound"] == pytest.approx(mean_bounds([0.5, 1.0]).lower)
    assert figure["lower_bound"] < 0.75 < figure["upper_bound"]


def test_classification_stage_and_summary() -> None:
    plan = MetricPlan(classification=ClassificationOptions(labels=["cat", "dog", "bird"]))
    outputs = {
        "1": ("It is a cat.", "cat"), "2": ("dog", "cat"), "3": ("no idea", "cat"), "4": ("DOG", "dog"),
        "5": ("a dog!", "dog"), "6": ("bird", "bird"), "7": ("cat", "bird"), "8": ("cat or bird", "bird"),
    }
    records = [_record(k, out, [ref]) for k, (out, ref) in outputs.items()]
    stage = ScoringStage(plan)
    stage.score(records)
    assert [r["label"]["predicted"] for r in records] == ["cat", "dog", None, "dog", "dog", "bird", "cat", None]
    assert [r["metrics"]["accuracy"] for r in records] == [1.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.0, 0.0]
    summary = summarize(records, ["m"])
    stage.add_to_summary(summary, records)
    block = summary["models"]["m"]
    assert block["metrics"]["accuracy"]["value"] == pytest.approx(0.5)
    assert block["metrics"]["f1_macro"]["value"] == pytest.approx((0.4 + 0.8 + 0.5) / 3)
    assert block["metrics"]["f1_micro"]["ci"] is not None
    assert block["classification"]["confusion_matrix"]["matrix"] == [[1, 1, 0, 1], [0, 2, 0, 0], [1, 0, 1, 1]]
    assert block["classification"]["unmatched"] == 2


def test_metric_checks_fail_cases_and_recompute_passed() -> None:
    plan = MetricPlan(
        text=(("token_f1", SquadOptions()),),
        checks={
            "a": [CheckSpec(metric="token_f1", min=0.5)],
            "b": [CheckSpec(metric="token_f1", min=0.2, max=0.6, name="partial answer")],
            "c": [CheckSpec(metric="token_f1", min=0.5)],
        },
    )
    records = [
        _record("a", "the quick brown fox", ["quick fox jumps"]),  # F1 2/3
        _record("b", "the quick brown fox", ["quick fox jumps"]),
        _record("c", None, ["x"], error={"kind": "timeout", "message": "slow"}),
    ]
    records[0]["checks"] = [{"name": "max_words: 10", "passed": True, "reason": "4 words"}]
    ScoringStage(plan).score(records)
    assert records[0]["checks"][-1] == {"name": "token_f1 >= 0.5", "passed": True, "reason": "token_f1 = 0.6667 (>= 0.5)"}
    assert records[0]["passed"] is True
    assert records[1]["checks"] == [
        {"name": "partial answer", "passed": False, "reason": "token_f1 = 0.6667, above the maximum 0.6"}
    ]
    assert records[1]["passed"] is False
    assert records[2]["checks"] == [] and records[2]["passed"] is None
